"""What a plan assumes: input rates and sizes, and what each processor does with an event.

A topology cannot know how fast events arrive, how large they are, how many records a
handler emits per event or how long it runs. The topology's ``plan:`` section says so,
the ``attak plan`` options override it, and anything left unsaid takes a default that the
plan reports as assumed, so a reader always sees what the numbers rest on::

    plan:
      rate: 1 TB/day              # into every entry processor, or {processor: rate}
      size: 1 KB                  # of each input event, or {processor: size}
      duration: 10 ms             # handler time per event, for every processor
      dead_letters: 0.1%          # share of events that end in a dead-letter queue
      compression: 4x             # how much zlib shrinks the runtime's records
      processors:
        reverse: {emits: 1, duration: 20 ms, size: 1 KB, log: 100 B}
        router: {emits: {clicks: 0.9, errors: 0.01}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from ..errors import Issue, did_you_mean, display_path
from ..model import PlanValue, Topology
from ..runtime.context import Emit
from ..schedules import describe, fires_per_second
from .quantities import (
    PlanError,
    Rate,
    parse_compression,
    parse_duration,
    parse_emits,
    parse_fraction,
    parse_rate,
    parse_size,
)

DEFAULT_SIZE = Decimal(1024)
"""Bytes of an input event when no size is given."""
DEFAULT_DURATION = Decimal("0.010")
"""Seconds a handler spends on one event when no duration is given."""
DEFAULT_EMITS = Decimal(1)
"""Records emitted into each outgoing stream per event received."""
PLATFORM_LOG_BYTES = Decimal(300)
"""Lambda's START, END and REPORT lines of an invocation: about 300 bytes. Written only
when a processor's ``system_log_level`` is INFO or DEBUG (attak deploys WARN)."""
PLATFORM_LOG_LEVELS = frozenset({"INFO", "DEBUG"})
"""System log levels at which Lambda writes its lines for every invocation."""
DEFAULT_COMPRESSION = Decimal(4)
"""How many times smaller zlib (level 1) makes a record of JSON events, when no run
measured it: ``bench/wire_efficiency.py`` measured 4.2x on 64 KiB aggregates of 1 KB
clickstream events. A lone event compresses less: ``attak plan --measure`` tells."""

LAMBDA_VCPU_MB = 1769
"""Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A handler
measured on a full core runs that many MB over its memory times longer on Lambda, when its
time is CPU; a Lambda time written for a function is that share of a full core's."""

Emits = Decimal | Mapping[str, Decimal]
"""One ratio for every outgoing stream, or a ratio per topic."""

_Q = TypeVar("_Q")


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
    scheduled: Mapping[str, Rate] = field(default_factory=dict)
    """Each scheduled processor's rate: its schedule's, whatever rate the plan gives."""
    size: Decimal | None = None
    sizes: Mapping[str, Decimal] = field(default_factory=dict)
    duration: Decimal | None = None
    dead_letters: Decimal = Decimal(0)
    region: str | None = None
    processors: Mapping[str, ProcessorAssumptions] = field(default_factory=dict)
    compression: Decimal | None = None
    """As written: records of events of an assumed size are given it (``wire.py``)."""
    samples: Mapping[str, Sequence[Emit]] = field(default_factory=dict)
    """Per stream, emits a run measured: their real data is packed and compressed."""
    errors: Mapping[str, Decimal] = field(default_factory=dict)
    """Per processor, failed handler calls per event in a measured run (retries count)."""
    dead_letter_shares: Mapping[str, Decimal] = field(default_factory=dict)
    """Per processor, the share of its events a measured run dead-lettered."""
    p99: Mapping[str, Decimal] = field(default_factory=dict)
    """Per processor, the 99th percentile of its handler time in a measured run, as on
    Lambda (like its duration)."""
    cpu: Mapping[str, Decimal] = field(default_factory=dict)
    """Per processor, seconds of a full core per event, as a run measured them (its
    duration is this scaled to the function's share of a vCPU)."""
    measured_from: str = ""
    """The run the measured figures come from, in words (``3 events of input.json``)."""
    run_problems: tuple[str, ...] = ()
    """What went wrong in the measured run (dead letters, an early stop), in words: the
    plan warns with each."""
    measured: tuple[str, ...] = ()
    """The figures a run measured, as ``processor.figure`` (``parse.duration``; figures:
    ``duration``, ``emits``, ``size``, ``input_size``, ``errors``, ``dead_letters``, ``log``)."""

    @property
    def has_rate(self) -> bool:
        return self.rate is not None or bool(self.rates) or bool(self.scheduled)

    def entry_rate(self, entry: str) -> Rate | None:
        scheduled = self.scheduled.get(entry)
        return scheduled if scheduled is not None else self.rates.get(entry, self.rate)

    def entry_size(self, entry: str) -> Decimal:
        return self.sizes.get(entry, self.size if self.size is not None else DEFAULT_SIZE)

    def of(self, processor: str) -> ProcessorAssumptions:
        return self.processors.get(processor, ProcessorAssumptions())

    def duration_of(self, processor: str) -> Decimal:
        own = self.of(processor).duration
        if own is not None:
            return own
        return self.duration if self.duration is not None else DEFAULT_DURATION

    def compression_of(self, stream: str) -> Decimal | None:
        """The ratio given to a stream's records; ``None``: zlib's, on measured data."""
        if self.compression is not None:
            return self.compression
        return None if stream in self.samples else DEFAULT_COMPRESSION

    def cpu_of(self, processor: str, memory: int) -> Decimal:
        """Seconds of a full core per event: measured, else the Lambda time given, as the
        share of a vCPU a ``memory`` MB function has (all of it CPU: the least a server
        would need for it)."""
        measured = self.cpu.get(processor)
        if measured is not None:
            return measured
        return self.duration_of(processor) * min(Decimal(1), Decimal(memory) / LAMBDA_VCPU_MB)

    def error_share(self, processor: str) -> Decimal:
        """Events of ``processor`` that fail: measured, else those dead-lettered."""
        return self.errors.get(processor, self.dead_letters)

    def dead_letter_share(self, processor: str) -> Decimal:
        """Events of ``processor`` that end as dead letters: measured, else as written."""
        return self.dead_letter_shares.get(processor, self.dead_letters)

    def is_measured(self, processor: str, figure: str) -> bool:
        """Whether a run measured ``figure`` of ``processor`` (see ``measured``)."""
        return f"{processor}.{figure}" in self.measured

    def emits_per_event(self, processor: str) -> Decimal:
        """Emit calls per event received, whatever streams each goes to."""
        emits = self.of(processor).emits
        if emits is None:
            return DEFAULT_EMITS
        return emits if isinstance(emits, Decimal) else sum(emits.values(), Decimal(0))

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
        compression: Decimal | None = None,
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
            result,
            processors=processors,
            duration=duration,
            region=region or result.region,
            compression=compression if compression is not None else result.compression,
        )


