"""What several tests of the Asterisk integration share: small synthetic Asterisk roots (written
here, in the shapes the reader documents, and checked against real make and awk), a reduced
Asterisk ``module.h``, and the scan cache's racy-window wait."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from buildtool.asterisk import scancache

needs_make = pytest.mark.skipif(not (shutil.which("make") and shutil.which("awk") and shutil.which("grep")),
                                reason="GNU make, awk and grep are needed to produce the expected bytes")

GET_MODULEINFO = """/\\/\\*\\*\\* +MODULEINFO/ {printit=1; next}
/<support_level>/ {if (gotsupportlevel) { next }; gotsupportlevel=1}
/\\*\\*\\*\\// {printit=0}
/.*/ {if (printit) print}
"""
GET_MAKEOPTS = """/\\/\\*\\*\\* MAKEOPTS/ {printit=1; next}
/\\*\\*\\*\\// {if (printit) exit}
/.*/ {if (printit) print}
"""

TOP_MAKEFILE = """\
export ASTTOPDIR:=$(CURDIR)
AWK:=awk
GREP:=grep
SILENTMAKE:=$(MAKE) --quiet --no-print-directory
export AWK GREP
-include makeopts
MOD_SUBDIRS:=third-party apps res $(LOCAL_MOD_SUBDIRS)

