"""``buildtool migrate``: show (or apply with --write) the move of hand-written lists into MODULEINFO.

Exit codes: 0 done (or nothing to do); 1 with ``--check`` when a source still
needs migrating, or with ``--write`` when a source changed while it was being
migrated (it is left as it is, with a message); 2 usage, input or I/O error.
"""

from __future__ import annotations

import sys

from buildtool.commands.common import add_catalog_argument, print_diagnostics, scan_paths
from buildtool.errors import ChangedMeanwhile, UnreadableInput
from buildtool.fsutil import replace_if_unchanged
from buildtool.migrate import migrate


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--write", action="store_true", help="apply the change (atomically) instead of showing it")
    parser.add_argument("--check", action="store_true", help="exit 1 when any source still needs migrating")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="module directory or module source, or one Asterisk source root")


def run(args) -> int:
    tree, cat, root = scan_paths(args.paths, args.catalog)
    UnreadableInput.stop_if_found(tree.diagnostics, shown=UnreadableInput.among(tree.diagnostics))
    migrations = migrate(tree, cat, menuselect=root is not None, compiled=root.compiled_sources() if root else None)
    pending = skipped = False
    for m in migrations:
        print_diagnostics(m.diagnostics)
        if not m.changed:
            continue
        pending = True
        if args.write:
            try:
                # Only if the file still holds what was migrated: an edit made meanwhile is never lost.
                replace_if_unchanged(m.path, m.before, m.after)
            except ChangedMeanwhile as exc:
                print(f"{exc} (run migrate again)", file=sys.stderr)
                skipped = True
                continue
            print(f"{m.path}: migrated ({len(m.removed)} hand-written list(s) removed, "
                  f"{len(m.added)} MODULEINFO tag(s) added)", file=sys.stderr)
        else:
            sys.stdout.buffer.write(m.diff().encode("latin-1"))
    sys.stdout.flush()
    if skipped:
        return 1
    return 1 if args.check and pending and not args.write else 0
