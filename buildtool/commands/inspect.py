from __future__ import annotations

import json
import sys

from buildtool.elfinfo import LIST_KEYS, describe_flags, read_record
from buildtool.errors import RecordError


def configure(parser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("modules", nargs="+", metavar="MODULE.so")


def run(args) -> int:
    records, status = [], 0
    for path in args.modules:
        try:
            records.append(read_record(path))
        except RecordError as exc:
            print(f"{exc}", file=sys.stderr)
            status = 2
    if args.format == "json":
        print(json.dumps({"schema": 1, "modules": [r.to_json() for r in records]}, indent=2, sort_keys=True))
        return status
    for record in records:
        print(f"{record.path}: {record.name} (ABI {record.abi_version}, struct {record.struct_size} bytes, "
              f"flags {describe_flags(record.flags)}, {record.machine})")
        for key, value in sorted(record.fields.items()):
            if key != "name" and value:
                print(f"  {key}: {', '.join(record.list(key)) if key in LIST_KEYS else value}")
    return status
