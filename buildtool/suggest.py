""""Did you mean": the one close name, for the scanner and the loader alike."""

from __future__ import annotations

from typing import Iterable


def did_you_mean(name: str, pool: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest name of ``pool`` (never ``name`` itself), or ``""``."""
    import difflib  # only a name that is wrong pays for it

    pool = sorted(set(pool) - {name})
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
    if not close:
        lowered = {p.lower(): p for p in pool}
        close = difflib.get_close_matches(name.lower(), sorted(lowered), n=1, cutoff=0.75)
        close = [lowered[c] for c in close]
    return f"; did you mean '{close[0]}'?" if close else ""
