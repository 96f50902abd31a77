"""A processor's ``schedule:``: EventBridge's rate and cron expressions, read and run.

An entry processor may be invoked on a schedule (``rate(5 minutes)``, ``cron(0 8 ? *
MON-FRI *)``), with a constant event or, by default, a small event saying when it fired:
``{"time": "2026-12-03T08:00:00Z", "schedule": "cron(0 8 ? * MON-FRI *)"}``. The loader
reads the key with ``read_schedule`` (every problem an ``Issue`` at its path), checking
each expression as EventBridge does; the CDK layer makes it a rule, ``simulate`` fires it
``--schedule-ticks`` times (``fire_times``), ``plan`` counts its invocations a month
(``fires_per_second``). Nothing here imports ``aws_cdk`` or the runtime.

EventBridge's rules for expressions ("Setting a schedule pattern for scheduled rules",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
and "Rate expressions reference",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html):

- ``rate(value unit)``: a positive whole number and minute | minutes | hour | hours |
  day | days, singular for 1 and plural above (``rate(1 hours)`` and ``rate(5 hour)`` are
  refused); nothing shorter than a minute exists;
- ``cron(minutes hours day-of-month month day-of-week year)``: six fields, in UTC; values
  0-59, 0-23, 1-31, 1-12 or JAN-DEC, 1-7 or SUN-SAT, 1970-2199; ``, - * /`` in each,
  ``? L W`` in day-of-month, ``? L #`` in day-of-week; one of day-of-month and day-of-week
  must be ``?`` (not both); ``#`` allows one expression in its field.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .errors import did_you_mean
from .settings import shown

SCHEDULE_KEYS = {
    "every": "when EventBridge invokes the processor: rate(5 minutes) or cron(0 8 ? * MON-FRI *)",
    "event": "the constant event each invocation receives (default: the scheduled time)",
}
MAX_INPUT = 8192
"""Characters EventBridge keeps as a target's constant input (``Input`` of ``Target``:
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html)."""
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How EventBridge writes an event's ``time``, which the default event carries."""


@dataclass(frozen=True)
class Schedule:
    """When a processor is invoked, and with what."""

    expression: str
    """``rate(...)`` or ``cron(...)``, as EventBridge takes it."""
    event: object = None
    """The constant event, when ``has_event``; else each invocation gets ``time_event``."""
    has_event: bool = False
    where: str = ""

    def event_at(self, time: datetime) -> object:
        """What the handler receives for the firing at ``time``."""
        return self.event if self.has_event else time_event(self.expression, time)


def time_event(expression: str, time: datetime) -> dict[str, object]:
    """The event of a schedule without a constant one: when it fired, and which schedule
    (``{"time": "2026-12-03T08:00:00Z", "schedule": "rate(5 minutes)"}``)."""
    return event_with_time(expression, time.strftime(TIME_FORMAT))


def event_with_time(expression: str, time: object) -> dict[str, object]:
    """``time_event`` with ``time`` as given: the CDK layer gives EventBridge's own field,
    which EventBridge fills in as it fires."""
    return {"time": time, "schedule": expression}


def read_schedule(data: Any, where: str, issue: Callable[[str, str, str], None]) -> Schedule | None:
    """``schedule:`` at ``where``: an expression, or ``{every, event}``. Every problem is
    reported through ``issue(code, path, message)``; a schedule with one is left out."""
    if isinstance(data, dict):
        for key in data:
            if key not in SCHEDULE_KEYS:
                issue(
                    "invalid-schedule",
                    f"{where}.{key}",
                    f"unknown key '{key}'{did_you_mean(str(key), SCHEDULE_KEYS)} "
                    f"(allowed here: {', '.join(SCHEDULE_KEYS)})",
                )
        expression, path = data.get("every"), f"{where}.every"
        if expression is None:
            issue(
                "invalid-schedule",
                path,
                "a schedule needs 'every': rate(5 minutes) or cron(0 8 ? * MON-FRI *)",
            )
            return None
    else:
        expression, path = data, where
    if not isinstance(expression, str):
        issue(
            "invalid-schedule",
            path,
            f"a schedule is rate(5 minutes) or cron(0 8 ? * MON-FRI *) (given {shown(expression)})",
        )
        return None
    problems = expression_problems(expression)
    for problem in problems:
        issue("invalid-schedule", path, problem)
    has_event = isinstance(data, dict) and "event" in data
    event = data.get("event") if isinstance(data, dict) else None
    if has_event and not _event_fits(event, f"{where}.event", issue):
        return None
    if problems:
        return None
    return Schedule(expression.strip(), event, has_event, where)


