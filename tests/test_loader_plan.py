"""The loader's planner, in this process, on in-memory metadata: every field of the plan for three
scenarios, written out by hand (which modules load, in which order, why each one does or does not, the
edges, the predicted declines, the errors with their positions and chains, the notes and the cycles).
tests/test_loader_units.py checks order independence and the rules on random graphs; these pin the words.
"""

from __future__ import annotations

import gc

from buildtool.loader.config import parse_config
from buildtool.loader.meta import MetaError, ModuleMeta
from buildtool.loader.plan import plan_load


def M(name, **kw):
    return ModuleMeta(name=name, path=f"/m/{name}.so", **{k: tuple(v) for k, v in kw.items()})


def run(metas, conf, invalid=()):
    config, diags = parse_config(conf, "modules.conf")
    assert not diags, diags
    table = {m.name: m for m in metas}
    asked = []

    def get(name):
        asked.append(name)
        if name in invalid:
            raise MetaError(f"{name}: not an ELF file")
        return table[name]
    plan = plan_load(list(table) + list(invalid), get, config, "DIR")
    assert len(asked) == len(set(asked))  # each module's metadata is read once
    assert gc.isenabled()  # the planner turns the cyclic GC off while it runs, and back on
    assert set(table) | set(invalid) <= set(plan.why)  # a reason for every module
    return {"ok": plan.ok, "order": plan.order, "selected": sorted(plan.selected), "explicit": sorted(plan.explicit),
            "preload": sorted(plan.preload), "invalid": plan.invalid, "why": plan.why, "skipped": plan.skipped,
            "predicted": plan.predicted, "notes": plan.notes, "cycles": plan.cycles, "edges": plan.edges,
            "chains": plan.dependency_chain, "required": sorted(plan.required),
            "errors": [(e.path, e.line, e.column, e.code, e.module, e.message, dict(e.data)) for e in plan.errors]}


