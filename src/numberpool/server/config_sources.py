"""Where a command's settings come from: its flags, then `NUMBERPOOL_*` variables, then the `--config` file.

Derived from the argparse definitions, so every flag has all three sources: `--admin-token`
is also `NUMBERPOOL_ADMIN_TOKEN` and `admin-token` (or `admin_token`) at the top of the TOML
file. The environment and the file become the parser's defaults, so a flag on the command
line wins; a value that does not convert names where it came from. A repeatable flag
(`--resource`) adds to the values of the environment or file: several values there are
separated by whitespace (environment) or given as a TOML list.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "NUMBERPOOL_"
FILE_TABLES = ("resources",)
"""Top-level TOML tables that are not flags (read by `config.load_file`)."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def env_name(action: argparse.Action) -> str:
    return ENV_PREFIX + action.dest.upper()


def flag_name(action: argparse.Action) -> str:
    return max(action.option_strings, key=len)


def settable(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The actions that take a value from the environment or a file: every option but help and version."""
    return [
        action for action in parser._actions
        if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
    ]


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def apply_defaults(
    parser: argparse.ArgumentParser,
    environ: Mapping[str, str],
    file: Mapping[str, Any] | None = None,
    file_path: Path | None = None,
    *,
    strict: bool = True,
) -> None:
    """Make the environment's and the file's values `parser`'s defaults (the environment wins).

    `strict`: a file key that names no flag of `parser` is an error (else it is left to other commands).
    """
    actions = {action.dest: action for action in settable(parser)}
    defaults: dict[str, Any] = {}
    for key, raw in (file or {}).items():
        if key in FILE_TABLES:
            continue
        action = actions.get(key.replace("-", "_"))
        if action is None or action.dest == "config":
            if strict:
                raise ValueError(f"{file_path}: unknown setting {key!r}")
            continue
        defaults[action.dest] = convert(action, raw, f"{file_path}: {key}")
    for dest, action in actions.items():
        name = env_name(action)
        if name in environ:
            defaults[dest] = convert(action, environ[name], name)
    parser.set_defaults(**defaults)


def convert(action: argparse.Action, raw: Any, source: str) -> Any:
    """`raw` (a string from the environment, any TOML value from the file) as the flag would parse it."""
    if action.nargs == 0:  # store_true / store_false
        value = _boolean(raw, source)
        return value if isinstance(action, argparse._StoreTrueAction) else not value
    if isinstance(action, argparse._AppendAction):
        items = raw.split() if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise ValueError(f"{source}: expected a list of values")
        return [_one(action, item, source) for item in items]
    return _one(action, raw, source)


def _one(action: argparse.Action, raw: Any, source: str) -> Any:
    if isinstance(raw, (dict, list)) or isinstance(raw, bool):
        raise ValueError(f"{source}: expected a single {_type_name(action)} value, got {raw!r}")
    text = str(raw)
    kind = action.type or str
    try:
        value = kind(text)  # type: ignore[operator]
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        raise ValueError(f"{source}: invalid {_type_name(action)} value {text!r}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(repr, action.choices))
        raise ValueError(f"{source}: invalid choice {text!r} (choose from {choices})")
    return value


def _type_name(action: argparse.Action) -> str:
    return getattr(action.type, "__name__", "str") if action.type else "str"


def _boolean(raw: Any, source: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{source}: invalid boolean value {raw!r} (use true or false)")


def config_path(argv_value: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file: `--config`, else `NUMBERPOOL_CONFIG`."""
    if argv_value is not None:
        return argv_value
    value = environ.get(ENV_PREFIX + "CONFIG")
    return Path(value) if value else None


def describe(parser: argparse.ArgumentParser) -> list[tuple[str, str, str]]:
    """(flag, variable, file key or "—") of each settable flag, for the documentation's table."""
    return [(flag_name(a), env_name(a), "—" if a.dest == "config" else flag_name(a).lstrip("-"))
            for a in settable(parser) if a.help != argparse.SUPPRESS]


__all__ = ["apply_defaults", "config_path", "convert", "describe", "env_name", "read_file"]
