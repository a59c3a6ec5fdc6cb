"""What menuselect left out of an Asterisk build, read from a menuselect.makeopts written here in the shape
menuselect writes it (categories list their deselected members, positive-output ones their selected ones;
MENUSELECT_DEPSFAILED=CATEGORY=NAME for each member whose dependencies failed)."""

from __future__ import annotations

from buildtool.asterisk import makeopts

DESELECTED = "deselected in menuselect (menuselect.makeopts)"
FAILED = "its dependencies are not met (menuselect.makeopts: MENUSELECT_DEPSFAILED)"


def test_deselected_and_failed_members(tmp_path):
    (tmp_path / "menuselect.makeopts").write_bytes(
        b"MENUSELECT_CFLAGS=DONT_OPTIMIZE LOADABLE_MODULES \n"
        b"MENUSELECT_OPTS=FILE_STORAGE\n"
        b"MENUSELECT_APPS=app_skel app_ivrdemo \n"
        b"MENUSELECT_RES=res_curl res_config_ldap \n"
        b"MENUSELECT_FUNCS= \n"
        b"MENUSELECT_DEPSFAILED=MENUSELECT_RES=res_curl \n"
        b"MENUSELECT_DEPSFAILED=MENUSELECT_FUNCS=func_curl\n"
        b"# caf\xe9: menuselect writes bytes, not UTF-8\n"
        b"OTHER=res_unrelated\n")
    assert makeopts.menuselect_disabled(str(tmp_path)) == {
        "app_skel": DESELECTED, "app_ivrdemo": DESELECTED, "res_config_ldap": DESELECTED,
        "res_curl": FAILED, "func_curl": FAILED,
    }


def test_no_menuselect_run_means_nothing_left_out(tmp_path):
    assert makeopts.menuselect_disabled(str(tmp_path)) == {}
    (tmp_path / "menuselect.makeopts").mkdir()
    assert makeopts.menuselect_disabled(str(tmp_path)) == {}