def test_plan_autoload_yes():
    metas = [M("base"), M("mid", requires=["base"]), M("top", requires=["mid"]), M("opt", optional_modules=["base"]),
         M("free"), M("pre", requires=["free"]), M("p1", provides=["codec"]), M("user", interfaces_required=["codec"]),
         M("ouser", interfaces_optional=["codec"]), M("enh", requires=["free"], enhances=["free"]),
         M("needs_gone", requires=["gone"]), M("needs_bad", requires=["bad"]), M("orphan", interfaces_required=["nobody"])]
    assert run(metas, "[modules]\nnoload => base\npreload => pre\nload => top\nrequire => ghost\nload => bad\n", ('bad',)) == {'chains': {},
     'cycles': [],
     'edges': [('free', 'enh', 'requires'),
               ('p1', 'ouser', 'optionally uses codec'),
               ('free', 'pre', 'requires'),
               ('enh', 'pre', 'enhances'),
               ('p1', 'user', 'uses codec')],
     'errors': [('modules.conf',
                 4,
                 9,
                 'loader-implied-noload',
                 'top',
                 "'load => top' at modules.conf:4 cannot be honoured: 'noload => base' at modules.conf:2 implies "
                 'noload for top, which requires base (top -> mid -> base)',
                 {'chain': ['top', 'mid', 'base'], 'lines': ['modules.conf:4', 'modules.conf:2']})],
     'explicit': ['enh', 'free', 'needs_bad', 'needs_gone', 'opt', 'orphan', 'ouser', 'p1', 'pre', 'user'],
     'invalid': {'bad': 'bad: not an ELF file'},
     'notes': [],
     'ok': False,
     'order': ['free', 'enh', 'pre', 'needs_bad', 'needs_gone', 'opt', 'orphan', 'p1', 'ouser', 'user'],
     'predicted': {'bad': "named by 'load => bad' at modules.conf:6, but bad: not an ELF file",
                   'ghost': "named by 'require => ghost' at modules.conf:5, but there is no ghost.so in DIR",
                   'needs_bad': "requires bad, which will decline: named by 'load => bad' at modules.conf:6, but bad: "
                                'not an ELF file',
                   'needs_gone': 'requires gone, which is not in the modules directory',
                   'orphan': 'uses interface nobody, but no module that provides it will be loaded'},
     'preload': ['enh', 'free', 'pre'],
     'required': ['ghost'],
     'selected': ['enh', 'free', 'needs_bad', 'needs_gone', 'opt', 'orphan', 'ouser', 'p1', 'pre', 'user'],
     'skipped': {'base': "not loaded: 'noload => base' at modules.conf:2",
                 'mid': "not loaded: it requires base, which is noload ('noload => base' at modules.conf:2); implied "
                        'noload through mid -> base',
                 'top': "not loaded: it requires base, which is noload ('noload => base' at modules.conf:2); implied "
                        'noload through top -> mid -> base'},
     'why': {'bad': "not loaded: named by 'load => bad' at modules.conf:6, but bad: not an ELF file",
             'base': "not loaded: 'noload => base' at modules.conf:2",
             'enh': 'loaded: autoload=yes (the default)',
             'free': 'loaded: autoload=yes (the default)',
             'ghost': "not loaded: named by 'require => ghost' at modules.conf:5, but there is no ghost.so in DIR",
             'mid': "not loaded: it requires base, which is noload ('noload => base' at modules.conf:2); implied "
                    'noload through mid -> base',
             'needs_bad': "will decline: requires bad, which will decline: named by 'load => bad' at modules.conf:6, "
                          'but bad: not an ELF file (loaded: autoload=yes (the default))',
             'needs_gone': 'will decline: requires gone, which is not in the modules directory (loaded: autoload=yes '
                           '(the default))',
             'opt': 'loaded: autoload=yes (the default)',
             'orphan': 'will decline: uses interface nobody, but no module that provides it will be loaded (loaded: '
                       'autoload=yes (the default))',
             'ouser': 'loaded: autoload=yes (the default)',
             'p1': 'loaded: autoload=yes (the default)',
             'pre': "loaded: named by 'preload => pre' at modules.conf:3",
             'top': "not loaded: it requires base, which is noload ('noload => base' at modules.conf:2); implied "
                    'noload through top -> mid -> base',
             'user': 'loaded: autoload=yes (the default)'}}


