"""``buildtool modules``: a table like Asterisk's ``module show``, after start-up (or planned, --dry-run),
with what each module provides: its interfaces (``interface:NAME``) and the names its DOCUMENTATION
declares (``application:Gosub``, ``function:LEN``, ...), read from the records."""

from __future__ import annotations

import json
import sys

from buildtool.loader.cli_support import add_loader_arguments, make_loader
from buildtool.commands.common import emit
from buildtool.loader.plan import Decision, Outcome
from buildtool.loader.runtime import Status



def configure(parser) -> None:
    add_loader_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--dry-run", action="store_true", help="do not load: status from the plan only")
    parser.add_argument("-o", "--output", metavar="FILE")


def provided(meta) -> list[str]:
    """Interfaces first (``interface:NAME``), then the provided names, each group sorted."""
    if meta is None:
        return []
    return [f"interface:{i}" for i in sorted(meta.provides)] + sorted(meta.names)


def _reason(name: str, st, plan) -> str:
    if st is not None and st.reason:
        return st.reason
    found = plan.decisions.get(name, Decision())
    return found.reason if found.outcome is Outcome.WILL_DECLINE else found.why


def run(args) -> int:
    loader = make_loader(args)
    if loader is None:
        return 2
    if args.dry_run:
        loader.load_plan()
        return _show(loader, args)
    # Module code runs: in a supervised child, as for buildtool load (buildtool/loader/supervise.py).
    from buildtool.loader.supervise import supervise

    loader.load_plan()
    code, report, message = supervise(loader, lambda child_loader: _start_and_show(child_loader, args))
    if message:
        print(f"buildtool modules: {message}", file=sys.stderr)
    if report is not None:  # the child died: the table of the states it journaled
        _show(loader, args)
    return code


def _start_and_show(loader, args) -> int:
    loader.start()
    return _show(loader, args)


def _show(loader, args) -> int:
    plan = loader.plan
    rows = []
    for name in sorted(set(loader.paths) | set(plan.decisions)):
        meta = plan.metas.get(name) or loader.meta(name)
        st = loader.states.get(name)
        decision = plan.decisions.get(name, Decision())
        if args.dry_run:
            declines = decision.outcome is Outcome.WILL_DECLINE
            status = ("Will Load" if name in plan.selected and not declines
                      else "Will Decline" if declines else "Not Loaded")
        else:
            status = {Status.RUNNING: "Running", Status.DECLINED: "Declined", Status.FAILED: "Failed"}.get(
                st.status if st else None, "Not Running")
        rows.append({
            "module": f"{name}.so", "description": meta.description if meta else decision.invalid,
            "use_count": st.use_count if st else 0, "status": status,
            "support_level": (meta.support_level or "unknown") if meta else "unknown",
            "provides": provided(meta),
            # Why it is not running (declined, failed, not loaded), as `buildtool load` says it.
            "reason": "" if status in ("Running", "Will Load") else _reason(name, st, plan),
        })
    if args.format == "json":
        emit(json.dumps(rows, indent=2) + "\n", args.output)
    else:
        wm = max([len("Module")] + [len(r["module"]) for r in rows])
        wd = max([len("Description")] + [len(r["description"]) for r in rows])
        ws = max([len("Support Level")] + [len(r["support_level"]) for r in rows])
        lines = [f"{'Module':<{wm}} {'Description':<{wd}} {'Use Count':>9}  {'Status':<12} "
                 f"{'Support Level':<{ws}} Provides"]
        for r in rows:
            lines.append((f"{r['module']:<{wm}} {r['description']:<{wd}} {r['use_count']:>9}  "
                          f"{r['status']:<12} {r['support_level']:<{ws}} {', '.join(r['provides'])}").rstrip())
        running = sum(1 for r in rows if r["status"] == "Running")
        lines.append(f"{running} modules loaded" if not args.dry_run else f"{len(rows)} modules")
        # The reasons after the table, so its columns stay Asterisk's `module show`.
        why = [f"  {r['module']}: {r['reason']}" for r in rows if r["reason"]]
        if why:
            lines += ["Why not running:"] + why
        emit("\n".join(lines) + "\n", args.output)
    return 0 if plan.ok and not loader.stopped else (2 if not plan.ok else 1)
