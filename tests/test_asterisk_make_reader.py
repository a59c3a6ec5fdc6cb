"""The Makefile reader against GNU make itself: the same definitions file is read by buildtool and included by
a driver that has make print each expression (``$(info)``); the values must be make's, byte for byte.
Refusals name the Makefile line."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from buildtool.asterisk import makefile
from buildtool.asterisk.inputs import Files
from buildtool.errors import InputError

needs_make = pytest.mark.skipif(not shutil.which("make"), reason="GNU make is the reference")


@pytest.fixture(autouse=True)
def split_texts_afresh():
    """Each test splits its texts itself: the reader's cache of split texts would otherwise hand it another test's
    (or, under mutmut, the unmutated run's) pieces, and the splitting would go untested."""
    makefile._SEGMENTS.clear()

DEFS = """\
# assignments of every flavour
EMPTY :=
L = x.c y.cc  z.c
R = $(L:.c=.o)
P := $(L:%.c=%.i)
A := first
A += second
B = one
B += $(A)
C ?= set
C ?= not again
D ::= $(A)
E = $(B)
E += more
F :=
F += after empty
G = tail# a comment right after the value (with a blank between, make keeps the blank; the reader does not)
override OVR := o
TIGHT:=one
TIGHT+=two
LOOSE=$(TIGHT)
LOOSE+=three
Q?=set
Q?=again
export EXP := e
define MULTI
line one
  line two
endef
ifeq ($(A),first second)
COND1 := yes
else
COND1 := no
endif
ifneq "$(B)" "one"
COND2 := differs
endif
ifeq '$(EMPTY)' ''
COND2 += quoted
endif
ifdef A
COND3 := defined
endif
ifdef EMPTY
COND3 += empty-is-defined
endif
ifndef NOPE
COND4 := undefined
else
COND4 := not-this
endif
ifeq ($(A),x)
COND5 := 1
else ifeq ($(B),y)
COND5 := 2
else ifneq ($(B),)
COND5 := 3
else
COND5 := 4
endif
ifeq (a,b)
  ifeq (c,c)
  NEST := wrong
  else
  NEST := wrong too
  endif
else
  ifneq (,)
  NEST := no
  else
  NEST := inner-else
  endif
endif
CONT := a \\
\tb \\
    c
FN = [$(1)|$(2)|$(0)]
CALLED := $(call FN,p,q r)
NESTED = $(call FN,$(1)x,$(2))
CALLED2 := $(call NESTED,z)
UNDEF_CALL := <$(call NOT_DEFINED,a)>
DIRS := apps res
vpath %.c src
.PHONY: all
unexport EXP2
define EMPTYDEF
endef
BRACES = ${A}-$(${DIRS_NAME})
DIRS_NAME = DIRS
RULE_INLINE.x.moduleinfo: ; @echo inline
SUBDIRS_ALL := $(LOCAL_MOD_SUBDIRS) end
REASSIGN = first
REASSIGN = $(LATER) again
QREC ?= $(LATER)
NEWAPPEND += $(LATER) x
IMM := a
IMM += $$x
DOLLAR := a$$b
POSIX ::= $(LATER)
other:
\t@echo other-recipe
LATER := late
LOOP := $(foreach d,$(DIRS),$(d)/$(d).c)
HASH1 := a\\#b# c
HASH2 := x# y # z
HASH3 := p\\\\#q
HASH4 := \\#lead
HASH5 := a\\##b
#HASH6 := no
HASH7 := g#
HASH8 := h \\# i# j
HASH9 := three\\\\\\#odd#c
BS1 := a\\\\
BS2 := c\\\\\\
d
BS3 := c\\\\\\\\\\
d
BS4 := x \\\\\\
   y
BS5 := tight\\
next
UNDEF := 1
KEEP := 2
undefine UNDEF
export EXPORTED
\tAFTER_EXPORT := 1
unexport UNEXPORTED
\tAFTER_UNEXPORT := 2
vpath %.h include
\tAFTER_VPATH := 3
.PHONY: phony-target
\tAFTER_PHONY := 4
define DREF
$(A) and $$x
endef # a comment after endef
IFEQ3 := $(if 1,x)
ifeq (a,b,c)
IFEQ3 := equal
else
IFEQ3 := differs
endif
ifneq (a,a,)
IFEQ3 += a-vs-a-comma
endif
RE =
RE += x
\tAFTER_ASSIGN := 5
$(call NOT_DEFINED,x)
\tAFTER_STATEMENT := 6
undefine NEVER_SET
\tAFTER_UNDEFINE := 7
-include nothing-here.mk
\tAFTER_INCLUDE := 8
ifeq ((a),(a))
PAREN := same
endif
TENTH = <$(10)|$(11)|$(12)>
INNER = [$(1)$(2)$(3)$(10)]
OUTER = $(call INNER,a)
"""

EXPRESSIONS = [
    "$(L)", "$(R)", "$(P)", "$(A)", "$(B)", "$(C)", "$(D)", "$(E)", "$(F)", "$(G)|", "$(OVR)", "$(EXP)",
    "$(MULTI)", "$(TIGHT)", "$(LOOSE)", "$(Q)", "$(COND1)", "$(COND2)", "$(COND3)", "$(COND4)", "$(COND5)", "$(NEST)", "$(CONT)", "$(CALLED)",
    "$(CALLED2)", "$(UNDEF_CALL)", "$(LOOP)", "$(BRACES)", "[$(EMPTYDEF)]", "$(SUBDIRS_ALL)", "$(A:first)", "$(REASSIGN)", "$(QREC)", "$(NEWAPPEND)",
    "$(IMM)", "$(DOLLAR)", "[$(POSIX)]", "$(foreach w,1 2,$(A)-$(w))", "$(if ,a,b,c)", "${A}", "$A", "$(NOPE)", "a$$b", "$(L:.cc=.oo)", "$(L:%=[%])",
    "$(L:y%=w%)",
    "$(subst .c,.o,$(L))", "$(subst c,,$(L))",
    "$(patsubst %.c,%.o,$(L))", "$(patsubst x%,y%,$(L))", "$(patsubst %.c,%,$(L))", "$(patsubst y.cc,q,x.c y.cc z.c)",  # single blanks: without %, make keeps runs of blanks, the reader not
    "$(patsubst %,%,a b)", "$(patsubst a%b,<%>,ab axb axxb b)", "$(patsubst %c,%,c)",
    "$(strip  a   b  )", "$(findstring y,$(L))", "$(findstring q,$(L))",
    "$(filter %.c,$(L))", "$(filter %.c %.cc,$(L))", "$(filter y.cc,$(L))", "$(filter-out %.c,$(L))",
    "$(filter-out x.c z.c,$(L))", "$(sort c b a b)", "$(sort )",
    "$(word 2,$(L))", "$(word 5,$(L))", "$(words $(L))", "$(words )", "$(firstword $(L))", "$(lastword $(L))",
    "$(firstword )", "$(lastword )", "$(addprefix d/,$(L))", "$(addsuffix .x,$(L))",
    "$(notdir a/b/c.c d.c e/)", "$(dir a/b/c.c d.c e/)", "$(basename a/b.c/d a.b.c e .f)",
    "$(suffix a/b.c/d a.b.c e .f)", "$(foreach w,1 2,<$(w)>)", "$(foreach w,,x)", "$(foreach w,1 2,<$(w)>,)",
    "$(if $(A),t,f)", "$(if $(NOPE),t,f)", "$(if $(NOPE),t)", "$(if $(A),t)", "$(if x,$(if ,a,b),c)",
    "$(wildcard *.c)", "$(wildcard b.c nothere.c)", "$(wildcard sub/*.c)", "$(wildcard sub)",
    "$(call FN,(a),{b})", "$(call FN,a,b,c)", "$(call FN)",
    "$(call TENTH,1,2,3,4,5,6,7,8,9,ten,eleven)", "$(call OUTER,x,y,z,4,5,6,7,8,9,10)",
    "[$(HASH1)][$(HASH2)][$(HASH3)][$(HASH4)][$(HASH5)][$(HASH6)][$(HASH7)][$(HASH8)][$(HASH9)]",
    "[$(BS1)][$(BS2)][$(BS3)][$(BS4)][$(BS5)]",
    "[$(UNDEF)][$(KEEP)][$(AFTER_EXPORT)][$(AFTER_UNEXPORT)][$(AFTER_VPATH)][$(AFTER_PHONY)]", "$(DREF)", "$(IFEQ3)",
    "$(patsubst %.%,x,a.% b.c)", "$(patsubst a%a,X,a aa aba)", "$(patsubst %.c,%.%,x.c)", "$(L:.c=.o:x)",
    "$(L:.c=.o=x)", "$(L:x%=%:y)", "$(filter a%a,a aa)",
    "[$(RE)]", "[$(AFTER_ASSIGN)][$(AFTER_STATEMENT)][$(AFTER_UNDEFINE)][$(AFTER_INCLUDE)]", "$(PAREN)",
    "$(subst X,Y,aXb)", "$(subst a,b,x,a)", "$(patsubst %,<%>,a,b)", "$(call DOLLAR)", "[$(if ,x)]",
    "[$()]", "[$X]", "$(call FN ,a)",
]


def make_values(directory, expressions, env=None) -> list[str]:
    driver = directory / "driver.mk"
    lines = ["include defs.mk"]
    lines += [f"$(info <<{i}>>{text}<</{i}>>)" for i, text in enumerate(expressions)]
    lines.append("all: ;@:")
    driver.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["make", "-s", "--no-print-directory", "-f", "driver.mk"], cwd=directory,
                         capture_output=True, check=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", **(env or {})}).stdout
    return [re.search(rf"<<{i}>>(.*?)<</{i}>>", out, re.S).group(1) for i in range(len(expressions))]


@needs_make
def test_values_are_makes(tmp_path, monkeypatch):
    # LOCAL_MOD_SUBDIRS is the one variable the reader takes from the environment (make takes them all).
    monkeypatch.setenv("LOCAL_MOD_SUBDIRS", "local")
    (tmp_path / "defs.mk").write_text(DEFS)
    for name in ("b.c", "a.c", "c.cc"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "s.c").write_text("")
    expected = make_values(tmp_path, EXPRESSIONS, {"LOCAL_MOD_SUBDIRS": "local"})
    mk = makefile.read(str(tmp_path / "defs.mk"))
    got = [makefile.Expander(mk).expand(text, "defs.mk", 1) for text in EXPRESSIONS]
    assert dict(zip(EXPRESSIONS, got)) == dict(zip(EXPRESSIONS, expected))
    assert mk.value("CALLED") == expected[EXPRESSIONS.index("$(CALLED)")] == "[p|q r|FN]"


@needs_make
def test_included_files_of_the_directory_are_read(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "defs.mk").write_text("X := top\ninclude part.mk\n-include missing.mk\nsinclude gone.mk\n"
                                      "-include ../outside.mk\nZ := $(Y) end\n")
    (tmp_path / "part.mk").write_text("Y := from-part\nX += $(Y)\n")
    (tmp_path.parent / "outside.mk").write_text("Z := never\n")
    expected = make_values(tmp_path, ["$(X)", "$(Z)"])
    mk = makefile.read(str(tmp_path / "defs.mk"))
    assert [mk.value("X"), mk.value("Z")] == expected == ["top from-part", "from-part end"]


def refusal(tmp_path, text: str) -> str:
    (tmp_path / "Makefile").write_text(text)
    with pytest.raises(InputError) as caught:
        mk = makefile.read(str(tmp_path / "Makefile"))
        mk.value("X")
    return str(caught.value).replace(str(tmp_path) + "/", "")


@pytest.mark.parametrize("text, error", [
    ("\ninclude Makefile\n", "Makefile:2:1: error: includes nested too deeply at 'Makefile'"),
    ("A := 1\nendif\n", "Makefile:2:1: error: 'endif' without a conditional"),
    ("else\n", "Makefile:1:1: error: 'else' without a conditional"),
    ("ifeq (a,b)\nX := 1\n", "Makefile:3:1: error: conditional not closed by 'endif'"),  # make: line 3 too
    ("ifeq a b\nendif\n", "Makefile:1:1: error: malformed ifeq: 'a b'"),
    ("ifneq (a,b\nendif\n", "Makefile:1:1: error: malformed ifneq: '(a,b'"),
    ("ifeq (a,b)\nelse junk\nendif\n", "Makefile:2:1: error: malformed else: 'else junk'"),
    ("\nifeq (a)\nendif\n", "Makefile:2:1: error: malformed ifeq: '(a)'"),  # make: invalid syntax in conditional
    ("X := 1\n\ndefine\nendef\n", "Makefile:3:1: error: 'define' without a variable name"),  # make: empty variable name
    ("\n\nX != ls\n", "Makefile:3:1: error: 'X != ...' runs a shell command; not supported"),
    ("X!=ls\n", "Makefile:1:1: error: 'X != ...' runs a shell command; not supported"),
    ("include nothere.mk\n", "Makefile:1:1: error: included file 'nothere.mk' does not exist"),
    ("X := $(abspath a)\n", "Makefile:1:1: error: make function 'abspath' is not supported here"),
    ("\nX = $(frobnicate a)\n", "Makefile:0:1: error: unknown make function 'frobnicate'"),
    ("X = $(A\n", "Makefile:0:1: error: unterminated variable reference: '$(A'"),
    ("X = $(eval Y := 1)\n", "Makefile:0:1: error: $(eval ...) outside $(call MOD_ADD_C,...) is not supported"),
    ("X = $(shell ls)\n", "Makefile:0:1: error: $(shell ls) cannot be evaluated here"),
    ("X = a $(X)\n", "Makefile:0:1: error: recursive variable 'X' references itself (eventually)"),
    ("F = $(call F,1)\nX = $(call F,1)\n", "Makefile:0:1: error: $(call F,...) nests more than 100 deep"),
])
def test_refusals_name_the_line(tmp_path, text, error):
    assert refusal(tmp_path, text) == error


@pytest.mark.parametrize("value", ["$(foreach w,$(abspath a),b)", "$(foreach $(abspath w),a,b)",
                                   "$(foreach w,a,$(abspath b))", "$(if $(abspath x),a)", "$(if ,a,$(abspath b))",
                                   "$(call F,$(abspath x))", "$(wildcard $(abspath x))", "$(subst a,b,$(abspath x))",
                                   "$(L:$(abspath x)=y)", "${abspath x}"])
def test_a_refusal_inside_any_argument_names_the_makefile(tmp_path, value):
    assert refusal(tmp_path, f"F = $(1)\nX = {value}\n") == (
        "Makefile:0:1: error: make function 'abspath' is not supported here")


def test_a_failed_immediate_value_is_refused_only_when_read(tmp_path):
    (tmp_path / "Makefile").write_text("UNUSED := $(shell uname)\nX := fine\n")
    mk = makefile.read(str(tmp_path / "Makefile"))
    assert mk.value("X") == "fine"
    with pytest.raises(InputError) as caught:
        mk.value("UNUSED")
    assert str(caught.value) == f"{tmp_path}/Makefile:1:1: error: $(shell uname) cannot be evaluated here"


def test_unreadable_makefile(tmp_path):
    with pytest.raises(InputError) as caught:
        makefile.read(str(tmp_path / "Makefile"))
    assert str(caught.value) == f"{tmp_path}/Makefile:0:0: error: cannot read Makefile: No such file or directory"


def test_rules_kept_are_the_moduleinfo_ones(tmp_path):
    (tmp_path / "Makefile").write_text(
        ".x.moduleinfo: VAR=1\n.y.moduleinfo:; @echo y ; echo again\n.z.moduleinfo: a.c b.c\n\t@echo z\n"
        "all: dep\n\t@echo all\n")
    mk = makefile.read(str(tmp_path / "Makefile"))
    assert [(r.targets, r.prereqs, r.recipe, r.line) for r in mk.rules] == [
        ([".y.moduleinfo"], [], [(2, "@echo y ; echo again")], 2), ([".z.moduleinfo"], ["a.c", "b.c"], [(4, "@echo z")], 3)]


@needs_make
def test_includes_on_one_line_and_module_prefixes_are_makes(tmp_path):
    from helpers.asterisk import MODDIR_RULES

    (tmp_path / "Makefile.moddir_rules").write_text(MODDIR_RULES)
    (tmp_path / "part.mk").write_text("PART := yes\n")
    for name in ("app_b.c", "app_a.c", "res_x.c", "res_y.cc", "app_c.cc"):
        (tmp_path / name).write_text("")
    (tmp_path / "defs.mk").write_text("MODULE_PREFIX=app res\n"
                                      "-include missing.mk ../outside.mk Makefile.moddir_rules part.mk\n")
    expected = make_values(tmp_path, ["$(ALL_C_MODS)", "$(ALL_CC_MODS)", "$(PART)"])
    mk = makefile.read(str(tmp_path / "defs.mk"))
    assert [mk.value("ALL_C_MODS"), mk.value("ALL_CC_MODS"), mk.value("PART")] == expected == [
        "app_a app_b res_x", "app_c res_y", "yes"]


ABSPATH = "make function 'abspath' is not supported here"


@pytest.mark.parametrize("text, where", [
    # refused while reading: each place the reader expands text names the line it read
    ("A := 1\nB := 2\nifeq ($(abspath a),b)\nendif\n", 3),
    ("A := 1\nB := 2\nifneq (a,$(abspath b))\nendif\n", 3),
    ("A := 1\nB := 2\nifeq 'a' \"$(abspath b)\"\nendif\n", 3),
    ("A := 1\nB := 2\nifdef $(abspath a)\nendif\n", 3),
    ("A := 1\nifeq (a,b)\nelse ifeq ($(abspath a),b)\nendif\n", 3),
    ("A := 1\nifeq (a,a)\nelse ifeq ($(abspath a),b)\nendif\nifeq (a,b)\nelse ifneq ($(abspath a),b)\nendif\n", 6),
    ("X := 1\n\nX += $(abspath a)\n", 3),
    ("\n\ninclude $(abspath a)\n", 3),
    ("\n\n$(abspath a)\n", 3),
    ("\n\n${abspath a}\n", 3),
    ("\n\n.x$(abspath a).moduleinfo: b\n", 3),
    ("\n\n.x.moduleinfo: $(abspath a)\n", 3),
    ("MODULE_PREFIX = $(abspath a)\n\ninclude Makefile.moddir_rules\n", 3),
    ("A := 1\nundefine $(abspath a)\n", 2),
    # a ":=" value that cannot be computed is refused when read, naming its own line
    ("Y = $(abspath a)\n\nX := $(Y:a=b)\n", 3),
    ("Y = $(abspath a)\n\nX := $Y\n", 3),
    ("\n\nX := $(if x,$(abspath a))\n", 3),
    ("\n\nX := $(if ,,$(abspath a))\n", 3),
    ("\n\nX := $(shell echo $(abspath a))\n", 3),
    ("\n\nX := $(foreach w,a,$(abspath $(w)))\n", 3),
    ("F = $(abspath $(1))\n\nX := $(call F,a)\n", 3),
])
def test_refusals_while_reading_name_their_line(tmp_path, text, where):
    assert refusal(tmp_path, text) == f"Makefile:{where}:1: error: {ABSPATH}"


def test_a_refusal_in_an_included_file_names_that_file(tmp_path):
    (tmp_path / "part.mk").write_text("A := 1\n\nifeq ($(abspath a),b)\nendif\n")
    assert refusal(tmp_path, "X := 1\ninclude part.mk\n") == f"part.mk:3:1: error: {ABSPATH}"


@pytest.mark.parametrize("text, error", [
    ("\n\nX := $(shell " + "a" * 70 + ")\n", "Makefile:3:1: error: $(shell " + "a" * 60 + ") cannot be evaluated here"),
    ("\nX := $(B" + "b" * 50 + "\n", "Makefile:2:1: error: unterminated variable reference: '$(B" + "b" * 37 + "'"),
    ("\nifeq (" + "c" * 50 + "\nendif\n", "Makefile:2:1: error: malformed ifeq: '(" + "c" * 39 + "'"),
    ("\nifneq '" + "d" * 50 + "'\nendif\n", "Makefile:2:1: error: malformed ifneq: \"'" + "d" * 39 + "\""),
    ("ifeq (a,b)\nelse " + "e" * 50 + "\nendif\n", "Makefile:2:1: error: malformed else: 'else " + "e" * 35 + "'"),
])
def test_long_refused_text_is_cut_at_a_fixed_length(tmp_path, text, error):
    assert refusal(tmp_path, text) == error


def test_mod_add_statements_are_recorded_with_their_line(tmp_path):
    path = tmp_path / "Makefile"
    path.write_text("ADD = $(call MOD_ADD_C,$(1),$(1).c)\n\n"
                    "$(call MOD_ADD_C,one,a.c  b.c)\n$(call MOD_ADD_C)\n$(call MOD_ADD_C,lonely)\n$(call ADD,viaf)\n"
                    "$(foreach m,p q,$(call MOD_ADD_CC,$(m),$(m).cc))\n")
    mk = makefile.read(str(path))
    where = str(path)
    assert [(a.name, a.sources, a.kind, a.path, a.line) for a in mk.mod_adds] == [
        ("one", ["a.c", "b.c"], "MOD_ADD_C", where, 3), ("", [], "MOD_ADD_C", where, 4),
        ("lonely", [], "MOD_ADD_C", where, 5), ("viaf", ["viaf.c"], "MOD_ADD_C", where, 6),
        ("p", ["p.cc"], "MOD_ADD_CC", where, 7), ("q", ["q.cc"], "MOD_ADD_CC", where, 7)]


def test_shell_reaches_nested_expansions(tmp_path):
    (tmp_path / "Makefile").write_text("F = <$(shell echo $(1))>\nG = $(call F,$(1)$(1))\n")
    mk = makefile.read(str(tmp_path / "Makefile"))
    asked = []

    def shell(command, path, line):
        asked.append((command, path, line))
        return command.upper()

    expander = makefile.Expander(mk, shell=shell)
    assert expander.expand("$(foreach w,a b,$(shell x $(w)))", "M", 7) == "X A X B"
    assert expander.expand("$(call G,y)", "M", 8) == "<ECHO YY>"
    assert expander.expand("$(if 1,$(shell z))", "M", 9) == "Z"
    assert asked == [("x a", "M", 7), ("x b", "M", 7), ("echo yy", "M", 8), ("z", "M", 9)]


def test_recipes_and_target_variables_of_moduleinfo_rules(tmp_path):
    (tmp_path / "Makefile").write_text(
        "T := .t\n#.comment.moduleinfo: x\n.v.moduleinfo: lower_name=1\n.w.moduleinfo: a.c;@echo w\n.t$(NONE).moduleinfo: $(T).c\n"
        "\t@echo one \\\n  two \\\n\tthree\n")
    mk = makefile.read(str(tmp_path / "Makefile"))
    assert [(r.targets, r.prereqs, r.recipe, r.path, r.line) for r in mk.rules] == [
        ([".w.moduleinfo"], ["a.c"], [(4, "@echo w")], str(tmp_path / "Makefile"), 4),
        ([".t.moduleinfo"], [".t.c"], [(6, "@echo one   two three")], str(tmp_path / "Makefile"), 5)]


def test_include_depth_limit(tmp_path):
    def chain(levels):
        for level in range(levels):
            (tmp_path / f"m{level}.mk").write_text(f"X += {level}\ninclude m{level + 1}.mk\n")
        (tmp_path / f"m{levels}.mk").write_text("X += end\n")
    chain(8)  # the Makefile (depth 0) and nine included files, m8.mk read at depth 9
    (tmp_path / "Makefile").write_text("X := top\ninclude m0.mk\n")
    assert makefile.read(str(tmp_path / "Makefile")).value("X") == "top 0 1 2 3 4 5 6 7 end"
    chain(9)  # m8.mk, at depth 9, includes one more
    assert refusal(tmp_path, "X := top\ninclude m0.mk\n") == "m8.mk:2:1: error: includes nested too deeply at 'm9.mk'"


def test_call_depth_limit(tmp_path):
    # F<n> calls F<n-1>: $(call F<n>) nests n+1 calls. 101 are read (twice: the count goes back down), 102 refused.
    text = "F0 = x\n" + "".join(f"F{n} = $(call F{n - 1})\n" for n in range(1, 102))
    (tmp_path / "Makefile").write_text(text + "X := $(call F100)$(call F100)\n")
    assert makefile.read(str(tmp_path / "Makefile")).value("X") == "xx"
    assert refusal(tmp_path, text + "W := $(call F0)\nX := $(call F101)\n") == (
        "Makefile:104:1: error: $(call F0,...) nests more than 100 deep")


def test_only_local_mod_subdirs_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTCFLAGS", "from-environment")
    monkeypatch.setenv("LOCAL_MOD_SUBDIRS", "local")
    (tmp_path / "Makefile").write_text("X := [$(ASTCFLAGS)][$(LOCAL_MOD_SUBDIRS)]\n")
    assert makefile.read(str(tmp_path / "Makefile")).value("X") == "[][local]"


def test_a_makefile_named_without_directory_lists_the_current_one(tmp_path, monkeypatch):
    (tmp_path / "a.c").write_text("")
    (tmp_path / "Makefile").write_text("X := $(wildcard *.c)\n")
    monkeypatch.chdir(tmp_path)
    mk = makefile.read("Makefile")
    assert (mk.directory, mk.value("X")) == (".", "a.c")


@needs_make
def test_crlf_lines_and_a_last_line_without_newline_are_makes(tmp_path):
    # C is continued onto the file's last line, which has no newline
    (tmp_path / "defs.mk").write_bytes(b"A := 1\r\nB := $(A)x \\\r\n  y\r\nC := last \\\nline")
    expected = make_values(tmp_path, ["$(A)", "$(B)", "$(C)"])
    mk = makefile.read(str(tmp_path / "defs.mk"))
    assert [mk.value("A"), mk.value("B"), mk.value("C")] == expected == ["1", "1x y", "last line"]


@needs_make
def test_a_tab_led_first_line_is_makes(tmp_path):
    (tmp_path / "defs.mk").write_text("\tFIRST := 1\n")
    expected = make_values(tmp_path, ["[$(FIRST)]"])
    assert [makefile.read(str(tmp_path / "defs.mk")).value("FIRST")] == [e[1:-1] for e in expected] == ["1"]


def test_what_is_read_is_recorded_in_the_files_given(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_MOD_SUBDIRS", "local")
    (tmp_path / "part.mk").write_text("P := $(wildcard *.c)\n")
    (tmp_path / "Makefile").write_text("include part.mk\nX := $(LOCAL_MOD_SUBDIRS)\n")
    files = Files()
    mk = makefile.read(str(tmp_path / "Makefile"), files=files)
    assert mk.files is files
    assert sorted(files.raw) == [str(tmp_path / "Makefile"), str(tmp_path / "part.mk")]
    assert {("glob", str(tmp_path), "*.c"), ("env", "LOCAL_MOD_SUBDIRS")} <= set(files.facts)
