"""The start-up report (JSON and text): what loaded, in which order, and why each module did or did not.

JSON keys: ``order`` (loaded names in load order), ``declined``/``skipped``/
``failed`` ({name: reason}), ``errors`` (objects with at least ``severity``,
``code``, ``message``; configuration ones also ``path``, ``line``, ``column``),
``use_counts`` ({name: n} for loaded modules), ``why`` ({name: explanation}
for every module in the directory or named by the configuration), ``explicit``
(loaded by configuration or command, not only as a dependency), ``preload``
(the preload group), ``notes``, ``dry_run``, and ``commands`` (one result per
runtime command), ``provided`` (for each provided-name line of modules.conf and each
``--explain`` name: the module that provides it and what that module needs).
"""

from __future__ import annotations

from buildtool.loader.runtime import DECLINED, FAILED, RUNNING, Loader


def build_report(loader: Loader, dry_run: bool = False, commands: list[dict] | None = None,
                 explain: list[str] = ()) -> dict:
    plan = loader.load_plan()
    errors = [d.to_json() for d in plan.errors]
    errors += [problem.to_json() for problem in loader.errors]
    why = {}
    for name, decision in plan.decisions.items():
        if decision.outcome is not None:
            why[name] = decision.why
        elif decision.invalid:
            why[name] = f"not loaded: {decision.invalid}"
    report: dict = {
        "dry_run": dry_run,
        "modules_dir": loader.modules_dir,
        "config": plan.config.path,
        "autoload": plan.config.autoload,
        "errors": errors,
        "notes": list(plan.notes),
    }
    if dry_run:
        predicted = plan.predicted
        report.update(
            order=[n for n in plan.order if n not in predicted],
            declined=dict(sorted(predicted.items())),
            skipped=dict(sorted(plan.skipped.items())),
            failed={},
            use_counts={},
            explicit=sorted(n for n in plan.explicit if n not in predicted),
        )
    else:
        declined, failed, skipped = {}, {}, dict(plan.skipped)
        for name, st in sorted(loader.states.items()):
            if st.status == DECLINED:
                declined[name] = st.reason
                why[name] = f"declined: {st.reason}"
            elif st.status == FAILED:
                failed[name] = st.reason
                why[name] = f"failed: {st.reason}"
            elif st.status == RUNNING and name not in plan.selected:
                why[name] = "loaded: by a runtime command" + ("" if st.explicit else " (as a dependency)")
            elif st.status != RUNNING and st.reason and name in plan.selected:
                skipped[name] = st.reason
                why[name] = f"not loaded: {st.reason}"
        report.update(
            order=list(loader.order),
            declined=declined,
            skipped=dict(sorted(skipped.items())),
            failed=failed,
            use_counts=loader.use_counts(),
            explicit=sorted(n for n in loader.order if loader.states[n].explicit),
        )
    report["preload"] = sorted(plan.preload)
    report["why"] = dict(sorted(why.items()))
    report["commands"] = commands or []
    from buildtool.loader.ondemand import explanations

    report["provided"] = explanations(loader, list(explain))
    return report


def render_text(report: dict) -> str:
    lines = []
    lines.append(("planned" if report["dry_run"] else "loaded") + " order: " + (", ".join(report["order"]) or "(none)"))
    for err in report["errors"]:
        where = f"{err['path']}:{err['line']}:{err['column']}: " if "path" in err else ""
        lines.append(f"{where}{err['severity']}: {err['message']} [{err['code']}]")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    width = max((len(n) for n in report["why"]), default=0)
    lines.append("")
    for name, text in report["why"].items():
        uc = report["use_counts"].get(name)
        lines.append(f"{name:<{width}}  {text}" + (f" [use count {uc}]" if uc else ""))
    for item in report.get("provided", ()):
        lines.append(f"provided: {item['text']}" + (f" ('{item['line']}')" if item.get("line") else ""))
    for cmd in report["commands"]:
        lines.append(f"> {cmd['command']}: {'ok' if cmd['ok'] else 'refused'}: {cmd.get('message', '')}")
    return "\n".join(lines) + "\n"
