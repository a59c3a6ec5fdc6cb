"""Write mutation/SURVIVORS.md and the README's score table from mutation/results/*.json and the judgments below:
``python mutation/judge.py`` after ``python mutation/run.py``. A survivor without a judgment of its own takes its
function's (F), else it is listed as not killed."""
import json
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
J = {}  # (target or None, short mutant name) -> (verdict, reason)
def j(names, verdict, reason, target=None):
    """``target``: the judgment holds in that target only (short names repeat across modules: x_parse__mutmut_3)."""
    for n in names.split():
        J[(target, n)] = (verdict, reason)
E, N = "equivalent", "not killed"
CHILD_SHORT = "seen only by the loader tests in child processes (test_loader_runtime.py), which mutmut cannot attribute"
# graphs
j("x_cycles__mutmut_16 x_strongly_connected__mutmut_27", E, "`None` for `False` in a flag only ever tested for truth")
j("x_cycles__mutmut_39", E, "the closing element is replaced by `start` on the next line (`path[1:-1]`)")
j("x_strongly_connected__mutmut_15 x_strongly_connected__mutmut_17 x_strongly_connected__mutmut_42 x_strongly_connected__mutmut_44", E,
  "the default of `graph.get` is never used: the node is always in the graph (a root of `sorted(graph)`, or checked `in graph` just before)")
j("x_strongly_connected__mutmut_7 x_strongly_connected__mutmut_21 x_strongly_connected__mutmut_35", E,
  "Tarjan's indexes are only compared with each other: any increasing numbering gives the same components")
j("x_topological_order__mutmut_46", E,
  "one more turn once every node is placed finds nothing ready and nothing held, and returns the same result "
  "(`left` empty)")
j("x_topological_order__mutmut_51", E,
  "`<=` for `<`: ranks are unique, and a node ready from the start never enters the heap, so the two never tie")
j("x_topological_order__mutmut_73 x_topological_order__mutmut_75", E,
  "the default of `soft.get` is never used there: a held node has soft predecessors, so it is in `soft`")
j("x_topological_order__mutmut_78", E, "`emitted` is only tested for truth: 2 is as true as 1")
# elfinfo (the one record reader since issue 11; binary.py merged into it)
EL = "elfinfo"
j("x__cstr__mutmut_17 x_parse_record__mutmut_60", E, "codec names are case-insensitive", EL)
j("x_parse_record__mutmut_46 x_parse_record__mutmut_47", E,
  "the text is checked to end with NUL first; stripping whitespace (of which its end has none) or leading NULs "
  "instead leaves only empty entries more, which are skipped", EL)
j("x__read__mutmut_3", E,
  "every offset and length `within` checks is read unsigned (or is a product of unsigned values), so never negative: "
  "only the bound `offset + length > size` decides, the same in both", EL)
j("x__read__mutmut_35", E,
  "a 5-byte file has a class byte but no byte order: refused as an unknown class or byte order whether the class "
  "is read or not", EL)
j("x_read_record__mutmut_3", E, "`symbols` is only tested for truth: None and False alike", EL)
j("x__read__mutmut_391 x__read__mutmut_394", E,
  "d_tag read signed: a tag with the sign bit set equals none of the tags compared (0, 1, 14, 15, 29) either way", EL)
j("x_read_binary_data__mutmut_8 x_read_binary_data__mutmut_9 x_read_binary_data__mutmut_10 "
  "x_read_binary_data__mutmut_11", E,
  "no input reaches this handler: every offset, size and count is checked against the file before it is used "
  "(the handler is a safety net for a gap in those checks; the tests of damaged files found none)", EL)
# drift
j("x_check__mutmut_22", E, "codec names are case-insensitive", "drift")
# generate (after per-module generation: the skeleton; tests test_generate.py and test_modstep.py)
GN = "generate"
j("xǁHeaderGeneratorǁrender__mutmut_5 xǁHeaderGeneratorǁrender__mutmut_27", E, "codec names are case-insensitive", GN)
j("xǁHeaderGeneratorǁrender__mutmut_7 xǁHeaderGeneratorǁrender__mutmut_9", E,
  "with the hash header the digest is never shown: the template includes the build step's header and names its "
  "macro in the record instead", GN)
j("xǁHeaderGeneratorǁrender__mutmut_12", E, "`asterisk` is only tested for truth by the template: None and \"\" alike", GN)
j("x__c_escaped__mutmut_33", E, "`\\x1F` and `\\x1f` are the same character in a regular expression", GN)
j("x__environment__mutmut_5 x__environment__mutmut_11 x__environment__mutmut_23", E,
  "`lstrip_blocks` only strips white space before a block tag, and every block tag of modinfo.h.j2 starts its line", GN)
