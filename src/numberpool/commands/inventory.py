"""`numberpool inventory import|add-range|export|withdraw|report`: the operator's numbers."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TextIO

from numberpool import cli_audit
from numberpool.commands.common import CommandError, database_flags, run_with_store, say
from numberpool.commands.progress import ImportProgress
from numberpool.core.inventory_import import (
    BATCH,
    PHONE_NUMBER,
    ImportSummary,
    NumbersFileError,
    Rejection,
    NumbersReader,
    import_file,
    import_range,
)
from numberpool.core.audit import service_now
from numberpool.core.inventory_export import export_csv
from numberpool.core.inventory_report import inventory_report
from numberpool.core.inventory_store import ExportFilter
from numberpool.core.inventory_withdraw import withdraw_numbers
from numberpool.core.model import NumberState
from numberpool.store import Store

def register(commands: argparse._SubParsersAction) -> None:
    inventory = commands.add_parser("inventory", help="the numbers for sale: import, export, withdraw, report")
    sub = inventory.add_subparsers(dest="inventory_command", required=True)
    cli_audit.add_inventory_commands(sub)  # release-aging, history: the lifecycle's commands

    load = sub.add_parser("import", help="add the numbers of a CSV file (header row; phoneNumber required)")
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--dry-run", action="store_true", help="check every row and count, change nothing")
    load.add_argument("--rejects", type=Path, metavar="REJECTS.csv",
                      help="write the rejected rows here: the input columns plus error")
    load.add_argument("--batch-size", type=int, default=BATCH, help=argparse.SUPPRESS)  # tests: many small commits
    database_flags(load)

    add_range = sub.add_parser("add-range", help="add every number from FIRST to LAST (E.164, same country)")
    add_range.add_argument("first", metavar="FIRST")
    add_range.add_argument("last", metavar="LAST")
    add_range.add_argument("--force", action="store_true", help="allow a range of more than 10,000,000 numbers")
    add_range.add_argument("--dry-run", action="store_true", help="check and count, change nothing")
    database_flags(add_range)

    export = sub.add_parser("export", help="print numbers as CSV on stdout (streamed)")
    export.add_argument("--state", choices=[s.value for s in NumberState])
    export.add_argument("--country", metavar="CC", help="ISO country code, e.g. NL")
    export.add_argument("--resource", metavar="ID", help="the resource (tenant) that purchased them")
    database_flags(export)

    withdraw = sub.add_parser("withdraw", help="take available numbers out of sale for good")
    withdraw.add_argument("targets", nargs="+", metavar="FILE|NUMBER",
                          help="E.164 numbers, or CSV files with a phoneNumber column")
    database_flags(withdraw)

    report = sub.add_parser("report", help="counts by country, type, area code and state")
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    database_flags(report)


def run(args: argparse.Namespace) -> int:
    handler = {"import": _import, "add-range": _add_range, "export": _export, "withdraw": _withdraw,
               "report": _report}[args.inventory_command]
    return handler(args)


class _Rejects:
    """Rejected rows: one line each on stderr, and the input row plus `error` in REJECTS.csv."""

    def __init__(self, source: str, path: Path | None) -> None:
        self._source = source
        self._path = path
        self._handle: TextIO | None = None
        self._writer = None
        self.header: list[str] = []

    def open(self) -> None:
        if self._path is None:
            return
        try:
            self._handle = self._path.open("w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{self._path}: cannot be written ({exc.strerror})") from None
        self._writer = csv.writer(self._handle)
        self._writer.writerow([*self.header, "error"])

    def __call__(self, rejection: Rejection) -> None:
        say(f"{self._source}:{rejection.line}: {rejection.phone_number or '(no number)'}: {rejection.reason}")
        if self._writer is not None:
            self._writer.writerow([*rejection.row, rejection.reason])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _finish(summary: ImportSummary) -> int:
    print(summary.text())
    return 1 if summary.rejected else 0


def _import(args: argparse.Namespace) -> int:
    try:
        header = NumbersReader(args.file)
        header.check()  # before touching the database
    except NumbersFileError as exc:
        say(f"numberpool: error: {exc}")
        return 2
    rejects = _Rejects(str(args.file), args.rejects)
    rejects.header = header.header
    try:
        total = args.file.stat().st_size
    except OSError:
        total = None

    async def work(store: Store) -> int:
        rejects.open()
        try:
            with ImportProgress(f"importing {args.file.name}", total) as progress:
                summary = await import_file(store, args.file, dry_run=args.dry_run, on_reject=rejects,
                                            progress=progress, batch=max(args.batch_size, 1))
        except NumbersFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            rejects.close()
        return _finish(summary)

    return run_with_store(args, work)


def _add_range(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        rejects = _Rejects("range", None)
        try:
            with ImportProgress("adding the range", None) as progress:
                summary = await import_range(store, args.first, args.last, force=args.force, dry_run=args.dry_run,
                                             on_reject=rejects, progress=progress)
        except NumbersFileError as exc:
            raise CommandError(str(exc)) from None
        return _finish(summary)

    return run_with_store(args, work)


def _export(args: argparse.Namespace) -> int:
    where = ExportFilter(args.state, args.country.upper() if args.country else None, args.resource)

    async def work(store: Store) -> int:
        async for lines in export_csv(store, where):
            sys.stdout.write(lines)
        sys.stdout.flush()
        return 0

    return run_with_store(args, work)


def _numbers_of(targets: list[str]) -> list[str]:
    numbers: list[str] = []
    for target in targets:
        if target.startswith("+"):
            if not target[1:].isdigit():
                raise CommandError(f"{target!r} is not an E.164 number")
            numbers.append(target)
            continue
        reader = NumbersReader(Path(target))
        try:
            rows = reader.open()
            at = reader.header.index(PHONE_NUMBER)
            for line, row in rows:
                if len(row) <= at or not row[at].strip().startswith("+"):
                    raise CommandError(f"{target}:{line}: phoneNumber: not an E.164 number")
                numbers.append(row[at].strip())
        except NumbersFileError as exc:
            raise CommandError(str(exc)) from None
    return numbers


def _withdraw(args: argparse.Namespace) -> int:
    try:
        numbers = _numbers_of(args.targets)
    except CommandError as exc:
        say(f"numberpool: error: {exc}")
        return exc.status

    async def work(store: Store) -> int:
        result = await withdraw_numbers(store, numbers, await service_now(store))
        for number, reason in result.refused:
            say(f"{number}: refused: {reason}")
        print(result.text())
        return 1 if result.refused else 0

    return run_with_store(args, work)


def _report(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        report = await inventory_report(store)
        if args.json:
            print(json.dumps(report.as_json(), indent=2))
            return 0
        states = [s for s, n in report.by_state().items() if n]
        header = ("country", "type", "areaCode", *states, "total")
        lines = [header]
        for (country, kind, area), counts in sorted(report.by("country", "type", "areaCode").items()):
            lines.append((country, kind, area, *(str(counts[s]) for s in states), str(sum(counts.values()))))
        totals = report.by_state()
        lines.append(("all", "", "", *(str(totals[s]) for s in states), str(report.total)))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        return 0

    return run_with_store(args, work)
