"""Binaries: each built module carries exactly the metadata its source declares today.

Binaries are found under ``--binaries DIR`` (recursively) as ``<module>.so``,
the name the loader goes by. Each is read without loading it (``buildtool.elfinfo``),
so modules built for another architecture are checked on the build host. The
record is compared field by field with what the generator would inject today
(``generate.record_fields`` of the scanned module and the hash of its source
bytes): a different source hash means the binary was built from another
version of the source (``binary-stale``); the same hash with other data means
the record was edited or built against another tree or catalogue
(``binary-metadata``).
"""

from __future__ import annotations

import os
from typing import Mapping

from buildtool.check import at_module
from buildtool.diagnostics import Diagnostic, error, warning
from buildtool.elfinfo import Binary, read_binary
from buildtool.errors import RecordError
from buildtool.generate import record_fields, source_hash
from buildtool.loader.abi import layout_mismatch
from buildtool.model import Module, Tree

SKIP_DIRS = {"meson-private", "meson-logs", "meson-info", ".git", "__pycache__"}
# Record keys that do not come from MODULEINFO (the description is the C code's;
# "struct" says whose struct ast_module_info the module fills: "asterisk" for
# Asterisk's own build through asterisk-setup).
NOT_FROM_MODULEINFO = {"name", "description", "struct"}


def discover(directory: str) -> list[str]:
    """Every ``*.so`` under ``directory``; OSError when a directory cannot be listed (an I/O error,
    not a tree of missing binaries)."""
    found = []

    def fail(exc: OSError) -> None:
        raise exc

    for root, dirs, files in os.walk(directory, onerror=fail):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".p"))
        found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".so"))
    return found


def expected_fields(module: Module, source: bytes) -> dict[str, str]:
    return dict(record_fields(module, source_hash(source)))


def differences(module: Module, source: bytes, fields: Mapping[str, str]) -> list[dict[str, str]]:
    expected = expected_fields(module, source)
    out = []
    for key in sorted(set(expected) | (set(fields) - NOT_FROM_MODULEINFO)):
        want, got = expected.get(key), fields.get(key)
        if want != got:
            out.append({"field": key, "binary": got, "source": want})
    return out


def _show(diffs: list[dict[str, str]]) -> str:
    shown = [f"{d['field']}: binary {d['binary']!r}, source {d['source']!r}" for d in diffs
             if d["field"] != "source_hash"]
    return "; ".join(shown)


def check(tree: Tree, sources: Mapping[str, bytes], directory: str,
          disabled: Mapping[str, str]) -> tuple[list[Diagnostic], dict[str, Binary]]:
    findings: list[Diagnostic] = []
    by_module: dict[str, Binary] = {}
    if not os.path.isdir(directory):
        findings.append(error(directory, 0, 0, "io-error", "--binaries: no such directory"))
        return findings, by_module
    try:
        paths = discover(directory)
    except OSError as exc:
        findings.append(error(exc.filename or directory, 0, 0, "io-error",
                              f"--binaries: cannot list the directory: {exc.strerror or exc}"))
        return findings, by_module
    unreadable = set()
    for path in paths:
        stem = os.path.basename(path)[:-3]
        module = tree.modules.get(stem)
        try:
            binary = read_binary(path)
        except RecordError as exc:
            findings.append(error(path, 0, 0, "binary-unreadable", exc.reason,
                                  module=stem if module else None, data={"binary": path}))
            unreadable.add(stem)  # its binary is there, only unreadable: not also binary-missing
            continue
        if binary.record is None and binary.abi_version is None and module is None:
            continue  # some other shared object (a helper library): not a module
        if stem in by_module:
            findings.append(warning(path, 0, 0, "binary-duplicate",
                                    f"second binary for {stem} (first: {by_module[stem].path}); this one is ignored",
                                    module=stem, data={"binary": path, "first": by_module[stem].path}))
            continue
        if module is None:
            name = binary.record.name if binary.record else stem
            findings.append(warning(path, 0, 0, "binary-unknown",
                                    f"module binary {os.path.basename(path)} ({name}) has no source in the scanned tree",
                                    data={"binary": path}))
            continue
        by_module[stem] = binary
        findings.extend(_check_one(module, sources.get(stem), binary))
    for name in sorted(tree.modules):
        if name not in by_module and name not in disabled and name not in unreadable:
            module = tree.modules[name]
            findings.append(error(*at_module(module), "binary-missing",
                                  f"{name} has no binary {name}.so under {directory} and is not disabled",
                                  module=name, data={"binaries": directory}))
    return findings, by_module


def _check_one(module: Module, source: bytes | None, binary: Binary) -> list[Diagnostic]:
    name = module.name
    at = at_module(module)
    rel = binary.path
    mismatch = (layout_mismatch(binary.abi_version, binary.struct_size, binary.elfclass)
                if binary.abi_version is not None else None)
    if mismatch and mismatch.field == "abi_version":
        return [error(*at, "abi-version",
                      f"{rel}: module record ABI version {mismatch.found}, module.h has {mismatch.expected}; "
                      "rebuild it against this module.h", module=name,
                      data={"binary": rel, "abi_version": mismatch.found, "expected": mismatch.expected})]
    if binary.record is None:
        return [error(*at, "binary-foreign", f"{rel} is not a build of {name}: {binary.record_error}",
                      module=name, data={"binary": rel})]
    findings = []
    # A module built by Asterisk's own make (asterisk-setup) carries Asterisk's struct,
    # whose shape asterisk-setup checked against that tree's module.h.
    asterisk_struct = binary.record.fields.get("struct") == "asterisk"
    if mismatch and not asterisk_struct:
        findings.append(error(*at, "struct-size",
                              f"{rel}: struct ast_module_info is {mismatch.found} bytes, module.h gives "
                              f"{mismatch.expected} on a {binary.elfclass}-bit target", module=name,
                              data={"binary": rel, "struct_size": mismatch.found, "expected": mismatch.expected}))
    if binary.record.name != name:
        findings.append(error(*at, "binary-foreign",
                              f"{rel} carries the record of module '{binary.record.name}', not of {name}",
                              module=name, data={"binary": rel, "record_name": binary.record.name}))
        return findings
    if source is None:
        return findings
    diffs = differences(module, source, binary.record.fields)
    if not diffs:
        return findings
    hash_diff = next((d for d in diffs if d["field"] == "source_hash"), None)
    data = {"binary": rel, "differences": diffs}
    if hash_diff:
        detail = _show(diffs)
        what = f"; metadata differs: {detail}" if detail else "; its metadata is unchanged, the code is not"
        findings.append(error(*at, "binary-stale",
                              f"{rel} was built from another version of {module.source} "
                              f"(source hash {hash_diff['binary'] or 'none'}, source is now {hash_diff['source']})"
                              f"{what}; rebuild it", module=name, data=data))
    else:
        findings.append(error(*at, "binary-metadata",
                              f"{rel} carries metadata its unchanged source does not declare: {_show(diffs)}; "
                              "hand-edited, or built with another tree or catalogue", module=name, data=data))
    return findings
