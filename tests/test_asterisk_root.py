"""A real Asterisk root (the shared snapshot): scan it, and write its menuselect-tree.

The snapshot is ``../shared/asterisk/asterisk-*.tar.*`` beside the repository
(every tarball found there is tested). It is extracted and configured once per
module, and ``make menuselect.makeopts`` writes the reference ``menuselect-tree``
and builds Asterisk's own ``menuselect/menuselect``. Without the directory (a
user's fresh clone) every test here skips, saying why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from buildtool.scan import scan_root

import asterisk_tree

TARBALLS = asterisk_tree.tarballs()


@pytest.fixture(scope="module", params=TARBALLS or [None], ids=lambda p: p.name if p else "no-snapshot")
def configured(request, configured_snapshot) -> Path:
    if request.param is None:
        pytest.skip(asterisk_tree.skip_reason())
    return configured_snapshot(request.param)


def buildtool(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "buildtool", *args], cwd=cwd, capture_output=True)


def test_xml_is_make_menuselect_tree_byte_for_byte(configured, tmp_path):
    out = tmp_path / "menuselect-tree"
    result = buildtool("scan", "--format", "xml", "-o", str(out), str(configured))
    assert result.returncode == 0, result.stderr.decode()
    assert out.read_bytes() == (configured / "menuselect-tree").read_bytes()


def _menuselect(configured: Path, tree: bytes, where: Path) -> tuple[int, bytes, bytes]:
    """Asterisk's own menuselect on ``tree``: a fresh default selection, as ``make menuselect.makeopts`` runs it."""
    (where / "build_tools").mkdir(parents=True)
    shutil.copy(configured / "build_tools" / "menuselect-deps", where / "build_tools" / "menuselect-deps")
    (where / "menuselect-tree").write_bytes(tree)
    done = subprocess.run([str(configured / "menuselect" / "menuselect"), "--check-deps", "menuselect.makeopts"],
                          cwd=where, capture_output=True)
    return done.returncode, done.stdout + done.stderr, (where / "menuselect.makeopts").read_bytes()


def test_menuselect_writes_the_same_makeopts_from_it(configured, tmp_path):
    ours = tmp_path / "ours.xml"
    assert buildtool("scan", "--format", "xml", "-o", str(ours), str(configured)).returncode == 0
    theirs = _menuselect(configured, (configured / "menuselect-tree").read_bytes(), tmp_path / "theirs")
    mine = _menuselect(configured, ours.read_bytes(), tmp_path / "mine")
    assert mine == theirs
    assert theirs[0] == 0 and b"MENUSELECT_APPS=" in theirs[2] and b"MENUSELECT_DEPSFAILED=" in theirs[2]


def test_scan_of_the_root_is_clean_and_complete(configured):
    tree, root = scan_root(str(configured))
    assert [d.render() for d in tree.diagnostics] == []
    menu = etree.fromstring((configured / "menuselect-tree").read_bytes())
    members = {m.get("name"): m for m in menu.iter("member")}
    # Every member of the menu is a module of the tree or a name of the catalogue (build options).
    assert set(tree.modules) == set(members) - root.catalog.options
    assert len(tree.modules) > 400
    for name, module in tree.modules.items():
        assert module.displayname == members[name].get("displayname"), name
        category = members[name].getparent().get("name")
        assert category.startswith("MENUSELECT_"), name
        assert Path(configured, module.category).is_dir(), name


def test_members_declared_by_makefile_rules_and_xml_files(configured):
    tree, _ = scan_root(str(configured))
    voicemail = tree.modules["app_voicemail"]
    assert voicemail.source == str(configured / "apps" / "Makefile")
    assert voicemail.support_level == "core" and voicemail.optional_modules == ("res_adsi", "res_smdi")
    assert voicemail.displayname == "Comedian Mail (Voicemail System)"
    assert tree.modules["app_voicemail_odbc"].libraries_required == ("generic_odbc",)
    assert not tree.modules["app_voicemail_imap"].default_enabled
    opus = tree.modules["codec_opus"]
    assert opus.source == str(configured / "codecs" / "codecs.xml") and opus.support_level == "external"
    assert "res_format_attr_opus" in opus.requires and "no_binary_modules" in opus.conflicts


def test_core_builtins_come_from_main(configured):
    _, root = scan_root(str(configured))
    builtins = root.catalog.builtins
    assert {"cdr", "cel", "http", "extconfig", "acl", "dnsmgr", "ccss", "enum", "udptl"} <= builtins
    assert "loader" not in builtins and "core" not in builtins
    # Every name a hand-written .requires/.optional_modules holds is a module or a core built-in.
    tree, _ = scan_root(str(configured))
    field = re.compile(rb'\.(?:requires|optional_modules)\s*=\s*"([^"]*)"')
    named = set()
    for module in tree.modules.values():
        if module.source.endswith((".c", ".cc")):
            for found in field.finditer(Path(module.source).read_bytes()):
                named |= {n.strip() for n in found.group(1).decode().split(",") if n.strip()}
    assert named and named <= set(tree.modules) | builtins, sorted(named - set(tree.modules) - builtins)


def test_json_of_the_root_validates(configured):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent.parent / "buildtool" / "schemas" / "tree.schema.json").read_text())
    result = buildtool("scan", "--format", "json", str(configured))
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema)
    assert data["schema"] == 4 and data["modules"]["app_confbridge"]["displayname"] == "Conference Bridge Application"
    # Provided names, read from each member's own C source (app_voicemail_imap is a Makefile-rule member).
    assert "application:Gosub" in data["modules"]["app_stack"]["names"]
    assert "application:VoiceMail" in data["modules"]["app_voicemail_imap"]["names"]
    assert not [d for d in data["diagnostics"] if d["code"].startswith("provided-name")]