j("x__environment__mutmut_7 x__environment__mutmut_13", E, "jinja2's default is no autoescaping", GN)
j("x__environment__mutmut_17", E, "`templates` is PackageLoader's default folder", GN)
j("x_make_skeleton__mutmut_4 x_make_skeleton__mutmut_6 x_make_skeleton__mutmut_11 "
  "x_make_skeleton__mutmut_12 x_make_skeleton__mutmut_14 x_make_skeleton__mutmut_15 x_make_skeleton__mutmut_16 "
  "x_make_skeleton__mutmut_17 x_make_skeleton__mutmut_18 x_make_skeleton__mutmut_19 x_make_skeleton__mutmut_20", E,
  "the sample module only feeds the skeleton's self-check: the skeleton itself has a slot for every value, so with "
  "modinfo.h.j2 (every value put in as it is) any sample gives the same skeleton; another sample only changes which "
  "value-transforming templates the check notices (the tests' transforms are still refused)", GN)
j("x_make_skeleton__mutmut_25 x_make_skeleton__mutmut_30", E,
  "the sample's digest is the record's source_hash value, which a skeleton with the hash header never shows "
  "(that slot is the build step's macro)", GN)

# modstep (the meson build's per-module generator; tests test_modstep.py)
MS = "modstep"
j("x__catalog_from_json__mutmut_25 x__catalog_from_json__mutmut_27", E,
  "the step's catalogue only resolves names, and the resolver reads a library's name, never its pkg-config "
  "dependency (the plan, made at configure time, does)", MS)
j("x__claimed__mutmut_5 x__claimed__mutmut_8", E,
  "the kind is the text before the first colon however many splits follow it", MS)
j("x__dumps__mutmut_5", E, "json.dumps tests `ensure_ascii` for truth: None is as false as False", MS)
j("x__write_outputs__mutmut_12", E, "codec names are case-insensitive", MS)
j("x__write_outputs__mutmut_15 x__write_outputs__mutmut_22", E,
  "with the hash header the digest is never shown: the header includes the build step's hash header", MS)
j("x__write_outputs__mutmut_25 x_module_step__mutmut_89 x_write_configured__mutmut_105", E,
  "jinja2 instead of the skeleton: the same bytes (make_skeleton checks that against jinja2 before it gives a "
  "skeleton); the skeleton only saves the jinja2 import on an edit", MS)
j("x_module_step__mutmut_56", E,
  "a diagnostic of the scanner names either no module or this one: attributing every one to this module changes "
  "none", MS)

# plan (after issue 11: the order itself is graphs.topological_order)
PL = "plan"
j("x__order__mutmut_89", E, "only the relative order of the two priority keys matters (preload group first)", PL)
j("x__plan_load__mutmut_2", E,
  "`plan.config` is replaced by the expanded configuration before anything reads it (Providers gets the local one)", PL)
j("x__predict_declines__mutmut_17 x__predict_declines__mutmut_19", E,
  "every known module, selected or not, has a decision by then, so `found` is never None there", PL)
j("x__predict_declines__mutmut_38 x__predict_declines__mutmut_39", E,
  "`will`/`provided` only shortcut or count: a dependency not in `will` passes every later check anyway (it is "
  "selected and decided LOAD), and [None] is as true as [name]", PL)
# resolve (after per-module generation: resolve_one and TreeNames)
RS = "resolve"
j("xǁ_Resolverǁ_suggest__mutmut_1", E, "every call passes modules_only; the default is never used", RS)
j("xǁ_Resolverǁ_suggest__mutmut_3 xǁ_Resolverǁ_suggest__mutmut_7 xǁ_Resolverǁ_suggest__mutmut_8", E,
  "the memo's key in the instance dictionary is private to this method: any key holds the same memo", RS)
j("xǁ_Resolverǁcycles__mutmut_27 xǁ_Resolverǁcycles__mutmut_28", E,
  "the edge from the cycle's first scanned module to the next is a required module reference, always recorded in "
  "edge_at: the fallback position is never used", RS)
j("xǁ_Resolverǁclaims__mutmut_21", N,
  "stopping at a name shared with a variant built from the same source skips the module's later names; a variant "
  "shares all of them, so only a module whose DOCUMENTATION is read from another file (names_from) could tell", RS)

# runtime (run again after issue 9's start loop: _load merged into _ensure_each, ids of _start shifted)
RT = "runtime"
j("xǁLoaderǁ__init____mutmut_43 xǁLoaderǁ_check_symbols__mutmut_7", N,
  "dlsym(NULL) is RTLD_DEFAULT on glibc and finds the same symbols; the difference is glibc recording a dependency on the "
  "defining object (which then cannot be unmapped), which only shows when a module defining such a symbol is unloaded", RT)
j("xǁLoaderǁ_close__mutmut_1", E, "`info` is only tested for truth after close", RT)
j("xǁLoaderǁ_close__mutmut_12", N, "a failing dlclose cannot be provoked on glibc without a broken handle", RT)
j("xǁLoaderǁ_ensure_each__mutmut_4", E,
  "the first value of `status` is returned only when no name is given; start-up, the one caller with a list, does "
  "not read the result", RT)
j("xǁLoaderǁ_ensure_each__mutmut_28", E,
  "a cycle is met only in a call for one name (a requirement's, from `_requirements`): the list start-up gives "
  "comes with an empty stack, so after a cycle there is never a next name to go on to", RT)