def test_plan_autoload_no():
    metas = [M("a_top", requires=["a_mid"]), M("a_mid", requires=["a_base", "a_bad"]), M("a_base"), M("a_other"),
         M("b_top", requires=["b_dep"]), M("b_dep"), M("c1", conflicts=["c2"]), M("c2", conflicts=["c1"]), M("lonely")]
    assert run(metas, "[modules]\nautoload = no\nload => a_top\nload => b_top\nnoload => b_dep\nload => c1\nload => c2\nnoload => lonely\n", ('a_bad',)) == {'chains': {'a_base': ['a_top', 'a_mid', 'a_base'], 'a_mid': ['a_top', 'a_mid']},
     'cycles': [],
     'edges': [('a_base', 'a_mid', 'requires'), ('a_mid', 'a_top', 'requires')],
     'errors': [('modules.conf',
                 5,
                 11,
                 'loader-implied-load',
                 'b_dep',
                 "'noload => b_dep' at modules.conf:5 contradicts 'load => b_top' at modules.conf:4, which implies "
                 'load for b_dep (b_top -> b_dep)',
                 {'chain': ['b_top', 'b_dep'], 'lines': ['modules.conf:5', 'modules.conf:4']}),
                ('modules.conf',
                 6,
                 9,
                 'loader-conflict',
                 'c1',
                 "c1 conflicts with c2, and both would be loaded (c1: loaded: named by 'load => c1' at modules.conf:6; "
                 "c2: loaded: named by 'load => c2' at modules.conf:7); noload one of them",
                 {'modules': ['c1', 'c2']})],
     'explicit': ['a_top', 'b_top', 'c1', 'c2'],
     'invalid': {'a_bad': 'a_bad: not an ELF file'},
     'notes': [],
     'ok': False,
     'order': ['a_base', 'a_mid', 'a_top', 'b_top', 'c1', 'c2'],
     'predicted': {'a_mid': 'requires a_bad, which is not a loadable module: a_bad: not an ELF file',
                   'a_top': 'requires a_mid, which will decline: requires a_bad, which is not a loadable module: '
                            'a_bad: not an ELF file',
                   'b_top': "requires b_dep, which is not loaded (not loaded: 'noload => b_dep' at modules.conf:5)"},
     'preload': [],
     'required': [],
     'selected': ['a_base', 'a_mid', 'a_top', 'b_top', 'c1', 'c2'],
     'skipped': {'a_bad': 'not loaded: a_bad: not an ELF file',
                 'a_other': 'not loaded: autoload=no at modules.conf:2 and nothing named or required it',
                 'b_dep': "not loaded: 'noload => b_dep' at modules.conf:5",
                 'lonely': "not loaded: 'noload => lonely' at modules.conf:8"},
     'why': {'a_bad': 'not loaded: a_bad: not an ELF file',
             'a_base': "loaded: required by a_mid; implied load from 'load => a_top' at modules.conf:3 (a_top -> a_mid "
                       '-> a_base)',
             'a_mid': 'will decline: requires a_bad, which is not a loadable module: a_bad: not an ELF file (loaded: '
                      "required by a_top; implied load from 'load => a_top' at modules.conf:3 (a_top -> a_mid))",
             'a_other': 'not loaded: autoload=no at modules.conf:2 and nothing named or required it',
             'a_top': 'will decline: requires a_mid, which will decline: requires a_bad, which is not a loadable '
                      "module: a_bad: not an ELF file (loaded: named by 'load => a_top' at modules.conf:3)",
             'b_dep': "not loaded: 'noload => b_dep' at modules.conf:5",
             'b_top': "will decline: requires b_dep, which is not loaded (not loaded: 'noload => b_dep' at "
                      "modules.conf:5) (loaded: named by 'load => b_top' at modules.conf:4)",
             'c1': "loaded: named by 'load => c1' at modules.conf:6",
             'c2': "loaded: named by 'load => c2' at modules.conf:7",
             'lonely': "not loaded: 'noload => lonely' at modules.conf:8"}}


def test_plan_cycles():
    metas = [M("s1", optional_modules=["s2"]), M("s2", optional_modules=["s1"]), M("h1", requires=["h2"]),
         M("h2", requires=["h1", "h3"]), M("h3", requires=["h2"]), M("after", requires=["h1"]),
         M("ip", provides=["x"], requires=["iu"]), M("iu", interfaces_required=["x"]), M("loop", requires=["loop"])]
    assert run(metas, "[modules]\npreload-require => s2\n", ()) == {'chains': {},
     'cycles': [['h1', 'h2', 'h1'], ['ip', 'iu', 'ip'], ['loop', 'loop']],
     'edges': [('h1', 'after', 'requires'),
               ('h2', 'h1', 'requires'),
               ('h1', 'h2', 'requires'),
               ('h3', 'h2', 'requires'),
               ('h2', 'h3', 'requires'),
               ('iu', 'ip', 'requires'),
               ('ip', 'iu', 'uses x'),
               ('loop', 'loop', 'requires'),
               ('s2', 's1', 'optional'),
               ('s1', 's2', 'optional')],
     'errors': [('/m/h1.so',
                 0,
                 0,
                 'loader-cycle',
                 'h1',
                 'required dependencies form a cycle: h1 requires h2 requires h1 (strongly connected: h1, h2, h3)',
                 {'cycle': ['h1', 'h2', 'h1']}),
                ('/m/ip.so',
                 0,
                 0,
                 'loader-cycle',
                 'ip',
                 'required dependencies form a cycle: ip requires iu requires ip',
                 {'cycle': ['ip', 'iu', 'ip']}),
                ('/m/loop.so',
                 0,
                 0,
                 'loader-cycle',
                 'loop',
                 'required dependencies form a cycle: loop requires loop',
                 {'cycle': ['loop', 'loop']})],
     'explicit': ['after', 'h1', 'h2', 'h3', 'ip', 'iu', 'loop', 's1', 's2'],
     'invalid': {},
     'notes': ['ordering s2 before s1 dropped: optional, interface or enhances edges form a cycle there'],
     'ok': False,
     'order': ['s1', 's2'],
     'predicted': {},
     'preload': ['s1', 's2'],
     'required': ['s2'],
     'selected': ['after', 'h1', 'h2', 'h3', 'ip', 'iu', 'loop', 's1', 's2'],
     'skipped': {'after': 'not loaded: depends on a cycle of required dependencies',
                 'h1': 'not loaded: in a cycle of required dependencies',
                 'h2': 'not loaded: in a cycle of required dependencies',
                 'h3': 'not loaded: in a cycle of required dependencies',
                 'ip': 'not loaded: in a cycle of required dependencies',
                 'iu': 'not loaded: in a cycle of required dependencies',
                 'loop': 'not loaded: in a cycle of required dependencies'},
     'why': {'after': 'not loaded: depends on a cycle of required dependencies',
             'h1': 'not loaded: in a cycle of required dependencies',
             'h2': 'not loaded: in a cycle of required dependencies',
             'h3': 'not loaded: in a cycle of required dependencies',
             'ip': 'not loaded: in a cycle of required dependencies',
             'iu': 'not loaded: in a cycle of required dependencies',
             'loop': 'not loaded: in a cycle of required dependencies',
             's1': 'loaded: autoload=yes (the default)',
             's2': "loaded: named by 'preload-require => s2' at modules.conf:2"}}