def _event_fits(event: object, path: str, issue: Callable[[str, str, str], None]) -> bool:
    if event is None:
        issue(
            "invalid-schedule",
            path,
            "give the constant event (a mapping, list, text or number), or leave 'event' "
            "out for an event carrying the scheduled time",
        )
        return False
    try:
        text = json.dumps({"v": 1, "data": event}, separators=(",", ":"))
    except (TypeError, ValueError):
        issue("invalid-schedule", path, f"the event must be JSON data (given {shown(event)})")
        return False
    if len(text) > MAX_INPUT:
        issue(
            "invalid-schedule",
            path,
            f"the event is {len(text)} characters as JSON, with attak's envelope; EventBridge "
            f"keeps at most {MAX_INPUT} as a target's input: keep large data in a file beside "
            "the handler, or in S3",
        )
        return False
    return True


# --- Expressions ---------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((?P<value>[^\s()]+) (?P<unit>[^\s()]+)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
"""Seconds in each unit EventBridge's rate expressions take (singular form)."""
EXAMPLES = "rate(5 minutes), rate(1 hour) or cron(0 8 ? * MON-FRI *)"


def expression_problems(expression: str) -> list[str]:
    """What EventBridge would refuse in ``expression``, each in words (none: it is valid)."""
    text = expression.strip()
    if text.startswith("rate"):
        return _rate_problems(text)
    if text.startswith("cron"):
        match = _CRON.match(text)
        if match is None:
            return [
                f"'{text}' is not a cron expression: write cron(minutes hours day-of-month "
                "month day-of-week year), e.g. cron(0 8 ? * MON-FRI *)"
            ]
        return _Cron.problems(match["fields"], text)
    return [f"'{shown(expression)[1:-1]}' is not a schedule: write {EXAMPLES}"]