menuselect-tree: $(foreach dir,$(MOD_SUBDIRS),$(wildcard $(dir)/*.c) $(wildcard $(dir)/*.xml)) build_tools/cflags.xml
\t@echo "Generating input for menuselect ..."
\t@echo "<?xml version=\\"1.0\\"?>" > $@
\t@echo >> $@
\t@echo "<menu name=\\"Test Selection\\">" >> $@
\t+@for dir in $(sort $(filter-out main,$(MOD_SUBDIRS))); do $(SILENTMAKE) -C $${dir} SUBDIR=$${dir} moduleinfo >> $@; done
\t@cat build_tools/cflags.xml >> $@
\t+@for dir in $(sort $(filter-out main,$(MOD_SUBDIRS))); do $(SILENTMAKE) -C $${dir} SUBDIR=$${dir} makeopts >> $@; done
\t@if [ "${AST_DEVMODE}" = "yes" ]; then \\
\t\tcat build_tools/cflags-devmode.xml >> $@; \\
\tfi
\t@echo "</menu>" >> $@
"""

MODDIR_RULES = """\
tolower = $(shell echo $(1) | tr '[:upper:]' '[:lower:]')
ifneq ($(MODULE_PREFIX),)
    ALL_C_MODS:=
    ALL_CC_MODS:=
    ALL_C_MODS+=$(foreach p,$(MODULE_PREFIX),$(patsubst %.c,%,$(wildcard $(p)_*.c)))
    ALL_CC_MODS+=$(foreach p,$(MODULE_PREFIX),$(patsubst %.cc,%,$(wildcard $(p)_*.cc)))
endif

define MOD_ADD_SOURCE
.$(1).moduleinfo: MODULEINFO_EXTRA_OUTPUT=" $$(addprefix $$(SUBDIR)/,$$(subst $(3),$(5),$(2)) $$(subst $(3),$(4),$(2)))"
.$(1).moduleinfo: $(wildcard $(2))
endef

MOD_ADD_C=$(eval $(call MOD_ADD_SOURCE,$(1),$(2),.c,.i,.o,.gcda,.gcno))
MOD_ADD_CC=$(eval $(call MOD_ADD_SOURCE,$(1),$(2),.cc,.ii,.oo,.gcda,.gcno))

.PHONY: moduleinfo makeopts

.%.moduleinfo: %.c
\t@echo "<member name=\\"$*\\" displayname=\\"$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d '"' -f 2)\\" remove_on_change=\\"$(SUBDIR)/$*.o $(SUBDIR)/$*.i $(SUBDIR)/$*.so$(MODULEINFO_EXTRA_OUTPUT)\\">" > $@
\t$(AWK) -f $(ASTTOPDIR)/build_tools/get_moduleinfo $^ >> $@
\techo "</member>" >> $@

.%.moduleinfo: %.cc
\t@echo "<member name=\\"$*\\" displayname=\\"$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d '"' -f 2)\\" remove_on_change=\\"$(SUBDIR)/$*.oo $(SUBDIR)/$*.ii $(SUBDIR)/$*.so$(MODULEINFO_EXTRA_OUTPUT)\\">" > $@
\t$(AWK) -f $(ASTTOPDIR)/build_tools/get_moduleinfo $^ >> $@
\techo "</member>" >> $@

.moduleinfo:: $(addsuffix .moduleinfo,$(addprefix .,$(sort $(ALL_C_MODS) $(ALL_CC_MODS)))) $(wildcard $(call tolower,$(MENUSELECT_CATEGORY)).xml)
\t@echo "<category name=\\"MENUSELECT_$(MENUSELECT_CATEGORY)\\" displayname=\\"$(MENUSELECT_DESCRIPTION)\\">" > $@
\t@cat $^ >> $@
\t@echo "</category>" >> $@

moduleinfo: .moduleinfo
\t@cat $<

.%.makeopts: %.c
\t@$(AWK) -f $(ASTTOPDIR)/build_tools/get_makeopts $< > $@

.%.makeopts: %.cc
\t@$(AWK) -f $(ASTTOPDIR)/build_tools/get_makeopts $< > $@

.makeopts:: $(addsuffix .makeopts,$(addprefix .,$(ALL_C_MODS) $(ALL_CC_MODS)))
\t@cat $^ > $@

makeopts: .makeopts
\t@cat $<
"""

APPS_MAKEFILE = """\
-include $(ASTTOPDIR)/menuselect.makeopts

MODULE_PREFIX=app
MENUSELECT_CATEGORY=APPS
MENUSELECT_DESCRIPTION=Applications (test)

all: _all

include $(ASTTOPDIR)/Makefile.moddir_rules

.app_vm.moduleinfo: app_vm.c
\t@echo "<member name=\\"app_vm\\" displayname=\\"$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d '"' -f 2)\\" remove_on_change=\\"$(SUBDIR)/$*.o $(SUBDIR)/$*.so\\">" > $@
\techo "<support_level>core</support_level>"  >> $@
\techo "<use type=\\"module\\">app_multi</use>" >> $@
\techo "<depend>zlib</depend>" >> $@
\techo "</member>" >> $@

$(call MOD_ADD_C,app_multi,$(wildcard multi/*.c) extra.c)

ifneq ($(wildcard nothere/Makefile),)
$(call MOD_ADD_C,app_plain,nothere/x.c)
endif
"""

RES_MAKEFILE = """\
MODULE_PREFIX=res
MENUSELECT_CATEGORY=RES
MENUSELECT_DESCRIPTION=Resource Modules

include $(ASTTOPDIR)/Makefile.moddir_rules
include local.make
"""

SOURCES = {
    "apps/app_plain.c": """/*** MODULEINFO
\t<support_level>core</support_level>
\t<depend>res_base</depend>
\t<depend>cdr</depend>
 ***/
#include "asterisk.h"
AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Plain Application");
""",
    "apps/app_multi.c": """/*** MODULEINFO
\t<support_level>extended</support_level>
\t<depend type="module">res_base</depend>
\t<use>TEST_FRAMEWORK</use>
 ***/
AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "Multi-file Application",
""",
    "apps/multi/one.c": "/* part one, no block; it still goes to awk */\n",
    "apps/multi/two.c": "/*** MODULEINFO\n\t<support_level>core</support_level>\n\t<use>res_extra</use>\n***/\n",
    "apps/extra.c": "int extra;\n",
    "apps/app_vm.c": "AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, \"Voicemail (test)\",\n",
    "res/res_base.c": """/*** MODULEINFO
\t<support_level>core</support_level>
 ***/
/*** MAKEOPTS
<category name="MENUSELECT_RES_BASE" displayname="Base options" positive_output="yes">
\t<member name="BASE_FAST" displayname="Fast">
\t\t<defaultenabled>no</defaultenabled>
\t</member>
</category>
 ***/
AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Base Resource");
""",
    "res/res_cpp.cc": """/*** MODULEINFO
\t<support_level>extended</support_level>
 ***/
AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "C++ Resource");
""",
    "res/res.xml": """<member name="res_download" displayname="Download a binary module">
\t<support_level>external</support_level>
\t<depend>res_base</depend>
\t<member_data><downloader directory_name="res_download"/></member_data>
\t<defaultenabled>no</defaultenabled>
</member>
\t<member name="res_fancy_option" displayname="An option shown with the modules">
\t\t<support_level>option</support_level>
\t\t<depend>res_base</depend>
\t</member>
""",
    "res/local.make": "$(call MOD_ADD_CC,res_cpp,cpp/helper.cc)\n",
    "res/cpp/helper.cc": "int helper;\n",
    "third-party/Makefile": ".PHONY: moduleinfo makeopts\n\nall:\n",
    "main/cdr.c": "#include \"asterisk.h\"\nAST_MODULE_INFO(KEY, AST_MODFLAG_GLOBAL_SYMBOLS, \"CDR Engine\",\n",
    "main/config.c": "#define AST_MODULE \"extconfig\"\nAST_MODULE_INFO(KEY, AST_MODFLAG_LOAD_ORDER, \"Configuration\",\n",
    "main/loader.c": "/* Used by AST_MODULE_INFO to register with the module loader. */\n",
    "build_tools/menuselect-deps.in": "ZLIB=@PBX_ZLIB@\nNO_BINARY_MODULES=@PBX_NO_BINARY_MODULES@\n",
    "build_tools/cflags.xml": """<category name="MENUSELECT_CFLAGS" displayname="Compiler Flags" positive_output="yes">
\t<member name="TEST_FRAMEWORK" displayname="Enable Test Framework API">
\t</member>
</category>
""",
    "build_tools/cflags-devmode.xml": "<category name=\"MENUSELECT_DEV\">\n\t<member name=\"DEV_ONLY\"/>\n</category>\n",
    "build_tools/get_moduleinfo": GET_MODULEINFO,
    "build_tools/get_makeopts": GET_MAKEOPTS,
    "Makefile": TOP_MAKEFILE,
    "Makefile.moddir_rules": MODDIR_RULES,
    "apps/Makefile": APPS_MAKEFILE,
    "res/Makefile": RES_MAKEFILE,
}


def write_root(dest: Path, files: dict[str, str] | None = None, makeopts: str | None = None) -> Path:
    for name, text in (files or SOURCES).items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if makeopts is not None:
        (dest / "makeopts").write_text(makeopts, encoding="utf-8")
    return dest


def make_tree(dest: Path) -> bytes:
    subprocess.run(["make", "--no-print-directory", "-s", "menuselect-tree"], cwd=dest, check=True,
                   stdout=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    return (dest / "menuselect-tree").read_bytes()


def buildtool(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "buildtool", *args], cwd=cwd, capture_output=True)


# The shape of Asterisk 16-22's module.h, reduced to what injection relies on.
MODULE_H = textwrap.dedent("""\
    struct ast_module;
    enum ast_module_support_level { AST_MODULE_SUPPORT_UNKNOWN, AST_MODULE_SUPPORT_CORE, AST_MODULE_SUPPORT_EXTENDED,
    \tAST_MODULE_SUPPORT_DEPRECATED };
    struct ast_module_info {
    \tstruct ast_module *self;
    \tint (*load)(void);
    \tint (*unload)(void);
    \tconst char *name;
    \tconst char *description;
    \tconst char *key;
    \tunsigned int flags;
    \tconst char buildopt_sum[33];
    \tunsigned char load_pri;
    \t/*! Modules which must always be started first */
    \tconst char *requires;
    \tconst char *optional_modules;
    \tconst char *enhances;
    \tvoid *reserved1;
    \tenum ast_module_support_level support_level;
    };
    void ast_module_register(const struct ast_module_info *);
    #if defined(__cplusplus) || defined(c_plusplus)
    #define AST_MODULE_INFO(keystr, flags_to_set, desc, load_func, unload_func, reload_func, load_pri, support_level) \\
    \tstatic struct ast_module_info __mod_info = { NULL, load_func }
    #else
    #define AST_MODULE_INFO(keystr, flags_to_set, desc, fields...)\t\\
    \tstatic struct ast_module_info \t\t\t\t\\
    \t\t__mod_info = {\t\t\t\t\t\\
    \t\t.name = AST_MODULE,\t\t\t\t\\
    \t\t.flags = flags_to_set,\t\t\t\t\\
    \t\t.description = desc,\t\t\t\t\\
    \t\t.key = keystr,\t\t\t\t\t\\
    \t\t.buildopt_sum = "",\t\t\\
    \t\tfields\t\t\t\t\t\t\\
    \t};\t\t\t\t\t\t\t\\
    \tstatic void __attribute__((constructor)) __reg_module(void) \\
    \t{ \\
    \t\tast_module_register(&__mod_info); \\
    \t} \\
    \tstatic const struct ast_module_info *ast_module_info = &__mod_info
    #endif
    """)


def settle() -> None:
    """Wait until files written so far are older than the cache's racy window, so a run stores."""
    time.sleep(scancache.RACY_NS / 1e9 + 0.2)