def test_plan_autoload_no_contradictions():
    metas = [M("a_ghostuser"), M("both"), M("d_top", requires=["d_left", "d_right"]),
             M("d_left", requires=["d_base"]), M("d_right", requires=["d_base"]), M("d_base"), M("k2")]
    assert run(metas, "[modules]\nautoload = no\nload => a_ghost\nload => both\nnoload => both\nload => bad\nload => d_top\nload => k2\n", ('bad',)) == {'chains': {'d_base': ['d_top', 'd_left', 'd_base'],
                'd_left': ['d_top', 'd_left'],
                'd_right': ['d_top', 'd_right']},
     'cycles': [],
     'edges': [('d_base', 'd_left', 'requires'),
               ('d_base', 'd_right', 'requires'),
               ('d_left', 'd_top', 'requires'),
               ('d_right', 'd_top', 'requires')],
     'errors': [('modules.conf',
                 4,
                 9,
                 'loader-load-noload',
                 'both',
                 "'load => both' at modules.conf:4 contradicts 'noload => both' at modules.conf:5",
                 {})],
     'explicit': ['d_top', 'k2'],
     'invalid': {'bad': 'bad: not an ELF file'},
     'notes': [],
     'ok': False,
     'order': ['d_base', 'd_left', 'd_right', 'd_top', 'k2'],
     'predicted': {'a_ghost': "named by 'load => a_ghost' at modules.conf:3, but there is no a_ghost.so in DIR; "
                              "did you mean 'a_ghostuser'?",
                   'bad': "named by 'load => bad' at modules.conf:6, but bad: not an ELF file"},
     'preload': [],
     'required': [],
     'selected': ['d_base', 'd_left', 'd_right', 'd_top', 'k2'],
     'skipped': {'a_ghostuser': 'not loaded: autoload=no at modules.conf:2 and nothing named or required it',
                 'both': "not loaded: 'noload => both' at modules.conf:5"},
     'why': {'a_ghost': "not loaded: named by 'load => a_ghost' at modules.conf:3, but there is no a_ghost.so in DIR; "
                        "did you mean 'a_ghostuser'?",
             'a_ghostuser': 'not loaded: autoload=no at modules.conf:2 and nothing named or required it',
             'bad': "not loaded: named by 'load => bad' at modules.conf:6, but bad: not an ELF file",
             'both': "not loaded: 'noload => both' at modules.conf:5",
             'd_base': "loaded: required by d_left; implied load from 'load => d_top' at modules.conf:7 (d_top -> "
                       'd_left -> d_base)',
             'd_left': "loaded: required by d_top; implied load from 'load => d_top' at modules.conf:7 (d_top -> "
                       'd_left)',
             'd_right': "loaded: required by d_top; implied load from 'load => d_top' at modules.conf:7 (d_top -> "
                        'd_right)',
             'd_top': "loaded: named by 'load => d_top' at modules.conf:7",
             'k2': "loaded: named by 'load => k2' at modules.conf:8"}}


