"""The audit events of the operator's inventory commands, on both engines: a catalog import that
changes something, each import batch that adds numbers, each number withdrawn."""

from __future__ import annotations

from pathlib import Path

from tests.support.stores import url  # noqa: F401  (the engine-parametrized database fixture)
from tests.test_inventory_commands import AMSTERDAM, nl, np, rows, write  # noqa: F401  (fixtures)

EVENTS = "SELECT event, phone_number, old_state, new_state, actor, detail FROM number_events"


def test_catalog_import_records_what_it_changed_and_an_unchanged_one_nothing(np, nl: Path, url: str) -> None:
    recorded = rows(url, f"{EVENTS} WHERE event = 'catalog imported'")
    assert len(recorded) == 1
    event, number, _, _, actor, detail = recorded[0]
    assert (number, actor) == (None, "admin")
    assert detail.startswith(f"{nl}: ") and "offerings added" in detail
    assert np("catalog", "import", str(nl)).code == 0
    assert len(rows(url, f"{EVENTS} WHERE event = 'catalog imported'")) == 1


def test_an_import_records_each_batch_that_adds_numbers(np, nl: Path, url: str, tmp_path: Path) -> None:
    source = write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM) + "\n")
    assert np("inventory", "import", str(source), "--dry-run").code == 0
    assert rows(url, f"{EVENTS} WHERE event = 'imported'") == []
    assert np("inventory", "import", str(source)).code == 0
    assert rows(url, f"{EVENTS} WHERE event = 'imported'") == [
        ("imported", None, None, None, "admin", "added=20 country=NL type=geographic areaCode=20")]
    assert np("inventory", "import", str(source)).code == 0  # nothing new: no event
    assert len(rows(url, f"{EVENTS} WHERE event = 'imported'")) == 1


def test_withdraw_records_each_number_it_withdraws(np, nl: Path, url: str, tmp_path: Path) -> None:
    np("inventory", "import", str(write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:3]) + "\n")))
    rows(url, f"UPDATE numbers SET state = 'withdrawn' WHERE phone_number = '{AMSTERDAM[2]}'")
    ran = np("inventory", "withdraw", AMSTERDAM[0], AMSTERDAM[1], AMSTERDAM[2], "+31209999999")
    assert ran.code in (0, 1), ran.err
    assert rows(url, f"{EVENTS} WHERE event = 'withdrawn' ORDER BY phone_number") == [
        ("withdrawn", AMSTERDAM[0], "available", "withdrawn", "admin", None),
        ("withdrawn", AMSTERDAM[1], "available", "withdrawn", "admin", None),
    ]
    np("inventory", "withdraw", AMSTERDAM[0])  # already withdrawn: no second event
    assert len(rows(url, f"{EVENTS} WHERE event = 'withdrawn'")) == 2