j("xǁLoaderǁ_ensure_each__mutmut_7", E,
  "a shortcut: `self.state(name)` looks the name up in `states` itself (and makes the state when it is missing)", RT)
j("xǁLoaderǁ_ensure_each__mutmut_40 xǁLoaderǁ_ensure_each__mutmut_41", E,
  "a shortcut: without the entry the store already knows, its `get` returns the same entry (or raises the error it "
  "holds)", RT)
j("xǁLoaderǁ_ensure_each__mutmut_58 xǁLoaderǁ_ensure_each__mutmut_59", E,
  "a shortcut for the common case (every requirement running): without it `_requirements` asks each requirement's "
  "fate, and a running one answers RUNNING at once", RT)
j("xǁLoaderǁ_ensure_each__mutmut_110", E,
  "glibc always has a dlerror() message for a dlopen that failed: the path is only the fallback's", RT)
j("xǁLoaderǁ_ensure_each__mutmut_176", E,
  "no module reaches load() with a chain left: a decline's chain is cleared with its status by every runtime load "
  "before it loads anything, and at start-up a declined module is never attempted again", RT)
j("xǁLoaderǁ_ensure_each__mutmut_201", E, "de-duplicating a list of one (a fresh list already) gives the same list", RT)
j("xǁLoaderǁ_ensure_each__mutmut_229", N,
  "promoting a module that was just opened (RTLD_NOLOAD on a mapped object) does not fail on glibc: the error "
  "cannot be provoked", RT)
j("xǁLoaderǁ_requirements__mutmut_2 xǁLoaderǁ_requirements__mutmut_3", E,
  "a shortcut: calling _ensure on a running requirement returns RUNNING at its first test anyway (explicit=False "
  "changes nothing)", RT)
j("xǁLoaderǁ_requirements__mutmut_9", E, "`explicit` is only tested for truth: None and False are the same", RT)
j("xǁLoaderǁ_start__mutmut_14", E,
  "the states made in one pass are a shortcut: a name left out gets the same fresh state from `_ensure_each`'s "
  "`self.state(name)`, and the only states there before are the predicted absent modules, which are not in the order",
  RT)
j("xǁLoaderǁ_start__mutmut_31 xǁLoaderǁ_start__mutmut_32 xǁLoaderǁ_start__mutmut_33", E,
  "every name in the plan's order is a module of the directory (a named but absent one is only predicted), so the "
  "default path is never used", RT)
j("xǁLoaderǁ_stop__mutmut_7", E, "StartupStopped is caught by _start, which never reads its message (the error "
  "list has it)", RT)
j("xǁLoaderǁ_unload_one__mutmut_3 xǁLoaderǁ_unload_one__mutmut_4 xǁLoaderǁ_unload_one__mutmut_5 "
  "xǁLoaderǁ_unload_one__mutmut_6", E,
  "no input reaches the still-in-use refusal: unload() refuses a module in use before, and unloads its dependants "
  "first in reverse load order, each after its own users; a dependency is unloaded only at use count 0", RT)
j("xǁLoaderǁ_unload_one__mutmut_25 xǁLoaderǁ_unload_one__mutmut_28", E,
  "a running module always has its metadata (it was read to load it), so the `if meta` guard is always true", RT)
j("xǁLoaderǁ_unload_one__mutmut_9", E,
  "a running module always has its info struct (read when it was opened), so the `if st.info` guard is always true", RT)
j("xǁLoaderǁ_unload_one__mutmut_40", N,
  "a module that stays mapped after dlclose (another object bound to its symbols): " + CHILD_SHORT, RT)
j("xǁLoaderǁload__mutmut_5 xǁLoaderǁcommand_started__mutmut_1", E,
  "`_in_startup` is only tested for truth: None and False are the same", RT)
j("xǁLoaderǁcommand_started__mutmut_2", N,
  "`refresh` reloads through _ensure, not load(): with `_in_startup` left true, a module whose reload returns FAILURE "
  "would stop the loader as at start-up; only test_loader_provided's refresh tests (child processes) reload one", RT)
j("xǁLoaderǁunload__mutmut_4 xǁLoaderǁunload__mutmut_5 xǁLoaderǁstart__mutmut_2 xǁLoaderǁstart__mutmut_3", E,
  "`_in_startup` is read only while loading; an unload never loads, and every way to load afterwards (load(), and "
  "run_command's command_started before a refresh) sets it false first", RT)

# plancache (the loader's plan cache, a target of its own since the plan cache merge)
PC = "plancache"
j("x__column__mutmut_1 x__column__mutmut_3", E,
  "only the file's size: a list column empty in every module, written whole instead of None, decodes to the same "
  "empty tuples (no value is ever None, so count(None) never matches)", PC)
j("x__decode_report__mutmut_50", E,
  "`invalid` None for \"\": only a plan whose every module was readable is kept, and `invalid` is only tested for truth",
  PC)
