"""Where the keys secret comes from (server/keys_secret.py), and the sealing it does."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from numberpool.core.key_sealing import KeySealer, WrongSecret, new_secret
from numberpool.server.keys_secret import ENV, load_keys_secret


@pytest.fixture(autouse=True)
def no_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


def test_the_data_directory_file_is_created_once_and_private(tmp_path: Path) -> None:
    first = load_keys_secret(None, tmp_path / "data")
    file = tmp_path / "data" / "keys.secret"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert load_keys_secret(None, tmp_path / "data") == first and len(first) == 32
    assert list(file.parent.iterdir()) == [file]  # no temporary file left behind


def test_the_environment_wins_then_the_named_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "secret"
    named.write_text(base64.b64encode(b"n" * 32).decode() + "\n")
    assert load_keys_secret(named, tmp_path) == b"n" * 32
    assert not (tmp_path / "keys.secret").exists()
    monkeypatch.setenv(ENV, base64.b64encode(b"e" * 32).decode())
    assert load_keys_secret(named, tmp_path) == b"e" * 32


@pytest.mark.parametrize(("content", "says"), [
    ("not base64!", "not valid base64"),
    (base64.b64encode(b"short").decode(), "must be 32 bytes"),
    ("", "must be 32 bytes"),
])
def test_a_bad_secret_is_named(tmp_path: Path, content: str, says: str) -> None:
    named = tmp_path / "secret"
    named.write_text(content)
    with pytest.raises(ValueError, match=says) as raised:
        load_keys_secret(named, tmp_path)
    assert str(named) in str(raised.value)


def test_a_missing_named_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the keys secret"):
        load_keys_secret(tmp_path / "absent", tmp_path)
    assert not (tmp_path / "absent").exists()


def test_sealing_round_trips_and_never_repeats() -> None:
    sealer = KeySealer(new_secret())
    key = b"k" * 64
    one, two = sealer.seal("r", "primary", key), sealer.seal("r", "primary", key)
    assert one != two and key not in one
    assert sealer.open("r", "primary", one) == sealer.open("r", "primary", two) == key
    tampered = one[:-1] + bytes([one[-1] ^ 1])
    with pytest.raises(WrongSecret):
        sealer.open("r", "primary", tampered)
    assert sealer.matches(sealer.check_value()) and not KeySealer(new_secret()).matches(sealer.check_value())
    with pytest.raises(ValueError):
        KeySealer(b"short")