def test_plan_conflicts_and_soft_cycles():
    metas = [M("k1", conflicts=["k2"]), M("k2"), M("k3", conflicts=["k4"]), M("k4"),
             M("w1", optional_modules=["w2", "w3"]), M("w2", optional_modules=["w1"]), M("w3", optional_modules=["w1"]),
             M("ou", interfaces_optional=["none_provides"])]
    assert run(metas, "[modules]\nload => k2\n", ()) == {'chains': {},
     'cycles': [],
     'edges': [('w2', 'w1', 'optional'), ('w3', 'w1', 'optional'), ('w1', 'w2', 'optional'), ('w1', 'w3', 'optional')],
     'errors': [('modules.conf',
                 2,
                 9,
                 'loader-conflict',
                 'k1',
                 'k1 conflicts with k2, and both would be loaded (k1: loaded: autoload=yes (the default); k2: loaded: '
                 "named by 'load => k2' at modules.conf:2); noload one of them",
                 {'modules': ['k1', 'k2']}),
                ('/m/k3.so',
                 0,
                 0,
                 'loader-conflict',
                 'k3',
                 'k3 conflicts with k4, and both would be loaded (k3: loaded: autoload=yes (the default); k4: loaded: '
                 'autoload=yes (the default)); noload one of them',
                 {'modules': ['k3', 'k4']})],
     'explicit': ['k1', 'k2', 'k3', 'k4', 'ou', 'w1', 'w2', 'w3'],
     'invalid': {},
     'notes': ['ordering w2, w3 before w1 dropped: optional, interface or enhances edges form a cycle there'],
     'ok': False,
     'order': ['k1', 'k2', 'k3', 'k4', 'ou', 'w1', 'w2', 'w3'],
     'predicted': {},
     'preload': [],
     'required': [],
     'selected': ['k1', 'k2', 'k3', 'k4', 'ou', 'w1', 'w2', 'w3'],
     'skipped': {},
     'why': {'k1': 'loaded: autoload=yes (the default)',
             'k2': "loaded: named by 'load => k2' at modules.conf:2",
             'k3': 'loaded: autoload=yes (the default)',
             'k4': 'loaded: autoload=yes (the default)',
             'ou': 'loaded: autoload=yes (the default)',
             'w1': 'loaded: autoload=yes (the default)',
             'w2': 'loaded: autoload=yes (the default)',
             'w3': 'loaded: autoload=yes (the default)'}}


def test_default_label_of_the_modules_directory():
    config, _ = parse_config("[modules]\nrequire => ghost\n", "modules.conf")
    plan = plan_load([], lambda name: None, config)
    assert plan.predicted == {"ghost": "named by 'require => ghost' at modules.conf:2, but there is no ghost.so in "
                                        "the modules directory"}


PROVIDERS = [M("pp_config", provides=["pp_wizard"])._replace(support_level="extended"),
             M("pp_memory", provides=["pp_wizard"])._replace(support_level="core"),
             M("pp_user", interfaces_required=["pp_wizard"]),
             M("pp_direct", requires=["pp_memory"], interfaces_required=["pp_wizard"]),
             M("pp_app", names=["application:Wizardry"])]