j("x__inputs__mutmut_16 x__inputs__mutmut_27", E,
  "the digest's size: any fixed size tells the same inputs apart, and it is only compared with one made the same way", PC)
j("x__inputs__mutmut_22", E,
  "another separator: NUL still appears only between the label and the names (a file name cannot hold one)", PC)
j("x__inputs__mutmut_24", E, "codec names are case-insensitive", PC)
j("x__inputs__mutmut_32", N,
  "marshal's default version (4) may flag shared objects by reference count, so two processes could digest the same "
  "keys differently: a needless miss, never a wrong hit; no fast test compares the digest across processes", PC)
j("x__string_tuples__mutmut_1", E, "its one caller passes `nonempty`: the default is never used", PC)
j("x__string_tuples__mutmut_15 x__strings__mutmut_4", E,
  "the join is there only to raise TypeError at an item that is not a str; its result and separator are never used", PC)
j("xǁPlanCacheǁ__init____mutmut_9", E, "no caller passes `label` (load_plan passes none): the default is always taken",
  PC)
j("xǁPlanCacheǁ__init____mutmut_11 xǁPlanCacheǁ__init____mutmut_13 xǁPlanCacheǁ__init____mutmut_15", E,
  "`reused`, `written` and `restamped` are only tested for truth (by the tests and bench_load): None and False alike",
  PC)
j("x_directory_stamp__mutmut_5 x_directory_stamp__mutmut_7", E,
  "the window's edge moved by one nanosecond: a key exactly RACY_NS old is as safe trusted as not (the window is "
  "hundreds of clock ticks wide), and no stat can be timed to the nanosecond", PC)
j("x_directory_stamp__mutmut_6", N,
  "only a directory whose mtime is newer than its ctime differs, which takes an mtime set into the future by hand "
  "(utime; ctime is then the moment of that call): not trusted here, trusted by the mutant, and as safe either way, "
  "since no entry changed since that ctime (a change would have moved it); no test sets a future mtime", PC)
j("xǁ_KeptPlanǁ__init____mutmut_10", E,
  "LoadPlan's class attribute `providers = None` answers the same when the instance sets none", PC)

# Asterisk integration (judgments hold in their target only: short names repeat across these modules)
NONE0 = "`None` as str.count/rfind/find's start is 0, the default"
CODEC = "codec names are case-insensitive"
j("x_parse__mutmut_34 x_parse__mutmut_83", E, NONE0, "ast_moduleh")
j("x_parse_file__mutmut_7 x_read__mutmut_11", E, CODEC, "ast_moduleh")
j("xǁ_Runǁ__init____mutmut_2 xǁ_Runǁ__init____mutmut_6 xǁ_Runǁ_block__mutmut_28", E,
  "`None` for `False` in a flag only ever tested for truth", "ast_awk")
j("xǁ_Runǁ__init____mutmut_4", E,
  "with the support rule, `not dedupe_support` is False (None is as false); without it, None only makes `feed` look "
  "for `<support_level>` before each opener, and the flag is read in `_block` only together with `dedupe_support`, "
  "which is false", "ast_awk")
j("xǁ_Runǁfeed__mutmut_32", E, "`find` and `rfind` agree on whether the text holds `<support_level>` (>= 0)", "ast_awk")
j("x_parse__mutmut_36", E, "an index equal to len(words) is also != len(words) - 1: the second test refuses it", "ast_recipe")
j("x_split_words__mutmut_103 x_split_words__mutmut_106 x_split_words__mutmut_109", E,
  "the tested value is one character that no other token took, never an `X` (a plain word character)", "ast_recipe")
j("x_split_words__mutmut_21 x_split_words__mutmut_53", E, "the substitutions change nothing in a value without a backslash", "ast_recipe")
j("x_split_words__mutmut_26", E, "`bare` is only searched for `$` and a backquote: `XXXX` for an escape adds neither", "ast_recipe")
j("x_split_words__mutmut_4", E, "`None` for `False` in a flag only ever tested for truth", "ast_recipe")
j("x_menuselect_disabled__mutmut_11", E, CODEC, "ast_makeopts")
j("x_menuselect_disabled__mutmut_21", E,
  "menuselect writes MENUSELECT_DEPSFAILED=CATEGORY=NAME with one `=` after the key (neither name can hold one): "
  "partition and rpartition split it alike", "ast_makeopts")
j("x__recipe_conditional__mutmut_35", E,
  "the keyword is `else` only when a blank follows it, so the nested conditional starts after index 4 anyway: stripped, the same",
  "ast_root")
j("x__recipe_conditional__mutmut_6 x__recipe_conditional__mutmut_8", E, "only the first word is used", "ast_root")
j("x__step__mutmut_107 x__step__mutmut_123 x__step__mutmut_148", E,
  "a text, reset or cat step's line is never read again (only a directory loop's line names a missing Makefile)", "ast_root")
j("x__step__mutmut_70 x__step__mutmut_71", E,
  "recipe.parse's refusal is re-raised with this line's path and number: its own position is never shown", "ast_root")
