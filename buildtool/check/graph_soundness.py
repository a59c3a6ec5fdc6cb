"""Graph soundness beyond cycles: conflicts, deprecated/removed requirements, support-level policy.

Also decides which modules would be built (``disabled_modules``), since a
conflict only matters between two modules that are both built.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from buildtool.check import at_module
from buildtool.diagnostics import Diagnostic, error, note, warning
from buildtool.explain import blocking_requirement
from buildtool.model import Tree

# A module may require modules of its own level or a stronger one. Lower is stronger.
_LEVEL_RANK = {"core": 0, "extended": 1, "external": 1, "deprecated": 2}


def disabled_modules(tree: Tree, explicit: Mapping[str, str] = None,
                     missing_libraries: Iterable[str] = (), default_disabled_is_off: bool = True) -> dict[str, str]:
    """Modules that are not built, each with the reason, closed over required dependencies.

    A module is disabled when it is named in ``explicit`` (name -> reason), when
    its MODULEINFO says ``<defaultenabled>no</defaultenabled>``, when it
    requires a library in ``missing_libraries``, or when it requires a module
    that is disabled (the reason names the chain's first link).
    """
    explicit = dict(explicit or {})
    missing = {name.lower() for name in missing_libraries}
    reasons: dict[str, str] = {}
    for name in sorted(tree.modules):
        module = tree.modules[name]
        if name in explicit:
            reasons[name] = explicit[name] or "disabled"
        elif not module.default_enabled and default_disabled_is_off:
            reasons[name] = "<defaultenabled>no</defaultenabled>"
        else:
            absent = sorted(lib for lib in module.libraries_required if lib.lower() in missing)
            if absent:
                reasons[name] = "required library " + ", ".join(absent) + " is absent"
    changed = True
    while changed:
        changed = False
        for name in sorted(tree.modules):
            if name in reasons:
                continue
            blocked = blocking_requirement(sorted(tree.modules[name].requires),
                                           lambda dep: f"is disabled ({reasons[dep]})" if dep in reasons else None)
            if blocked:
                reasons[name] = blocked[1]
                changed = True
    return reasons


def check(tree: Tree, disabled: Mapping[str, str]) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    modules = tree.modules
    built = {name for name in modules if name not in disabled}
    for name in sorted(modules):
        module = modules[name]
        path, line, col = at_module(module)
        for other in module.conflicts:
            if other not in modules or name not in built or other not in built:
                continue
            if name in modules[other].conflicts and other < name:
                continue  # both declare it: reported once, at the first name
            findings.append(error(path, line, col, "conflict",
                                  f"{name} conflicts with {other}, and both would be built; disable one of them",
                                  module=name, data={"with": other}))
        for dep in module.requires:
            target = modules.get(dep)
            if target is None:
                continue
            replacement = f"; use {target.replacement} instead" if target.replacement else ""
            if target.removed_in:
                findings.append(error(path, line, col, "requires-removed",
                                      f"{name} requires {dep}, which is removed in {target.removed_in}{replacement}",
                                      module=name, data={"requires": dep, "removed_in": target.removed_in,
                                                         "replacement": target.replacement}))
            elif target.deprecated_in or target.support_level == "deprecated":
                since = f" since {target.deprecated_in}" if target.deprecated_in else ""
                findings.append(warning(path, line, col, "requires-deprecated",
                                        f"{name} requires {dep}, which is deprecated{since}{replacement}",
                                        module=name, data={"requires": dep, "deprecated_in": target.deprecated_in,
                                                           "replacement": target.replacement}))
            mine, theirs = module.support_level, target.support_level
            if mine in _LEVEL_RANK and theirs in _LEVEL_RANK and _LEVEL_RANK[theirs] > _LEVEL_RANK[mine]:
                findings.append(warning(path, line, col, "support-level-policy",
                                        f"{mine} module {name} requires {theirs} module {dep}",
                                        module=name, data={"requires": dep, "support_level": mine,
                                                           "required_support_level": theirs}))
    return findings


def disabled_notes(tree: Tree, disabled: Mapping[str, str]) -> list[Diagnostic]:
    return [note(*at_module(tree.modules[name]), "binary-disabled", f"{name} is not built: {reason}", module=name,
                 data={"reason": reason})
            for name, reason in sorted(disabled.items()) if name in tree.modules]
