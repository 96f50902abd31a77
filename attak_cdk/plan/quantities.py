"""Reading the quantities a plan is given: rates, sizes, durations and emit ratios.

Users write them as they think of them: ``1000/s``, ``5 MB/s``, ``1 TB/day``, ``1 KB``,
``20 ms``. Sizes are binary (1 KB = 1,024 bytes, 1 MB = 1,048,576 bytes), as AWS counts
them in Kinesis' limits and bills. Everything becomes a ``Decimal`` so a hand-computed
plan matches to the cent. A value that cannot be read raises ``PlanError`` saying the
value given, what is allowed, and an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..errors import AttakError

KIB = 1024
MAX_RECORD_BYTES = 1024 * 1024
"""Kinesis' limit on one record; an event larger than this cannot travel on a stream."""

BYTE_UNITS = {
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": KIB,
    "kib": KIB,
    "mb": KIB**2,
    "mib": KIB**2,
    "gb": KIB**3,
    "gib": KIB**3,
    "tb": KIB**4,
    "tib": KIB**4,
}
PER_SECOND = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "day": 86400,
    "month": 730 * 3600,
}
COUNT_WORDS = ("", "events", "event", "records", "record")
DURATION_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), "sec": Decimal(1)}

NUMBER_PATTERN = r"[0-9][0-9_,]*(?:\.[0-9]+)?|\.[0-9]+"
"""A number as plans write it (``1,000``, ``1_000``, ``.5``): ``attak schema`` uses it too."""
MAX_DURATION_SECONDS = 900
"""Lambda's longest timeout: no handler runs longer on one event."""
MAX_COMPRESSION = 100
"""The most a plan believes compression shrinks a record (100x)."""

_NUMBER = rf"(?P<number>{NUMBER_PATTERN})"
_RATE = re.compile(rf"^{_NUMBER}\s*(?P<unit>[a-z]*)\s*(?:/\s*(?P<per>[a-z]+))?$")
_SIZE = re.compile(rf"^{_NUMBER}\s*(?P<unit>[a-z]*)$")

RATE_HELP = "events per second (1000/s, 1000 events/min) or data per time (5 MB/s, 1 TB/day)"
SIZE_HELP = "a size such as 512 B, 1 KB or 2 MB (binary: 1 KB = 1,024 bytes), at most 1 MB"
DURATION_HELP = "a duration such as 20 ms or 1.5 s"
EMITS_HELP = "a number of records emitted per event received, such as 1, 0.5 or 3"


class PlanError(AttakError):
    """A plan was given a rate, size, duration or ratio it cannot use."""


@dataclass(frozen=True)
class Rate:
    """An input rate: events per second, or bytes per second (then a size gives events)."""

    per_second: Decimal
    in_bytes: bool
    text: str

    def events_per_second(self, size_bytes: Decimal) -> Decimal:
        return self.per_second / size_bytes if self.in_bytes else self.per_second


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation:
        return None


def _as_text(value: object, problem: str, bare_unit: str = "") -> str:
    """A value from YAML or the command line as text; a bare number takes ``bare_unit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlanError(problem)
    return f"{value} {bare_unit}".strip() if isinstance(value, (int, float)) else value


def _given(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def parse_rate(value: object, where: str = "rate") -> Rate:
    """``1000/s``, ``1000`` (events/s), ``60 events/min``, ``5 MB/s``, ``1 TB/day``."""
    problem = f"{where} must be {RATE_HELP} (given {_given(value)})"
    value = _as_text(value, problem)
    match = _RATE.match(value.strip().lower())
    number = _number(match["number"]) if match else None
    if match is None or number is None:
        hint = "; a rate cannot be negative" if value.strip().startswith("-") else ""
        raise PlanError(f"{problem}{hint}")
    unit, per = match["unit"], match["per"] or ("s" if match["unit"] in COUNT_WORDS else None)
    if per is None or per not in PER_SECOND:
        raise PlanError(f"{problem}; write the time unit as /s, /min, /h or /day")
    seconds = Decimal(PER_SECOND[per])
    if unit in COUNT_WORDS:
        return Rate(number / seconds, in_bytes=False, text=value)
    if unit in BYTE_UNITS:
        return Rate(number * BYTE_UNITS[unit] / seconds, in_bytes=True, text=value)
    raise PlanError(f"{problem}; '{unit}' is not a unit attak knows (B, KB, MB, GB, TB, events)")


def parse_size(value: object, where: str = "size") -> Decimal:
    """``1 KB`` -> 1024; a bare number is bytes. Between 1 byte and Kinesis' 1 MB."""
    problem = f"{where} must be {SIZE_HELP} (given {_given(value)})"
    match = _SIZE.match(_as_text(value, problem).strip().lower())
    number = _number(match["number"]) if match else None
    if match is None or number is None or (match["unit"] or "b") not in BYTE_UNITS:
        raise PlanError(problem)
    size = number * BYTE_UNITS[match["unit"] or "b"]
    if size < 1:
        raise PlanError(problem)
    if size > MAX_RECORD_BYTES:
        raise PlanError(
            f"{problem}; a Kinesis record holds at most 1 MB: split larger events, or send a "
            "reference (an S3 key) instead of the data"
        )
    return size