def test_plan_providers_pulled_in_preferred_and_named():
    # autoload = no: a required interface pulls in its default provider (core before extended), said so
    got = run(PROVIDERS, "[modules]\nautoload = no\nload => pp_user\nload-provider => application:Wizardry\n")
    assert (got["ok"], got["order"], got["chains"]) == (True, ["pp_app", "pp_memory", "pp_user"],
                                                        {"pp_memory": ["pp_user", "pp_memory"]})
    assert got["why"]["pp_memory"] == (
        "loaded: provides interface pp_wizard, which pp_user requires (pp_memory is the default choice for interface "
        "pp_wizard among pp_config, pp_memory: support level (core first), then name; 'prefer => MODULE' in "
        "modules.conf picks another); implied load from 'load => pp_user' at modules.conf:3 (pp_user -> pp_memory)")
    assert got["why"]["pp_app"] == ("loaded: named by 'load-provider => application:Wizardry' at modules.conf:4 "
                                    "(application Wizardry is provided by pp_app)")
    # reached first from a module that requires it by name as well: the plain reason
    got = run(PROVIDERS, "[modules]\nautoload = no\nload => pp_direct\nload => pp_user\n")
    assert got["why"]["pp_memory"] == ("loaded: required by pp_direct; implied load from 'load => pp_direct' at "
                                       "modules.conf:3 (pp_direct -> pp_memory)")
    assert got["order"] == ["pp_memory", "pp_direct", "pp_user"]
    # autoload = yes: prefer passes over the other provider, and what requires it by name will decline
    got = run(PROVIDERS, "[modules]\nprefer => pp_config\n")
    passed = ("not loaded: provides interface pp_wizard, whose preferred provider is pp_config ('prefer => pp_config' "
              "at modules.conf:2); name it with 'load =>' to load it as well")
    assert got["skipped"] == {"pp_memory": passed}
    assert got["predicted"] == {"pp_direct": f"requires pp_memory, which is not loaded ({passed})"}
    assert got["order"] == ["pp_app", "pp_config", "pp_direct", "pp_user"]


def test_plan_provided_names_not_built_or_unknown():
    from buildtool.model import Module, Tree
    tree = Tree(modules={"pn_curl": Module(name="pn_curl", source="pn_curl.c", line=1, names=("function:CURL",),
                                           libraries_required=("curl",))})
    config, diags = parse_config("[modules]\nautoload = no\nload => pp_direct\nload-provider => function:CURL\n"
                                 "load-provider => application:Wizardy\n", "modules.conf")
    assert not diags
    table = {m.name: m for m in PROVIDERS}
    plan = plan_load(list(table), table.__getitem__, config, "DIR", tree=tree)
    assert [(e.path, e.line, e.column, e.code, e.module, e.message, dict(e.data)) for e in plan.errors] == [
        ("modules.conf", 5, 18, "loader-provider-unknown", None,
         "'load-provider => application:Wizardy': no module in DIR provides application Wizardy; did you mean "
         "'Wizardry'?", {"name": "application:Wizardy"})]
    assert plan.why["pn_curl"] == (
        "not loaded: named by 'load-provider => function:CURL' at modules.conf:4 (function CURL is provided by "
        "pn_curl, which was not built: there is no pn_curl.so in DIR (its MODULEINFO requires curl)), but there is "
        "no pn_curl.so in DIR")
    # a loaded module's decision has no rule or obstacle to report
    assert plan.decisions["pp_direct"].reason == "" and plan.decisions["pp_memory"].reason == ""


def test_plan_named_modules_after_a_contradicted_one_are_still_checked():
    # aa_both (load and noload) sorts before zz_ghost, which is missing: both are still said
    got = run([M("aa_both")], "[modules]\nautoload = no\nload => aa_both\nnoload => aa_both\nload => zz_ghost\n")
    assert got["errors"] == [("modules.conf", 3, 9, "loader-load-noload", "aa_both",
                              "'load => aa_both' at modules.conf:3 contradicts 'noload => aa_both' at modules.conf:4", {})]
    assert got["predicted"] == {"zz_ghost": "named by 'load => zz_ghost' at modules.conf:5, but there is no zz_ghost.so "
                                            "in DIR"}
