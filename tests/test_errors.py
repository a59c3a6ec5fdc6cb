"""One error base class (buildtool/errors.py): what stops a command carries its exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from buildtool import errors
from buildtool.elfinfo import read_binary
from buildtool.elfinfo import read_record
from buildtool.loader.dl import Dl, DlError


@pytest.mark.parametrize(("cls", "status"), [
    (errors.InputError, 2), (errors.UnreadableInput, 2), (errors.RecordError, 2), (errors.MetaError, 2),
    (errors.AbiError, 2), (errors.NotProvided, 2), (DlError, 2),
    (errors.ChangedMeanwhile, 1), (errors.StartupStopped, 1), (errors.CommandError, 1)])
def test_every_error_derives_from_the_base_and_carries_its_status(cls, status):
    assert issubclass(cls, errors.BuildtoolError) and cls.exit_status == status


def test_record_error_keeps_path_and_reason_apart(tmp_path):
    path = tmp_path / "res_text.so"
    path.write_text("not a module\n")
    for reader in (read_binary, read_record):
        with pytest.raises(errors.RecordError) as info:
            reader(str(path))
        assert (info.value.path, info.value.reason) == (str(path), "not an ELF file")
        assert str(info.value) == f"{path}: not an ELF file"


def test_dlopen_failure_is_a_buildtool_error_and_an_os_error(tmp_path):
    with pytest.raises(DlError) as info:
        Dl().open(str(tmp_path / "absent.so"), 1)
    assert isinstance(info.value, OSError) and info.value.render() == f"buildtool: error: {info.value}"


def test_unreadable_path_stops_scan_with_status_2_and_writes_nothing(tmp_path):
    out = tmp_path / "tree.json"
    done = subprocess.run([sys.executable, "-m", "buildtool", "scan", "--format", "json", "-o", str(out),
                           str(tmp_path / "no_such_dir")], capture_output=True, text=True)
    assert done.returncode == 2 and not out.exists()
    assert done.stderr == f"{tmp_path / 'no_such_dir'}:0:0: error: no such file or directory [io-error]\n"


def test_no_exception_class_outside_the_base():
    # Every module of the package imported: an exception class added anywhere without the base
    # (and so without an exit status the CLI can return) fails here.
    import importlib
    import inspect
    import pkgutil

    import buildtool

    outside = []
    for info in pkgutil.walk_packages(buildtool.__path__, "buildtool."):
        if info.name.endswith("__main__"):
            continue  # running it is what importing it does
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == info.name and issubclass(obj, BaseException)
                    and not issubclass(obj, errors.BuildtoolError)):
                outside.append(f"{info.name}.{name}")
    assert outside == []