j("x__top_recipe__mutmut_145 x__top_recipe__mutmut_150", E,
  "MOD_SUBDIRS is stored already expanded and holds no `$`: expanding it again at each use gives the same", "ast_root")
j("x__top_recipe__mutmut_18", E,
  "the top Makefile object's path is never read: every expansion and refusal is given the path explicitly", "ast_root")
j("x__variables_file__mutmut_11 x_builtins__mutmut_30 xǁRootǁtree_bytes__mutmut_3", E, CODEC, "ast_root")
j("x_read__mutmut_115 x_read__mutmut_117 x_read__mutmut_123", E,
  "the catalogue read from menuselect-deps.in has no options, built-ins or platforms yet: `=` and `|=` give the same", "ast_root")
j("x_read__mutmut_120 x_read__mutmut_122", E, "`builtins` makes its own file cache when given none: the same files, read again",
  "ast_root")
j("x__c_string__mutmut_1", N, "nothing in the package calls `_c_string`: dead code no test can reach", "ast_setup")
j("x__without_hook__mutmut_3 x__without_hook__mutmut_8 x__without_hook__mutmut_10 x__without_hook__mutmut_11", N,
  "differ only for a makeopts holding two marked blocks, or an END line before the BEGIN one; setup never writes either",
  "ast_setup")
j("x__without_hook__mutmut_15 x__without_hook__mutmut_16", E,
  "END is searched from BEGIN's offset, where BEGIN stands: it is found at -1 or beyond 0, never at 0", "ast_setup")
j("x_drift_warnings__mutmut_15 x_is_set_up__mutmut_9 x_module_header_text__mutmut_17", E, CODEC, "ast_setup")
j("x_module_header_text__mutmut_30", E, "the generated header holds one `#ifndef AST_MODULEINFO_` (its include guard)", "ast_setup")
j("x_preamble__mutmut_19", E, "no directive is found in `XXXX` either", "ast_setup")
j("x_preamble__mutmut_25", N,
  "deleting a comment instead of blanking it differs only for a directive continued through a multi-line comment", "ast_setup")
j("x_regenerate_one__mutmut_27 x_regenerate_one__mutmut_28 x_regenerate_one__mutmut_29 x_regenerate_one__mutmut_30", E,
  "the whole-root branch writes the same header as the one-source scan, only slower (and a .cc module is never injected, "
  "so the hook never asks for one)", "ast_setup")
j("x_regenerate_one__mutmut_34 x_regenerate_one__mutmut_37", E,
  "the resolver never reads an installed tree's diagnostics", "ast_setup")
j("x_regenerate_one__mutmut_36", N,
  "the module's own saved entry left among the installed ones: differs only when an edit drops an interface the module "
  "provided and also uses", "ast_setup")
j("x_regenerate_one__mutmut_48 x_regenerate_one__mutmut_49 x_regenerate_one__mutmut_51 x_regenerate_one__mutmut_52", E,
  "neither the category nor the display name reaches the header (its description comes from the AST_MODULE_INFO call)",
  "ast_setup")
j("x_regenerate_one__mutmut_83", E, "with equal mtimes, setting them equal again changes nothing", "ast_setup")
j("x_setup__mutmut_14 x_setup__mutmut_78", E, "write_headers makes its own generator when given none: the same text", "ast_setup")
j("x_setup__mutmut_65", E,
  "when the module's data is its own source, reading the file again gives the same bytes, then also passed as `code`, "
  "which names the same AST_MODULE_INFO call", "ast_setup")
j("x_setup__mutmut_87", E, "the source passed as `code` when it is also the data names the same AST_MODULE_INFO call",
  "ast_setup")
j("xǁDirectoryǁ_xml_members__mutmut_17 xǁDirectoryǁ_xml_members__mutmut_18", E,
  "`</member>` is searched after the start tag, so it is found at -1 or beyond 0", "ast_moddir")
j("xǁDirectoryǁ_rule_member__mutmut_55", E, "1 is Member's default content column", "ast_moddir")
j("xǁDirectoryǁ_xml_members__mutmut_22 xǁDirectoryǁ_xml_members__mutmut_44 xǁDirectoryǁ_xml_members__mutmut_89 "
  "xǁDirectoryǁ_xml_members__mutmut_102 xǁDirectoryǁ_xml_members__mutmut_149", E, NONE0, "ast_moddir")
j("xǁDirectoryǁ_xml_members__mutmut_79 xǁDirectoryǁ_xml_members__mutmut_81 xǁDirectoryǁ_xml_members__mutmut_84 "
  "xǁDirectoryǁ_xml_members__mutmut_132 xǁDirectoryǁ_xml_members__mutmut_134 xǁDirectoryǁ_xml_members__mutmut_137", E,
  "the name's default is never used: `_member_name` refused a member without a valid name just before", "ast_moddir")
j("x__step__mutmut_24", E,
  "a directory loop is recognised before expansion only, so never inside a shell `if` (whose inner text is expanded "
  "first): its condition is always the default", "ast_root")
