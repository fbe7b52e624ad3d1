"""The one spec-validation helper: reading TOML and checking keys and values.

Every message has one shape: where, the value seen, what was expected, the fix; a
misspelled key also gets the closest valid key.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bayes_kfdi.exceptions import SpecificationError

__all__ = [
    "MAX_ECHO",
    "shorten",
    "spec_error",
    "read_toml",
    "check_keys",
    "check_type",
    "check_number",
    "check_choice",
]

#: Longest echo of a user's value in a message, so an error never floods a terminal.
MAX_ECHO = 80


def shorten(value: Any, limit: int = MAX_ECHO) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def spec_error(
    where: str, key: str | None, seen: Any, expected: str, fix: str
) -> SpecificationError:
    """Build the one-line error: ``where: key = seen; expected ...; fix``."""
    lhs = f"{where}: {key} = {shorten(seen)}" if key else f"{where}: {shorten(seen)}"
    return SpecificationError(f"{lhs}; expected {expected}; {fix}")


def read_toml(path: str | Path, what: str = "spec") -> dict[str, Any]:
    """Read a TOML file, turning every failure into one :class:`SpecificationError` line."""
    p = Path(path)
    if not p.exists():
        raise SpecificationError(
            f"{what} file {p} does not exist; expected a TOML file; check the path"
        )
    if not p.is_file():
        raise SpecificationError(f"{what} {p} is a directory; expected a TOML file; name the file")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecificationError(
            f"{what} file {p} is not UTF-8 (byte {exc.start}); expected UTF-8 text; "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise SpecificationError(
            f"{what} file {p} cannot be read ({exc.strerror}); check it"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(
            f"{what} file {p} is not valid TOML ({exc}); fix the syntax"
        ) from None


def check_keys(
    table: Mapping[str, Any],
    allowed: Iterable[str],
    where: str,
    *,
    required: Iterable[str] = (),
) -> None:
    """Refuse unknown keys (naming the closest valid one) and missing required keys."""
    allowed = sorted(set(allowed))
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else "fix the spelling or remove it"
            raise SpecificationError(
                f"{where}: unknown key {shorten(str(key))}; expected one of "
                f"{', '.join(allowed)}; {fix}"
            )
    missing = [k for k in required if k not in table]
    if missing:
        raise SpecificationError(
            f"{where}: missing key(s) {', '.join(missing)}; expected them to be set; add them"
        )


def check_type(
    value: Any, types: type | tuple[type, ...], where: str, key: str, expected: str
) -> Any:
    """Return ``value`` if it is an instance of ``types`` (bool is never a number)."""
    numeric = types in (int, float) or (isinstance(types, tuple) and set(types) <= {int, float})
    if (numeric and isinstance(value, bool)) or not isinstance(value, types):
        raise spec_error(where, key, value, expected, f"set {key} to {expected}")
    return value


def check_number(
    value: Any,
    where: str,
    key: str,
    *,
    integer: bool = False,
    valid: Callable[[float], bool] | None = None,
    expected: str | None = None,
) -> Any:
    """Check a number's type and, with ``valid``, its range."""
    kinds: type | tuple[type, ...] = int if integer else (int, float)
    expected = expected or ("an integer" if integer else "a number")
    check_type(value, kinds, where, key, expected)
    if valid is not None and not valid(value):
        raise spec_error(where, key, value, expected, f"set {key} to {expected}")
    return value


def check_choice(value: Any, choices: Iterable[Any], where: str, key: str) -> Any:
    """Check that ``value`` is one of ``choices`` and suggest the closest one."""
    choices = list(choices)
    if value in choices:
        return value
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    fix = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(map(repr, choices))}"
    raise spec_error(where, key, value, f"one of {', '.join(map(repr, choices))}", fix)
