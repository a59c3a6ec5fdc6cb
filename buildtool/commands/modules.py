"""``buildtool modules``: a table like Asterisk's ``module show``, after start-up (or planned, --dry-run)."""

from __future__ import annotations

import json

from buildtool.loader.cli_support import add_loader_arguments, make_loader
from buildtool.commands.common import emit
from buildtool.loader.runtime import DECLINED, FAILED, RUNNING



def configure(parser) -> None:
    add_loader_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--dry-run", action="store_true", help="do not load: status from the plan only")
    parser.add_argument("-o", "--output", metavar="FILE")


def _reason(name: str, st, plan) -> str:
    if st is not None and st.reason:
        return st.reason
    return plan.predicted.get(name) or plan.why.get(name, "")


def run(args) -> int:
    loader = make_loader(args)
    if loader is None:
        return 2
    if args.dry_run:
        loader.make_plan()
    else:
        loader.start()
    plan = loader.plan
    rows = []
    for name in sorted(set(loader.paths) | set(plan.why)):
        meta = plan.metas.get(name) or loader.meta(name)
        st = loader.states.get(name)
        if args.dry_run:
            status = ("Will Load" if name in plan.selected and name not in plan.predicted
                      else "Will Decline" if name in plan.predicted else "Not Loaded")
        else:
            status = {RUNNING: "Running", DECLINED: "Declined", FAILED: "Failed"}.get(
                st.status if st else "", "Not Running")
        rows.append({
            "module": f"{name}.so", "description": meta.description if meta else plan.invalid.get(name, ""),
            "use_count": st.use_count if st else 0, "status": status,
            "support_level": (meta.support_level or "unknown") if meta else "unknown",
            # Why it is not running (declined, failed, not loaded), as `buildtool load` says it.
            "reason": "" if status in ("Running", "Will Load") else _reason(name, st, plan),
        })
    if args.format == "json":
        emit(json.dumps(rows, indent=2) + "\n", args.output)
    else:
        wm = max([len("Module")] + [len(r["module"]) for r in rows])
        wd = max([len("Description")] + [len(r["description"]) for r in rows])
        lines = [f"{'Module':<{wm}} {'Description':<{wd}} {'Use Count':>9}  {'Status':<12} Support Level"]
        for r in rows:
            lines.append(f"{r['module']:<{wm}} {r['description']:<{wd}} {r['use_count']:>9}  "
                         f"{r['status']:<12} {r['support_level']}")
        running = sum(1 for r in rows if r["status"] == "Running")
        lines.append(f"{running} modules loaded" if not args.dry_run else f"{len(rows)} modules")
        # The reasons after the table, so its columns stay Asterisk's `module show`.
        why = [f"  {r['module']}: {r['reason']}" for r in rows if r["reason"]]
        if why:
            lines += ["Why not running:"] + why
        emit("\n".join(lines) + "\n", args.output)
    return 0 if plan.ok and not loader.stopped else (2 if not plan.ok else 1)