def plan_assumptions(topology: Topology) -> tuple[Assumptions, list[Issue]]:
    """The topology's ``plan:`` section as ``Assumptions``, and every quantity it cannot read.

    The loader has checked the section's shape; here its rates, sizes, durations and ratios
    are read, each problem an ``invalid-plan`` issue at the value's path.
    """
    section = topology.plan
    label = display_path(topology.file)
    issues: list[Issue] = []

    def attempt(parse: Callable[[object, str], _Q], given: PlanValue | None) -> _Q | None:
        if given is None:
            return None
        try:
            return parse(given.value, given.where)
        except PlanError as exc:
            message = exc.message.removeprefix(f"{given.where} ")
            issues.append(Issue("invalid-plan", given.where, message, label))
            return None

    def per_name(
        parse: Callable[[object, str], _Q], given: Mapping[str, PlanValue]
    ) -> dict[str, _Q]:
        parsed = {name: attempt(parse, value) for name, value in given.items()}
        return {name: value for name, value in parsed.items() if value is not None}

    rate, rates = attempt(parse_rate, section.rate), per_name(parse_rate, section.rates)
    size, sizes = attempt(parse_size, section.size), per_name(parse_size, section.sizes)
    # Names under plan.processors are the loader's to check, as keys; a rate or size is
    # checked for its processor once it reads, so a bad value is one problem, not two.
    names = topology.processors
    for name, path in [*((n, "plan.rate") for n in rates), *((n, "plan.size") for n in sizes)]:
        if name not in names:
            message = f"unknown processor '{name}'{did_you_mean(name, names)}"
            issues.append(Issue("invalid-plan", f"{path}.{name}", message, label))
    duration = attempt(parse_duration, section.duration)
    dead_letters = attempt(parse_fraction, section.dead_letters)
    compression = attempt(parse_compression, section.compression)
    processors: dict[str, ProcessorAssumptions] = {}
    for name, written in section.processors.items():
        emits: Emits | None = None
        if isinstance(written.emits, PlanValue):
            emits = attempt(parse_emits, written.emits)
        elif written.emits is not None:
            emits = {
                topic: attempt(parse_emits, ratio) or Decimal(0)
                for topic, ratio in written.emits.items()
            }
        processors[name] = ProcessorAssumptions(
            emits=emits,
            duration=attempt(parse_duration, written.duration),
            size=attempt(parse_size, written.size),
            log=attempt(_parse_log, written.log),
        )
    assumptions = Assumptions(
        rate=rate,
        rates=rates,
        size=size,
        sizes=sizes,
        duration=duration,
        dead_letters=dead_letters if dead_letters is not None else Decimal(0),
        region=section.region,
        processors=processors,
        compression=compression,
        scheduled={
            name: schedule_rate(p.schedule.expression)
            for name, p in topology.processors.items()
            if p.schedule is not None
        },
    )
    return assumptions, issues


def schedule_rate(expression: str) -> Rate:
    """A schedule as an input rate: a rate expression's period, a cron expression's
    firings in 30 days (``schedules.fires_per_second``)."""
    per_second = fires_per_second(expression)
    month = round(per_second * 30 * 86400)
    return Rate(per_second, False, f"scheduled {describe(expression)}, {month:,} times in 30 days")


def _parse_log(value: object, where: str) -> Decimal:
    """Bytes printed per event: zero is allowed, unlike an event size."""
    if value in (0, "0", "0 B"):
        return Decimal(0)
    return parse_size(value, where)


def with_command_line(
    assumptions: Assumptions,
    processors: Mapping[str, object],
    *,
    rates: Sequence[str] = (),
    sizes: Sequence[str] = (),
    durations: Sequence[str] = (),
    emits: Sequence[str] = (),
    region: str | None = None,
    compression: str | None = None,
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
        compression=parse_compression(compression, "--compression")
        if compression is not None
        else None,
    )