def parse_duration(value: object, where: str = "duration") -> Decimal:
    """``20 ms`` -> 0.02 (seconds); a bare number is milliseconds. At most 900 s."""
    problem = (
        f"{where} must be {DURATION_HELP}, at most Lambda's {MAX_DURATION_SECONDS} s "
        f"(given {_given(value)})"
    )
    match = _SIZE.match(_as_text(value, problem, "ms").strip().lower())
    number = _number(match["number"]) if match else None
    if match is None or number is None or (match["unit"] or "ms") not in DURATION_UNITS:
        raise PlanError(problem)
    seconds = number * DURATION_UNITS[match["unit"] or "ms"]
    if seconds > MAX_DURATION_SECONDS:
        raise PlanError(problem)
    return seconds


def parse_emits(value: object, where: str = "emits") -> Decimal:
    """Records emitted into each outgoing stream per event received: 0 or more."""
    problem = f"{where} must be {EMITS_HELP} (given {_given(value)})"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlanError(problem)
    number = _number(str(value).strip()) if str(value).strip() else None
    if number is None or not number.is_finite() or number < 0:
        raise PlanError(problem)
    return number


def parse_compression(value: object, where: str = "compression") -> Decimal:
    """``4x``, ``4`` or ``1x`` (none): how many times smaller zlib makes a record."""
    problem = (
        f"{where} must be how many times smaller compression makes a record, from 1x "
        f"(none) to {MAX_COMPRESSION}x, such as 4x (given {_given(value)})"
    )
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlanError(problem)
    text = str(value).strip().lower().removesuffix("x").strip()
    number = _number(text) if text else None
    if number is None or not number.is_finite() or not 1 <= number <= MAX_COMPRESSION:
        raise PlanError(problem)
    return number


def parse_fraction(value: object, where: str = "dead_letters") -> Decimal:
    """``0.1%`` or ``0.001``: a share of records, from 0 to 1."""
    problem = f"{where} must be a share of records such as 0.1% or 0.001 (given {_given(value)})"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlanError(problem)
    text = str(value).strip()
    percent = text.endswith("%")
    number = _number(text.rstrip("%").strip()) if text.rstrip("%").strip() else None
    if number is None or not number.is_finite():
        raise PlanError(problem)
    share = number / 100 if percent else number
    if not 0 <= share <= 1:
        raise PlanError(problem)
    return share


def format_size(size: Decimal) -> str:
    """Bytes for people: ``1 KB``, ``1.5 MB``, ``300 B``."""
    for unit, factor in (("TB", KIB**4), ("GB", KIB**3), ("MB", KIB**2), ("KB", KIB)):
        if size >= factor:
            return f"{_trim(size / factor)} {unit}"
    return f"{_trim(size)} B"


def format_rate(value: Decimal) -> str:
    """A count per second for people: whole from 10 up (``12,428``), else two places at
    most (``5.46``, ``0.8``)."""
    return f"{value:,.0f}" if value >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _trim(number: Decimal) -> str:
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text or "0"
