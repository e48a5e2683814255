"""Importing an operator's numbers: a CSV file (or a range) checked row by row, loaded in batches.

Each good row goes into the batch of its locality (country, type, area code, town); a full
batch is loaded with the engine's bulk path (`Store.load_numbers`) in one transaction of its
own. Loading skips numbers already stored, whatever their state, so a re-run or a run after
the process was killed adds exactly what is missing and moves nothing.

Speed comes from doing the numbering-plan work once per block of 100 numbers
(`numbering.plan.PlanCache`) and once per distinct combination of optional column values,
so a row costs a regular-expression match and a few dictionary look-ups.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import phonenumbers

from numberpool.core.audit import service_now
from numberpool.core.model import ADMIN_ACTOR, Change, Locality, NumberType
from numberpool.numbering.divisions import division_name
from numberpool.numbering.plan import Described, PlanCache
from numberpool.core.storage import Store

PHONE_NUMBER = "phoneNumber"
OPTIONAL_COLUMNS = ("numberType", "areaCode", "locality", "administrativeDivision", "countryCode")
COLUMNS = (PHONE_NUMBER, *OPTIONAL_COLUMNS)
BATCH = 100_000
"""Numbers per load transaction (per locality)."""
PENDING = 400_000
"""Numbers held back in unfinished batches before all of them are loaded, whatever their size."""
PROGRESS_EVERY = 20_480
YIELD_EVERY = 1_024
"""Rows checked between two turns of the event loop given to the load in flight (and, in a server, to requests)."""
MAX_RANGE = 10_000_000

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TYPES = {t.value: t for t in NumberType}


class NumbersFileError(ValueError):
    """A file that cannot be imported at all (missing, not CSV, no phoneNumber column)."""


@dataclass(frozen=True)
class Rejection:
    line: int
    row: list[str]
    phone_number: str
    reason: str


@dataclass
class ImportSummary:
    rows: int = 0
    added: int = 0
    present: int = 0
    """Already stored (in any state): left exactly as they were."""
    rejected: int = 0
    dry_run: bool = False

    def text(self) -> str:
        verb = "would add" if self.dry_run else "added"
        return (
            f"{self.rows} rows: {verb} {self.added}, already present {self.present}, rejected {self.rejected}"
        )


Progress = Callable[[int, int], None]
"""Called now and then with (rows read, bytes read)."""


class NumbersReader:
    """The rows of a numbers file, streamed, with their line numbers; `bytes_read` for progress."""

    def __init__(self, path: Path, stream: BinaryIO | None = None) -> None:
        self.path = path
        """The file, or with `stream` only the name its messages give."""
        self._stream = stream
        self.header: list[str] = []
        self._binary: io.BufferedReader | None = None
        self._read_at_close = 0

    @property
    def bytes_read(self) -> int:
        binary = self._binary
        if binary is None:
            return 0
        return self._read_at_close if binary.closed else binary.tell()

    def check(self) -> None:
        """Read and check the header only."""
        self.open()
        assert self._binary is not None
        self._binary.close()

    def close(self) -> None:
        """Close the file before its rows are all read (an import cut short)."""
        binary = self._binary
        if binary is not None and not binary.closed:
            self._read_at_close = binary.tell()
            binary.close()

    def open(self) -> Iterator[tuple[int, list[str]]]:
        try:
            binary = self.path.open("rb") if self._stream is None else _rewound(self._stream)
        except FileNotFoundError:
            raise NumbersFileError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise NumbersFileError(f"{self.path}: is a directory, not a CSV file") from None
        except OSError as exc:
            raise NumbersFileError(f"{self.path}: cannot be read ({exc.strerror})") from None
        try:
            if b"\0" in binary.peek(4096)[:4096]:
                raise NumbersFileError(f"{self.path}:1: not a CSV file (binary data)")
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, strict=True)
            try:
                header = next(reader, None)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise NumbersFileError(f"{self.path}:1: not a CSV file ({_why(exc)})") from None
            if not header:
                raise NumbersFileError(
                    f"{self.path}: empty; a numbers file starts with a header row naming a phoneNumber column")
            self.header = [name.strip() for name in header]
            check_header(self.header, str(self.path))
        except NumbersFileError:
            binary.close()
            raise
        self._binary = binary
        return self._rows(reader, binary)

    def _rows(self, reader, binary) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise NumbersFileError(f"{self.path}:{reader.line_num + 1}: not CSV text ({_why(exc)})") from None
        finally:
            if not binary.closed:  # `close()` may have come first
                self._read_at_close = binary.tell()
                binary.close()


def _rewound(stream: BinaryIO) -> io.BufferedReader:
    stream.seek(0)
    return stream  # type: ignore[return-value]  # a buffered file: it peeks, as open() gives


def _why(exc: Exception) -> str:
    return "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)


def check_header(header: list[str], source: str) -> None:
    if PHONE_NUMBER not in header:
        raise NumbersFileError(
            f"{source}:1: no {PHONE_NUMBER} column in the header (columns: {', '.join(COLUMNS)})"
        )
    for name in header:
        if name not in COLUMNS:
            raise NumbersFileError(f"{source}:1: unknown column {name!r} (columns: {', '.join(COLUMNS)})")
    repeated = {name for name in header if header.count(name) > 1}
    if repeated:
        raise NumbersFileError(f"{source}:1: column {sorted(repeated)[0]!r} appears twice")


_NO_EXTRAS = ("",) * len(OPTIONAL_COLUMNS)


class _Slot:
    """The numbers waiting to be loaded into one locality."""

    __slots__ = ("locality", "numbers")

    def __init__(self, locality: Locality) -> None:
        self.locality = locality
        self.numbers: list[str] = []


class NumberImport:
    """One import run: validation state (catalog, plan cache, numbers seen) and pending batches."""

    def __init__(
        self,
        store: Store,
        sellable: set[tuple[str, NumberType]],
        *,
        dry_run: bool = False,
        on_reject: Callable[[Rejection], None] | None = None,
        progress: Progress | None = None,
        batch: int = BATCH,
        yield_every: int = YIELD_EVERY,
    ) -> None:
        self._store = store
        self._sellable = sellable
        self._dry_run = dry_run
        self._on_reject = on_reject
        self._progress = progress
        self._batch = batch
        self._yield_every = yield_every
        self._plan = PlanCache()
        self._resolved: dict[object, _Slot | str] = {}
        self._slots: dict[Locality, _Slot] = {}
        self._country_ok: dict[tuple[str, str], bool] = {}
        self._seen: dict[str, int] = {}  # block (all but the last two digits) -> bit mask of the last two
        self._pending_count = 0
        self._loading: asyncio.Task[None] | None = None
        self.summary = ImportSummary(dry_run=dry_run)
        self._change = Change(0.0, ADMIN_ACTOR)
        """Who imports, when: each number added gets its `imported` event (service time at the start)."""

    @classmethod
    async def start(cls, store: Store, **options) -> NumberImport:  # type: ignore[no-untyped-def]
        _, offerings = await store.inventory().catalog()
        imported = cls(store, {(o.country, o.number_type) for o in offerings}, **options)
        imported._change = Change(await service_now(store), ADMIN_ACTOR)
        return imported

    async def run(self, header: list[str], rows: Iterable[tuple[int, list[str]]], bytes_read: Callable[[], int] = lambda: 0) -> ImportSummary:
        number_at = header.index(PHONE_NUMBER)
        extras = [header.index(name) if name in header else None for name in OPTIONAL_COLUMNS]
        width = len(header)
        has_extras = any(i is not None for i in extras)
        summary = self.summary
        resolved, seen, batch_size, yield_every = self._resolved, self._seen, self._batch, self._yield_every
        fullmatch = _E164.fullmatch
        for line, row in rows:
            summary.rows += 1
            if summary.rows % yield_every == 0:
                await asyncio.sleep(0)  # the load in flight moves on
                if summary.rows % PROGRESS_EVERY < yield_every and self._progress:
                    self._progress(summary.rows, bytes_read())
            if len(row) != width:
                self._reject(line, row, row[number_at] if len(row) > number_at else "",
                             f"has {len(row)} fields, the header has {width}")
                continue
            number = row[number_at].strip()
            if not fullmatch(number):
                self._reject(line, row, number, f"phoneNumber: {number!r} is not an E.164 number (+ then 7 to 15 digits)")
                continue
            block = number[:-2]
            bit = 1 << int(number[-2:])
            mask = seen.get(block, 0)
            if mask & bit:
                self._reject(line, row, number, "phoneNumber: appears earlier in the file")
                continue
            seen[block] = mask | bit
            # Everything the plan and the optional columns decide is the same for the whole block
            # of 100 (given the same column values): worked out once, then one look-up per row.
            key = (block, *(row[i].strip() if i is not None else "" for i in extras)) if has_extras else block
            slot = resolved.get(key)
            if slot is None:
                slot = resolved[key] = self._slot(number, key[1:] if has_extras else _NO_EXTRAS)
            if slot.__class__ is str:
                self._reject(line, row, number, slot)  # type: ignore[arg-type]
                continue
            numbers = slot.numbers  # type: ignore[union-attr]
            numbers.append(number)
            self._pending_count += 1
            if len(numbers) >= batch_size:
                await self._load(slot)  # type: ignore[arg-type]
            elif self._pending_count >= PENDING:
                await self.flush()
        await self.flush()
        await self.wait()
        if self._progress:
            self._progress(summary.rows, bytes_read())
        return summary

    def _slot(self, number: str, given: tuple[str, ...]) -> _Slot | str:
        where = self._resolve(number, given)
        if where.__class__ is str:
            return where  # type: ignore[return-value]
        slot = self._slots.get(where)  # type: ignore[arg-type]
        if slot is None:
            slot = self._slots[where] = _Slot(where)  # type: ignore[index,arg-type]
        return slot

    async def flush(self) -> None:
        for slot in self._slots.values():
            if slot.numbers:
                await self._load(slot)

    async def _load(self, slot: _Slot) -> None:
        """Start loading the slot's numbers; the previous load must have finished first.

        One load runs while the next rows are read and checked: on PostgreSQL the database
        works on a batch while this process prepares the next one (the loop yields to the load
        every `yield_every` rows). Each load is still its own transaction, committed in order.
        """
        locality, numbers = slot.locality, slot.numbers
        slot.numbers = []
        self._pending_count -= len(numbers)
        await self.wait()
        self._loading = asyncio.create_task(self._load_batch(locality, numbers))
        await asyncio.sleep(0)

    async def wait(self) -> None:
        """Until the load in flight, if any, has committed (its exception, if it failed)."""
        if self._loading is not None:
            loading, self._loading = self._loading, None
            await loading

    async def _load_batch(self, locality: Locality, numbers: list[str]) -> None:
        if self._dry_run:
            present = await self._store.inventory().present(numbers)
            added = len(numbers) - present
        else:
            added = await self._store.load_numbers(locality, numbers, self._change)
        self.summary.added += added
        self.summary.present += len(numbers) - added

    def _reject(self, line: int, row: list[str], number: str, reason: str) -> None:
        self.summary.rejected += 1
        if self._on_reject:
            self._on_reject(Rejection(line, row, number, reason))

    def _resolve(self, number: str, given: tuple[str, ...]) -> Locality | str:
        """The locality a number goes into, or why it is rejected; the same for its whole block."""
        number_type, area_code, town, division, country = given
        plan = self._plan.describe(number)
        if isinstance(plan, str):
            return f"phoneNumber: {plan}"
        kind = self._number_type(plan, number_type)
        if not isinstance(kind, NumberType):  # NumberType is a str too
            return kind
        country = country.upper() if country else plan.country
        if country != plan.country and not self._valid_in(number, country):
            return f"countryCode: {country} contradicts the numbering plan ({number} is a number of {plan.country})"
        if (country, kind) not in self._sellable:
            return f"no offering in the catalog for {country} {kind.value} numbers"
        code = self._area_code(number, plan, area_code)
        if code.startswith("areaCode:"):
            return code
        if town or division:
            place = (town or None, division or None, division_name(country, division) if division else None)
        else:
            place = (plan.locality, plan.division_abbr, plan.division_name)
        return Locality(country, kind, code, *place)

    @staticmethod
    def _number_type(plan: Described, given: str) -> NumberType | str:
        if not given:
            return plan.default_type or (
                f"numberType: the numbering plan says {plan.plan_type}, which is none of"
                f" {', '.join(_TYPES)}; give a numberType"
            )
        kind = _TYPES.get(given)
        if kind is None:
            return f"numberType: {given!r} is not one of {', '.join(_TYPES)}"
        if plan.types and kind not in plan.types:
            return f"numberType: {given} contradicts the numbering plan, which says {plan.plan_type}"
        return kind

    @staticmethod
    def _area_code(number: str, plan: Described, given: str) -> str:
        if not given:
            return plan.area_code or "areaCode: the numbering plan gives none for this number; give an areaCode"
        if plan.area_code is not None and given != plan.area_code:
            return f"areaCode: {given} contradicts the numbering plan, which gives {plan.area_code}"
        national = phonenumbers.national_significant_number(phonenumbers.parse(number))
        if plan.area_code is None and not national.startswith(given):
            return f"areaCode: {given} is not a prefix of the national number {national}"
        return given

    def _valid_in(self, number: str, country: str) -> bool:
        key = (number[:-2], country)
        ok = self._country_ok.get(key)
        if ok is None:
            ok = self._country_ok[key] = phonenumbers.is_valid_number_for_region(phonenumbers.parse(number), country)
        return ok


async def import_file(store: Store, path: Path, **options) -> ImportSummary:  # type: ignore[no-untyped-def]
    """Import a numbers file; raises NumbersFileError (before importing anything) for an unusable file."""
    reader = NumbersReader(path)
    rows = reader.open()
    run = await NumberImport.start(store, **options)
    return await run.run(reader.header, rows, lambda: reader.bytes_read)


def range_numbers(first: str, last: str, *, force: bool = False) -> Iterator[str]:
    """Every number from `first` to `last` (E.164, same country code and length); checked before the first."""
    for name, value in (("FIRST", first), ("LAST", last)):
        if not _E164.fullmatch(value):
            raise NumbersFileError(f"{name}: {value!r} is not an E.164 number (+ then 7 to 15 digits)")
    if len(first) != len(last):
        raise NumbersFileError(f"FIRST and LAST have different lengths ({first}, {last})")
    codes = [phonenumbers.parse(n).country_code if _parses(n) else None for n in (first, last)]
    if codes[0] is None or codes[0] != codes[1]:
        raise NumbersFileError(f"FIRST and LAST are not numbers of the same country code ({first}, {last})")
    low, high = int(first[1:]), int(last[1:])
    if high < low:
        raise NumbersFileError(f"LAST {last} comes before FIRST {first}")
    count = high - low + 1
    if count > MAX_RANGE and not force:
        raise NumbersFileError(f"the range holds {count} numbers, more than {MAX_RANGE}; pass --force to add it anyway")
    return (f"+{n}" for n in range(low, high + 1))


def _parses(number: str) -> bool:
    try:
        phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return False
    return True


async def import_range(store: Store, first: str, last: str, *, force: bool = False, **options) -> ImportSummary:  # type: ignore[no-untyped-def]
    numbers = range_numbers(first, last, force=force)
    run = await NumberImport.start(store, **options)
    return await run.run([PHONE_NUMBER], ((i, [n]) for i, n in enumerate(numbers, start=1)))