j("x__step__mutmut_122 x__step__mutmut_130 x__step__mutmut_131", E,
  "`read` treats every step kind but `dirs`, `cat` and `reset` as text: any other name is the same", "ast_root")
j("x_hook_makeopts__mutmut_8 x_hook_makeopts__mutmut_29 x_remove__mutmut_9 x_remove__mutmut_17", E, CODEC, "ast_setup")
j("x_drift_warnings__mutmut_5", N,
  "the tree only tells a built-in from a module when the name is not in the catalogue's built-ins; the test's "
  "built-in (extconfig) is there", "ast_setup")
j("xǁDirectoryǁ_run__mutmut_10 xǁDirectoryǁ_run__mutmut_15 xǁDirectoryǁ_run__mutmut_23 xǁDirectoryǁ_run__mutmut_28 "
  "xǁDirectoryǁ_run__mutmut_33 xǁDirectoryǁ_run__mutmut_36", E,
  "`awk`, `grep` and a directory name hold no `$`: expanding them at each use gives the same", "ast_moddir")
j("xǁDirectoryǁ_run__mutmut_39", E, "the context's path is never read: expansion and refusals are given it explicitly",
  "ast_moddir")
j("xǁDirectoryǁ_run__mutmut_40", N,
  "a `$(wildcard)` in a member recipe would look in the current directory; no recipe tested has one", "ast_moddir")
j("xǁDirectoryǁ_awk__mutmut_1 xǁDirectoryǁ_awk__mutmut_2 xǁDirectoryǁ_awk__mutmut_33", E,
  "a cache of parsed awk programs: without it each is parsed again, to the same program", "ast_moddir")
j("x__attributes__mutmut_1", E, "lxml, the general path, reads a plain start tag's attributes the same", "ast_moddir")
j("x__attributes__mutmut_17", E, CODEC, "ast_moddir")
j("x__header__mutmut_6 x__header__mutmut_7 x__header__mutmut_8 x__header__mutmut_9", E,
  "only the start tag at the text's beginning is read, whatever follows it in `first`", "ast_moddir")
j("x__header__mutmut_35 x__header__mutmut_36", E, "every caller ignores the second value", "ast_moddir")
j("x__unique__mutmut_4", E, "None is setdefault's default", "ast_moddir")
j("xǁDirectoryǁ__init____mutmut_1", E, "`self.root` is never read", "ast_moddir")
j("xǁDirectoryǁ_member_target__mutmut_40", E, "`_rule_member` takes the member's name from its echo, not this argument",
  "ast_moddir")
j("xǁDirectoryǁ_member_target__mutmut_22", E,
  "`$*` of an explicit rule is empty, and an unknown automatic variable reads as empty too", "ast_moddir")
j("xǁDirectoryǁ_member_target__mutmut_138 xǁDirectoryǁ_member_target__mutmut_140 xǁDirectoryǁ_member_target__mutmut_143",
  E, "the pattern rule's echo always writes a displayname attribute", "ast_moddir")
j("xǁDirectoryǁ_member_target__mutmut_16 xǁDirectoryǁ_member_target__mutmut_18 xǁDirectoryǁ_member_target__mutmut_19 "
  "xǁDirectoryǁ_member_target__mutmut_21 xǁDirectoryǁ_member_target__mutmut_8 xǁDirectoryǁ_member_target__mutmut_35", N,
  "an explicit member rule without prerequisites, reading `$^`, or given extra prerequisites or target variables "
  "by MOD_ADD_C: no test writes one", "ast_moddir")
j("xǁDirectoryǁ_mod_add__mutmut_25", E, "64 is more than the arguments MOD_ADD_SOURCE takes (seven)", "ast_moddir")
j("xǁDirectoryǁ_mod_add__mutmut_44 xǁDirectoryǁ_mod_add__mutmut_46 xǁDirectoryǁ_mod_add__mutmut_49 "
  "xǁDirectoryǁ_mod_add__mutmut_65 xǁDirectoryǁ_mod_add__mutmut_75 xǁDirectoryǁ_mod_add__mutmut_77 "
  "xǁDirectoryǁ_mod_add__mutmut_79 xǁDirectoryǁ_mod_add__mutmut_81 xǁDirectoryǁ_mod_add__mutmut_82", N,
  "other shapes of a MOD_ADD_SOURCE body (recipe lines, a colon in a prerequisite, a value with trailing blanks): "
  "Asterisk's body, the one tested, has two plain rule lines", "ast_moddir")
j("xǁDirectoryǁ_mod_add__mutmut_6 xǁDirectoryǁ_mod_add__mutmut_97 xǁDirectoryǁ_mod_add__mutmut_16 "
  "xǁDirectoryǁ_mod_add__mutmut_17 xǁDirectoryǁ_mod_add__mutmut_33 xǁDirectoryǁ_mod_add__mutmut_34 "
  "xǁDirectoryǁ_mod_add__mutmut_92 xǁDirectoryǁ_mod_add__mutmut_93", N,
  "a MOD_ADD_C call whose arguments or prerequisites name a Makefile variable, or fail to expand: no test writes one",
  "ast_moddir")