def _rate_problems(text: str) -> list[str]:
    match = _RATE.match(text)
    if match is None:
        return [
            f"'{text}' is not a rate expression: write rate(value unit) with one space, "
            "e.g. rate(5 minutes) or rate(1 hour)"
        ]
    value, unit = match["value"], match["unit"]
    problems = []
    if not value.isdigit() or int(value) < 1:
        problems.append(f"'{text}': the value must be a whole number from 1 (given {value!r})")
    singular = unit.removesuffix("s")
    if singular not in RATE_UNITS:
        shortest = " (nothing shorter than a minute: the fastest is rate(1 minute))"
        problems.append(
            f"'{text}': '{unit}' is not a unit EventBridge takes; use minute(s), hour(s) or "
            f"day(s){shortest if singular in ('second', 'sec', 's', 'millisecond') else ''}"
        )
    elif value.isdigit() and int(value) >= 1:
        wanted = singular if int(value) == 1 else f"{singular}s"
        if unit != wanted:
            problems.append(
                f"'{text}': EventBridge wants the unit singular for 1 and plural above: "
                f"write rate({int(value)} {wanted})"
            )
    return problems


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names standing for ``low``, ``low + 1``... (JAN-DEC, SUN-SAT)."""


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 1, 7, DAYS),
    _Field("year", 1970, 2199),
)
_ITEM = re.compile(r"^(?P<start>\*|[A-Za-z0-9]+)(?:-(?P<end>[A-Za-z0-9]+))?(?:/(?P<step>[0-9]+))?$")


class _CronError(ValueError):
    pass


@dataclass(frozen=True)
class _Cron:
    """A parsed cron expression: the values each field allows, and day rules."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None
    """Days of the month, or ``None`` when day-of-month is ``?``."""
    day_rule: str
    """``L`` (last day), ``LW`` (last weekday), ``<n>W`` (weekday nearest day n) or ``''``."""
    months: frozenset[int]
    weekdays: frozenset[int] | None
    """Days of the week 1 (SUN) to 7 (SAT), or ``None`` when day-of-week is ``?``."""
    weekday_rule: tuple[int, int] | None
    """(day of the week, n): the nth (``3#2``), or the last when n is 0 (``5L``)."""
    years: frozenset[int]

    @classmethod
    def problems(cls, fields: str, text: str) -> list[str]:
        try:
            cls.parse(fields)
        except _CronError as exc:
            return [f"'{text}': {exc}"]
        return []

    @classmethod
    def parse(cls, text: str) -> _Cron:
        parts = text.split()
        if len(parts) != len(_FIELDS):
            raise _CronError(
                f"a cron expression has 6 fields (minutes hours day-of-month month "
                f"day-of-week year), given {len(parts)}"
            )
        minute, hour, dom, month, dow, year = parts
        if (dom == "?") == (dow == "?"):
            raise _CronError(
                "one of day-of-month and day-of-week must be '?' and the other not "
                f"(given {dom} and {dow}): e.g. cron(0 8 ? * MON-FRI *) or cron(0 8 1 * ? *)"
            )
        days, day_rule = cls._day_of_month(dom)
        weekdays, weekday_rule = cls._day_of_week(dow)
        return cls(
            minutes=_values(minute, _FIELDS[0]),
            hours=_values(hour, _FIELDS[1]),
            days=days,
            day_rule=day_rule,
            months=_values(month, _FIELDS[3]),
            weekdays=weekdays,
            weekday_rule=weekday_rule,
            years=_values(year, _FIELDS[5]),
        )

    @staticmethod
    def _day_of_month(text: str) -> tuple[frozenset[int] | None, str]:
        field = _FIELDS[2]
        if text == "?":
            return None, ""
        if text in ("L", "LW"):
            return frozenset(), text
        if text.endswith("W"):
            day = _number(text[:-1], field)
            return frozenset(), f"{day}W"
        if "L" in text or "W" in text or "#" in text:
            raise _CronError(
                f"day-of-month: '{text}' is not allowed; L (last day), LW (last weekday) "
                "and 15W (the weekday nearest the 15th) stand alone in the field"
            )
        return _values(text, field), ""

    @staticmethod
    def _day_of_week(text: str) -> tuple[frozenset[int] | None, tuple[int, int] | None]:
        field = _FIELDS[4]
        if text == "?":
            return None, None
        if "#" in text:
            day, _, nth = text.partition("#")
            if "," in text or not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise _CronError(
                    f"day-of-week: '{text}': '#' takes one day and its occurrence 1 to 5 "
                    "in the month, alone in the field (3#2: the second Tuesday)"
                )
            return frozenset(), (_number(day, field), int(nth))
        if text == "L":
            return frozenset({7}), None  # L alone: the last day of the week, Saturday
        if text.endswith("L"):
            return frozenset(), (_number(text[:-1], field), 0)
        return _values(text, field), None

    def matches_day(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.days is not None:
            if self.day_rule == "L":
                return day.day == last
            if self.day_rule == "LW":
                return day == _nearest_weekday(day.replace(day=last))
            if self.day_rule:
                wanted = min(int(self.day_rule[:-1]), last)
                return day == _nearest_weekday(day.replace(day=wanted))
            return day.day in self.days
        weekday = day.isoweekday() % 7 + 1  # SUN=1 ... SAT=7, as cron counts them
        if self.weekday_rule is not None:
            wanted, nth = self.weekday_rule
            if weekday != wanted:
                return False
            return day.day + 7 > last if nth == 0 else (day.day - 1) // 7 + 1 == nth
        assert self.weekdays is not None
        return weekday in self.weekdays

    def after(self, start: datetime) -> Iterator[datetime]:
        """Each time it fires after ``start``, in order, until its last year."""
        day = start.date()
        times = sorted((h, m) for h in self.hours for m in self.minutes)
        while day.year <= max(self.years, default=0):
            if self.matches_day(day):
                for hour, minute in times:
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                    if moment > start:
                        yield moment
            day += timedelta(days=1)


def _nearest_weekday(day: date) -> date:
    """The weekday nearest ``day`` in its month (a Saturday the 1st moves to Monday the 3rd)."""
    if day.isoweekday() == 6:
        earlier = day - timedelta(days=1)
        return earlier if earlier.month == day.month else day + timedelta(days=2)
    if day.isoweekday() == 7:
        later = day + timedelta(days=1)
        return later if later.month == day.month else day - timedelta(days=2)
    return day


def _number(text: str, field: _Field) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.low + field.names.index(upper)
    if not text.isdigit():
        names = f", or {field.names[0]}-{field.names[-1]}" if field.names else ""
        raise _CronError(
            f"{field.name}: '{text}' is not a value of this field ({field.low}-{field.high}{names})"
        )
    value = int(text)
    if not field.low <= value <= field.high:
        raise _CronError(f"{field.name}: {value} is outside {field.low}-{field.high}")
    return value


def _values(text: str, field: _Field) -> frozenset[int]:
    """The values a field of ``, - * /`` allows."""
    found: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            extra = " ('?' only in day-of-month or day-of-week)" if "?" in item else ""
            raise _CronError(f"{field.name}: '{item}' is not a value, range or step{extra}")
        start = field.low if match["start"] == "*" else _number(match["start"], field)
        end = field.high if match["start"] == "*" else start
        if match["end"] is not None:
            if match["start"] == "*":
                raise _CronError(f"{field.name}: '{item}': '*' cannot start a range")
            end = _number(match["end"], field)
            if end < start:
                raise _CronError(
                    f"{field.name}: '{item}' runs backwards; write it as two ranges "
                    "(FRI-SAT,SUN-MON) or one that goes up"
                )
        elif match["step"] is not None:
            end = field.high  # 5/15: from 5, every 15, to the field's end
        step = int(match["step"]) if match["step"] is not None else 1
        if step < 1:
            raise _CronError(f"{field.name}: '{item}': the increment must be at least 1")
        found.update(range(start, end + 1, step))
    return frozenset(found)


# --- Firing ---------------------------------------------------------------------------------


def rate_seconds(expression: str) -> int | None:
    """The period of a valid rate expression in seconds, ``None`` for a cron expression."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match["value"]) * RATE_UNITS[match["unit"].removesuffix("s")]


def fire_times(expression: str, start: datetime, count: int) -> list[datetime]:
    """The first ``count`` times a valid ``expression`` fires after ``start`` (UTC); fewer
    when a cron expression's years end first. A rate fires one period after the rule is
    made, then every period."""
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    period = rate_seconds(expression)
    if period is not None:
        return [start + timedelta(seconds=period * k) for k in range(1, count + 1)]
    match = _CRON.match(expression.strip())
    assert match is not None, f"not a valid schedule: {expression}"
    times: list[datetime] = []
    for moment in _Cron.parse(match["fields"]).after(start):
        if len(times) == count:
            break
        times.append(moment)
    return times


PLAN_WINDOW = timedelta(days=30)
PLAN_WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
"""A cron expression's rate is its firings in 30 days from this fixed date, so a plan
does not change from one day to the next (a weekday schedule fires 22 times in them)."""


def fires_per_second(expression: str) -> Decimal:
    """How often a valid ``expression`` fires, on average: a rate's period, a cron
    expression's firings in ``PLAN_WINDOW`` from ``PLAN_WINDOW_START``."""
    period = rate_seconds(expression)
    if period is not None:
        return 1 / Decimal(period)
    match = _CRON.match(expression.strip())
    assert match is not None, f"not a valid schedule: {expression}"
    end = PLAN_WINDOW_START + PLAN_WINDOW
    fired = 0
    for moment in _Cron.parse(match["fields"]).after(PLAN_WINDOW_START - timedelta(minutes=1)):
        if moment >= end:
            break
        fired += 1
    return fired / Decimal(int(PLAN_WINDOW.total_seconds()))


def describe(expression: str) -> str:
    """A schedule in words: ``every 5 minutes``, ``at cron(0 8 ? * MON-FRI *) (UTC)``."""
    match = _RATE.match(expression.strip())
    if match is not None:
        value, unit = int(match["value"]), match["unit"]
        return f"every {unit}" if value == 1 else f"every {value} {unit}"
    return f"on {expression.strip()} (UTC)"
