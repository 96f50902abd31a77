"""What a plan assumes: input rates and sizes, and what each processor does with an event.

A topology cannot know how fast events arrive, how large they are, how many records a
handler emits per event or how long it runs. The topology's ``plan:`` section says so,
the ``attak plan`` options override it, and anything left unsaid takes a default that the
plan reports as assumed, so a reader always sees what the numbers rest on::

    plan:
      rate: 1 TB/day              # into every entry processor, or {processor: rate}
      size: 1 KB                  # of each input event, or {processor: size}
      duration: 10 ms             # handler time per event, for every processor
      dead_letters: 0.1%          # share of records that end in a dead-letter queue
      processors:
        reverse: {emits: 1, duration: 20 ms, size: 1 KB, log: 100 B}
        router: {emits: {clicks: 0.9, errors: 0.01}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..errors import did_you_mean
from .quantities import (
    PlanError,
    Rate,
    parse_duration,
    parse_emits,
    parse_fraction,
    parse_rate,
    parse_size,
)

PLAN_KEYS = ("rate", "size", "duration", "dead_letters", "region", "processors")
PROCESSOR_KEYS = ("emits", "duration", "size", "log")

DEFAULT_SIZE = Decimal(1024)
"""Bytes of an input event when no size is given."""
DEFAULT_DURATION = Decimal("0.010")
"""Seconds a handler spends on one event when no duration is given."""
DEFAULT_EMITS = Decimal(1)
"""Records emitted into each outgoing stream per event received."""
PLATFORM_LOG_BYTES = Decimal(300)
"""Lambda writes START, END and REPORT lines for every invocation: about 300 bytes."""

Emits = Decimal | Mapping[str, Decimal]
"""One ratio for every outgoing stream, or a ratio per topic."""


@dataclass(frozen=True)
class ProcessorAssumptions:
    """What one processor does with an event; ``None`` means "use the default"."""

    emits: Emits | None = None
    duration: Decimal | None = None
    """Seconds per event."""
    size: Decimal | None = None
    """Bytes of each event it emits (default: the size of the events it receives)."""
    log: Decimal | None = None
    """Bytes the handler prints per event."""


@dataclass(frozen=True)
class Assumptions:
    """Everything a plan is given besides the topology."""

    rate: Rate | None = None
    rates: Mapping[str, Rate] = field(default_factory=dict)
    size: Decimal | None = None
    sizes: Mapping[str, Decimal] = field(default_factory=dict)
    duration: Decimal | None = None
    dead_letters: Decimal = Decimal(0)
    region: str | None = None
    processors: Mapping[str, ProcessorAssumptions] = field(default_factory=dict)

    @property
    def has_rate(self) -> bool:
        return self.rate is not None or bool(self.rates)

    def entry_rate(self, entry: str) -> Rate | None:
        return self.rates.get(entry, self.rate)

    def entry_size(self, entry: str) -> Decimal:
        return self.sizes.get(entry, self.size if self.size is not None else DEFAULT_SIZE)

    def of(self, processor: str) -> ProcessorAssumptions:
        return self.processors.get(processor, ProcessorAssumptions())

    def duration_of(self, processor: str) -> Decimal:
        own = self.of(processor).duration
        if own is not None:
            return own
        return self.duration if self.duration is not None else DEFAULT_DURATION

    def emits_into(self, processor: str, topic: str | None) -> Decimal:
        """Records ``processor`` emits per event into a stream carrying ``topic`` (or all)."""
        emits = self.of(processor).emits
        if emits is None:
            return DEFAULT_EMITS
        if isinstance(emits, Decimal):
            return emits
        if topic is None:  # a stream without a topic carries every topic
            return sum(emits.values(), Decimal(0))
        return emits.get(topic, Decimal(0))

    def override(
        self,
        *,
        rates: Mapping[str | None, Rate] | None = None,
        sizes: Mapping[str | None, Decimal] | None = None,
        durations: Mapping[str | None, Decimal] | None = None,
        emits: Mapping[str, Decimal] | None = None,
        region: str | None = None,
    ) -> Assumptions:
        """These assumptions with command-line values on top (key ``None``: every one)."""
        result = self
        if rates:
            result = replace(
                result,
                rate=rates.get(None, result.rate),
                rates={**result.rates, **{k: v for k, v in rates.items() if k is not None}},
            )
        if sizes:
            result = replace(
                result,
                size=sizes.get(None, result.size),
                sizes={**result.sizes, **{k: v for k, v in sizes.items() if k is not None}},
            )
        processors = dict(result.processors)
        for name, seconds in (durations or {}).items():
            if name is not None:
                processors[name] = replace(
                    processors.get(name, ProcessorAssumptions()), duration=seconds
                )
        for name, ratio in (emits or {}).items():
            processors[name] = replace(processors.get(name, ProcessorAssumptions()), emits=ratio)
        duration = (durations or {}).get(None, result.duration)
        return replace(
            result, processors=processors, duration=duration, region=region or result.region
        )


def read_plan_section(
    data: Any, processors: Mapping[str, object]
) -> tuple[Assumptions, list[tuple[str, str]]]:
    """The topology's ``plan:`` section as ``Assumptions``, and every (path, problem) in it.

    ``processors`` are the topology's processor names, to catch a misspelt one.
    """
    problems: list[tuple[str, str]] = []
    if data is None:
        return Assumptions(), problems
    if not isinstance(data, dict):
        problems.append(("plan", f"must be a mapping with {', '.join(PLAN_KEYS)}"))
        return Assumptions(), problems

    def attempt(path: str, parse: Any, value: Any) -> Any:
        try:
            return parse(value, path)
        except PlanError as exc:
            problems.append((path, exc.message.removeprefix(f"{path} ")))
            return None

    def known_processor(name: str, path: str) -> bool:
        if name in processors:
            return True
        problems.append((path, f"unknown processor '{name}'{did_you_mean(name, processors)}"))
        return False

    for key in data:
        if key not in PLAN_KEYS:
            problems.append(
                (
                    f"plan.{key}",
                    f"unknown key '{key}'{did_you_mean(str(key), PLAN_KEYS)} "
                    f"(allowed here: {', '.join(PLAN_KEYS)})",
                )
            )
    rate, rates = _scalar_or_per_processor(data.get("rate"), "plan.rate", parse_rate, attempt)
    size, sizes = _scalar_or_per_processor(data.get("size"), "plan.size", parse_size, attempt)
    for name in [*rates, *sizes]:
        known_processor(name, f"plan.{'rate' if name in rates else 'size'}.{name}")
    duration = (
        attempt("plan.duration", parse_duration, data["duration"]) if "duration" in data else None
    )
    dead_letters = (
        attempt("plan.dead_letters", parse_fraction, data["dead_letters"])
        if "dead_letters" in data
        else None
    )
    region = data.get("region")
    if region is not None and not isinstance(region, str):
        problems.append(
            ("plan.region", f"must be an AWS region name such as us-east-1 (given {region!r})")
        )
        region = None
    per_processor: dict[str, ProcessorAssumptions] = {}
    section = data.get("processors") or {}
    if not isinstance(section, dict):
        problems.append(
            ("plan.processors", "must map processor names to {emits, duration, size, log}")
        )
        section = {}
    for name, spec in section.items():
        path = f"plan.processors.{name}"
        if not known_processor(str(name), path):
            continue
        if not isinstance(spec, dict):
            problems.append((path, f"must be a mapping with {', '.join(PROCESSOR_KEYS)}"))
            continue
        for key in spec:
            if key not in PROCESSOR_KEYS:
                problems.append(
                    (
                        f"{path}.{key}",
                        f"unknown key '{key}'{did_you_mean(str(key), PROCESSOR_KEYS)} "
                        f"(allowed here: {', '.join(PROCESSOR_KEYS)})",
                    )
                )
        emits: Emits | None = None
        if isinstance(spec.get("emits"), dict):
            emits = {
                str(topic): attempt(f"{path}.emits.{topic}", parse_emits, ratio) or Decimal(0)
                for topic, ratio in spec["emits"].items()
            }
        elif "emits" in spec:
            emits = attempt(f"{path}.emits", parse_emits, spec["emits"])
        per_processor[str(name)] = ProcessorAssumptions(
            emits=emits,
            duration=attempt(f"{path}.duration", parse_duration, spec["duration"])
            if "duration" in spec
            else None,
            size=attempt(f"{path}.size", parse_size, spec["size"]) if "size" in spec else None,
            log=attempt(f"{path}.log", _parse_log, spec["log"]) if "log" in spec else None,
        )
    assumptions = Assumptions(
        rate=rate,
        rates=rates,
        size=size,
        sizes=sizes,
        duration=duration,
        dead_letters=dead_letters if dead_letters is not None else Decimal(0),
        region=region,
        processors=per_processor,
    )
    return assumptions, problems


def _parse_log(value: object, where: str) -> Decimal:
    """Bytes printed per event: zero is allowed, unlike an event size."""
    if value in (0, "0", "0 B"):
        return Decimal(0)
    return parse_size(value, where)


def _scalar_or_per_processor(
    value: Any, path: str, parse: Any, attempt: Any
) -> tuple[Any, dict[str, Any]]:
    if value is None:
        return None, {}
    if isinstance(value, dict):
        parsed = {str(name): attempt(f"{path}.{name}", parse, item) for name, item in value.items()}
        return None, {name: item for name, item in parsed.items() if item is not None}
    return attempt(path, parse, value), {}


def with_command_line(
    assumptions: Assumptions,
    processors: Mapping[str, object],
    *,
    rates: Sequence[str] = (),
    sizes: Sequence[str] = (),
    durations: Sequence[str] = (),
    emits: Sequence[str] = (),
    region: str | None = None,
) -> Assumptions:
    """``assumptions`` with ``attak plan``'s options on top.

    Each option is ``VALUE`` (every entry, or every processor) or ``PROCESSOR=VALUE``;
    ``emits`` always names its processor.
    """

    def split(option: str, text: str, named: bool = False) -> tuple[str | None, str]:
        name, sep, value = text.partition("=")
        if not sep:
            if named:
                raise PlanError(
                    f"{option} needs PROCESSOR=NUMBER, e.g. {option} reverse=2 (given {text!r})"
                )
            return None, text
        name = name.strip()
        if name not in processors:
            raise PlanError(
                f"{option} {text!r}: unknown processor '{name}'"
                f"{did_you_mean(name, processors)} (known: {', '.join(sorted(processors))})"
            )
        return name, value

    def parsed(option: str, values: Sequence[str], parse: Any) -> dict[str | None, Any]:
        result: dict[str | None, Any] = {}
        for text in values:
            name, value = split(option, text)
            result[name] = parse(value, option)
        return result

    ratios: dict[str, Decimal] = {}
    for text in emits:
        name, value = split("--emits", text, named=True)
        assert name is not None
        ratios[name] = parse_emits(value, "--emits")
    return assumptions.override(
        rates=parsed("--rate", rates, parse_rate),
        sizes=parsed("--size", sizes, parse_size),
        durations=parsed("--duration", durations, parse_duration),
        emits=ratios,
        region=region,
    )