j("xǁDirectoryǁread__mutmut_23 xǁDirectoryǁread__mutmut_24 xǁDirectoryǁread__mutmut_25 xǁDirectoryǁread__mutmut_26 "
  "xǁDirectoryǁread__mutmut_27", N, "a prerequisite-only `.NAME.moduleinfo:` line: no test writes one", "ast_moddir")
j("xǁDirectoryǁ_run__mutmut_131", N, "a member recipe whose later line resets (>) its target: none tested", "ast_moddir")
j("xǁDirectoryǁ_run__mutmut_103 xǁDirectoryǁ_run__mutmut_104", N,
  "`awk -f SCRIPT` with no file (awk would read standard input): no recipe tested has one", "ast_moddir")
MK = "ast_makefile"
j("xǁExpanderǁcall__mutmut_27", E, "the value of a `$(call MOD_ADD_C,...)` statement is discarded", MK)
j("x__rule__mutmut_4 x__rule__mutmut_5 x__rule__mutmut_7 x__rule__mutmut_8", E,
  "a rule that is not for a `.moduleinfo` target is dropped: its fields are never read", MK)
j("x__immediate__mutmut_2 x__assign__mutmut_26 x__read_into__mutmut_154", E,
  "`None` for `False` in a flag only ever tested for truth", MK)
j("x__include__mutmut_53 x__read_into__mutmut_245 x_read__mutmut_26", E,
  "`root` is only handed on from file to included file: nothing reads it", MK)
j("x__read_into__mutmut_18 x__read_into__mutmut_24", E,
  "the message of a file that cannot be read holds `cannot read` once: any count replaces the same", MK)
j("x__read_into__mutmut_105 x__read_into__mutmut_107", E, "the first word of the line is the same however many splits follow", MK)
j("x__read_into__mutmut_149", E,
  "`else` is the line's first word, so a blank follows it: after `strip()` the text from index 4 and from 5 are the same", MK)
j("x__segments__mutmut_1 x__segments__mutmut_2", E, "a cache of split texts: without it each text is split again, to the same pieces", MK)
j("x__strip_comment__mutmut_2 x_split_args__mutmut_4", E, "`find` and slicing read a `None` start as 0", MK)
j("x__split_references__mutmut_14 x__split_references__mutmut_4", E,
  "only adds an empty literal piece (at a reference's start or at the text's end), which expands to nothing", MK)
j("x__pattern_replace__mutmut_23", E, "replacing `%` in a replacement that has none changes nothing", MK)
j("xǁExpanderǁ_reference__mutmut_36", E, "expanding a text without `$` gives it back unchanged", MK)
j("xǁExpanderǁ_reference__mutmut_50", E,
  "a reference beginning with `:` names no variable: read as a substitution on the empty name it is empty too", MK)
j("x__assign__mutmut_15", N, "GNU make 4.4's `:::=`: this machine's make 4.3, the tests' reference, has none", MK)
j("x__assign__mutmut_25 x__assign__mutmut_31", N,
  "the value kept for a `:=` that could not be computed is read only by `ifdef`, which takes it as empty, where make "
  "(running the shell) would see a value: neither answer is known, so no test pins it", MK)
j("x__assign__mutmut_32", N,
  "`+=` onto a `:=` that could not be computed drops the refusal (a gap of the reader, left for a later change); no test "
  "writes one", MK)
j("x__read_into__mutmut_323 x__read_into__mutmut_324", N,
  "`override NAME` without an assignment, which make refuses (missing separator); the reader skips the line", MK)
j("x_logical_lines__mutmut_14 x_logical_lines__mutmut_16", N,
  "a file whose last line ends in a backslash: make drops it, the reader keeps it (a difference left); these mutants "
  "fail there instead, and no test pins the reader's differing value", MK)
j("x__split_references__mutmut_15 x__split_references__mutmut_17", N,
  "a text ending in a lone `$`: make 4.3 keeps it (`x$` reads `x$`), the reader drops it (a difference left, found by "
  "these tests; no Asterisk Makefile ends a line with `$`); these mutants fail there instead", MK)
j("xǁExpanderǁif___mutmut_16 xǁExpanderǁif___mutmut_24 xǁExpanderǁif___mutmut_26", N,
  "`$(if x)` with one argument, which make refuses (insufficient number of arguments); the reader reads it as empty", MK)

# Whole functions whose remaining survivors share one reason (applied when a mutant has no line of its own).
F = {}

ORDER = ["graphs", "plan", "runtime", "plancache", "resolve", "drift", "generate", "modstep", "elfinfo",
         "ast_root", "ast_moddir", "ast_makefile", "ast_recipe", "ast_awk", "ast_moduleh", "ast_setup", "ast_makeopts"]
