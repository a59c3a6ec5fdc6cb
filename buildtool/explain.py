"""Why a module is not built or not loaded, when the cause is a module it requires.

One sentence shape for every stage that decides (the meson plan's ``decide``,
the loader's plan and runtime, the release check's ``disabled_modules``):
``requires X, which <what became of X>``, where X is the first required
module, in the order given, that is not there. Each stage says what became of
X in its own words ("declined: load() returned DECLINE", "is disabled
(...)"), so the chain reads back to the root cause.
"""

from __future__ import annotations

from typing import Callable, Iterable


def blocking_requirement(requires: Iterable[str],
                         fate: Callable[[str], str | None]) -> tuple[str, str] | None:
    """The first module of ``requires`` that is not there, and the sentence saying why not.

    ``fate(name)`` says what became of a required module that is not there, or
    None when it is (it may do the work that decides it: the runtime loads it).
    """
    for name in requires:
        what = fate(name)
        if what is not None:
            return name, f"requires {name}, which {what}"
    return None