LABEL = {"graphs": "cycle finder", "plan": "loader planner", "runtime": "runtime's decisions",
         "plancache": "loader's plan cache", "resolve": "resolver",
         "drift": "hand-written drift check", "generate": "generator", "modstep": "per-module generator",
         "elfinfo": "record reader",
         "ast_root": "Asterisk root reader", "ast_moddir": "Asterisk module directory", "ast_makefile": "Asterisk Makefile reader",
         "ast_recipe": "Asterisk recipe lines", "ast_awk": "Asterisk awk extractors", "ast_moduleh": "Asterisk module.h check",
         "ast_setup": "Asterisk injection set-up", "ast_makeopts": "Asterisk menuselect choices"}

def short(key):
    return key.split(".")[-1]

def change(diff):
    lines = [l[1:].strip() for l in diff.splitlines() if l.startswith(("+", "-")) and not l.startswith(("+++", "---"))]
    minus = [l for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    plus = [l for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    a = " / ".join(l[1:].strip() for l in minus)[:110]
    b = " / ".join(l[1:].strip() for l in plus)[:110]
    return f"`{a}` → `{b}`" if b else f"`{a}` removed"

def main():
    results = {}
    for name in ORDER:
        p = ROOT / "mutation" / "results" / f"{name}.json"
        if p.exists():
            results[name] = json.loads(p.read_text())
    sections = []
    counts = {E: 0, N: 0}
    equivalent = {name: 0 for name in ORDER}
    for name in ORDER:
        r = results.get(name)
        if r is None:
            continue
        sv = r["survivors"]
        stopped = f"; the run was stopped with {r['not_run']} mutants not run" if r.get("not_run") else ""
        sections.append(f"## {LABEL[name]}: `{r['module']}` ({r['killed']}/{r['total']} killed, {r['score']}%{stopped})\n")
        sections.append(f"Tests: {', '.join('`' + t + '`' for t in r['tests'])}.\n")
        if not sv:
            sections.append("No survivor.\n")
            continue
        sections.append("| mutant | change | status | verdict |\n|---|---|---|---|")
        for key in sorted(sv, key=lambda k: (k.rsplit("_", 1)[0], int(k.rsplit("_", 1)[1]))):
            v = sv[key]
            fn = short(key).split("__mutmut")[0]
            verdict, why = (J.get((name, short(key))) or J.get((None, short(key))) or F.get((name, fn)) or F.get(fn)
                            or (N, "a real difference no fast test catches"))
            counts[verdict] += 1
            equivalent[name] += verdict == E
            cell = change(v["diff"]).replace("|", "\\|")
            sections.append(f"| `{short(key)}` | {cell} | {v['status']} | **{verdict}**: {why} |")
        sections.append("")
    table = ["| module | target | mutants | killed | score | judged equivalent | score without them | floor 90% | run time |",
             "|---|---|---|---|---|---|---|---|---|"]
    tk = tt = te = 0
    for name in ORDER:
        r = results.get(name)
        if r is None:
            table.append(f"| {LABEL[name]} | `{name}` | not run | | | | | | |")
            continue
        eq = equivalent[name]
        tk += r["killed"]; tt += r["total"]; te += eq
        without = f"{100.0 * r['killed'] / (r['total'] - eq):.1f}%"
        if r.get("not_run"):  # a stopped run (`run.py --collect`): scored on the mutants it ran
            table.append(f"| {LABEL[name]} (`{r['module']}`) | `{name}` | {r['total']} of {r['total'] + r['not_run']} run | "
                         f"{r['killed']} | **{r['score']}%** of those run | {eq} | {without} | not known yet | stopped |")
            continue
        table.append(f"| {LABEL[name]} (`{r['module']}`) | `{name}` | {r['total']} | {r['killed']} | **{r['score']}%** | "
                     f"{eq} | {without} | {'met' if r['score'] >= 90 else '**not met**'} | "
                     f"{str(r['seconds']) + ' s' if r['seconds'] is not None else 'in several stopped runs'} |")
    table.append(f"| all | | {tt} | {tk} | **{100.0 * tk / tt:.1f}%** | {te} | {100.0 * tk / (tt - te):.1f}% | | |")
    text = (ROOT / "mutation" / "SURVIVORS.md").read_text()
    head = text.split("@@SURVIVORS@@")[0] if "@@SURVIVORS@@" in text else text.split("\n## ")[0] + "\n"
    (ROOT / "mutation" / "SURVIVORS.md").write_text(head.rstrip("\n") + "\n\n" + "\n".join(sections) + "\n")
    readme = (ROOT / "README.md").read_text()
    block = "\n".join(table)
    import re as _re
    if "@@MUTATION_TABLE@@" in readme:
        readme = readme.replace("@@MUTATION_TABLE@@", "<!-- mutation-table -->\n" + block + "\n<!-- /mutation-table -->")
    else:
        readme = _re.sub(r"<!-- mutation-table -->.*?<!-- /mutation-table -->",
                         "<!-- mutation-table -->\n" + block + "\n<!-- /mutation-table -->", readme, flags=_re.S)
    (ROOT / "README.md").write_text(readme)
    print(block)
    print(f"survivors: {counts[E]} equivalent, {counts[N]} not killed")

main()
