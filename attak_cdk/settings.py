"""The settings a topology may give processors and streams: names, types, ranges, defaults.

Rules as data: the loader reads types from this table, validation reads the ranges, the
README and ``attak init`` read the defaults. AWS's own names and limits are kept, so a value
that passes here is one that Lambda and Kinesis accept.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass

# The runtime needs this default too, and imports nothing of ours: it is defined there and
# offered here with the other defaults.
from .runtime.config import DEFAULT_MAX_HOPS as DEFAULT_MAX_HOPS
from .runtime.config import DEFAULT_TRACE_SAMPLING as DEFAULT_TRACE_SAMPLING

MAX_HOPS_LIMIT = 10_000

MIN_RECORD_AGE = 60
MAX_RECORD_AGE = 604_800
NO_RECORD_AGE_LIMIT = -1
RECORD_AGE_MARGIN = 3600
"""Seconds the default ``max_record_age`` leaves before the stream's retention ends."""
_ALSO_MEANS = "no limit"

# The defaults, named and typed: the tables below hold them, and the model's dataclasses
# and the CDK props take them from here, so a default is written once.
DEFAULT_MEMORY = 256
DEFAULT_TIMEOUT = 60
DEFAULT_INPUT = "direct"
DEFAULT_BATCH_SIZE = 100
DEFAULT_STARTING_POSITION = "TRIM_HORIZON"
DEFAULT_MAX_BATCHING_WINDOW = 0
DEFAULT_PARALLELIZATION_FACTOR = 1
DEFAULT_RETRY_ATTEMPTS = 10
DEFAULT_BISECT_BATCH_ON_ERROR = True
DEFAULT_RETENTION_HOURS = 24
# Lambda's platform lines (START, END, REPORT) are INFO-level system logs: WARN keeps only
# the platform's warnings, a line or two per invocation less at every invocation.
DEFAULT_SYSTEM_LOG_LEVEL = "WARN"

# Lambda's Python runtimes: those in standard support (each deprecated on the date Lambda
# projects: 3.12 on 2028-10-31, 3.13 and 3.14 on 2029-06-30), and the deprecated ones with
# the date each was deprecated, from which Lambda applies no more security patches and
# then blocks creating and updating functions on it (checked 2026-12):
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
PYTHON_VERSIONS = ("3.12", "3.13", "3.14")
DEPRECATED_PYTHON_VERSIONS = (
    ("3.11", "2026-06-30"),
    ("3.10", "2026-06-30"),
    ("3.9", "2025-12-15"),
    ("3.8", "2024-10-14"),
    ("3.7", "2023-12-04"),
    ("3.6", "2022-07-18"),
    ("2.7", "2021-07-15"),
)
DEFAULT_PYTHON = "3.13"
"""The Python every function runs unless its processor sets ``python`` (``asset.py``
installs the requirements' wheels for the same version)."""
DEFAULT_ARCHITECTURE = "arm64"
"""Lambda's Graviton architecture: a GB-second costs a fifth less than on x86_64."""
# "The default value is 512, but it can be any whole number between 512 and 10,240 MB."
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-ephemeralstorage.html
LAMBDA_EPHEMERAL_STORAGE = 512

ON_DEMAND = "on-demand"
"""The value ``shards`` may take to ask for an on-demand stream explicitly."""

AUTO = "auto"
"""The value ``shards`` may take to provision the shards the topology's ``plan:`` needs."""


@dataclass(frozen=True)
class Setting:
    """One tunable: its type, the inclusive range or choices AWS allows, and its default."""

    name: str
    kind: type
    default: object
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    help: str = ""
    also: tuple[int, ...] = ()
    """Values allowed outside the range (``-1``: no limit, in AWS's own words)."""
    words: tuple[tuple[str, object], ...] = ()
    """Words accepted besides a value of ``kind``, each with the value it is read as
    (``shards: on-demand`` reads as unset)."""
    retired: tuple[tuple[str, str], ...] = ()
    """Choices AWS no longer accepts, each with the date it retired them: refused with
    that date (``python: "3.8"``)."""

    def allowed(self) -> str:
        """Describe the allowed values the way an error message should."""
        if self.also:
            others = " or ".join(str(value) for value in self.also)
            return f"{self._in_range()}, or {others} ({_ALSO_MEANS})"
        return self._in_range()

    def _in_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is float:
            return f"a number from {self.minimum} to {self.maximum}"
        unit = f" {self.unit}" if self.unit else ""
        if self.minimum is not None and self.maximum is not None:
            return f"an integer from {self.minimum} to {self.maximum}{unit}"
        if self.minimum is not None:
            return f"an integer of at least {self.minimum}{unit}"
        return "an integer"


PROCESSOR_SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("memory", int, DEFAULT_MEMORY, 128, 10240, unit="MB", help="Lambda memory size"),
        Setting("timeout", int, DEFAULT_TIMEOUT, 1, 900, unit="seconds", help="Lambda timeout"),
        Setting(
            "reserved_concurrency",
            int,
            None,
            0,
            None,
            help="reserved concurrent executions (unset: the account's pool)",
        ),
        # EphemeralStorage.Size, MB (see LAMBDA_EPHEMERAL_STORAGE).
        Setting(
            "ephemeral_storage",
            int,
            None,
            LAMBDA_EPHEMERAL_STORAGE,
            10240,
            unit="MB",
            help=f"size of the function's /tmp (unset: Lambda's {LAMBDA_EPHEMERAL_STORAGE} MB)",
        ),
        # TracingConfig Mode Active; unset, Lambda's PassThrough (traces only requests that
        # arrive sampled): https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
        Setting(
            "tracing",
            bool,
            False,
            help="X-Ray active tracing (Lambda's TracingConfig mode Active)",
        ),
        # Architectures: one of x86_64 and arm64.
        # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
        Setting(
            "architecture",
            str,
            None,
            choices=("arm64", "x86_64"),
            help=f"Lambda's instruction set (unset: {DEFAULT_ARCHITECTURE}, or what the "
            "Topology construct is given)",
        ),
        Setting(
            "python",
            str,
            None,
            choices=PYTHON_VERSIONS,
            help=f"the function's Python runtime, in quotes (unset: {DEFAULT_PYTHON}); "
            "simulate runs the local interpreter",
            retired=DEPRECATED_PYTHON_VERSIONS,
        ),
        Setting(
            "input",
            str,
            DEFAULT_INPUT,
            choices=("direct", "stream"),
            help="'stream' gives the processor an ingest stream for outside producers",
        ),
        # Lambda's own names and values for its system log level (LoggingConfig):
        # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
        Setting(
            "system_log_level",
            str,
            DEFAULT_SYSTEM_LOG_LEVEL,
            choices=("DEBUG", "INFO", "WARN"),
            help="Lambda's platform lines kept: INFO adds START and REPORT per invocation",
        ),
    )
}
"""Scalar processor settings; ``handler`` and ``environment`` are read separately."""

STREAM_SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("batch_size", int, DEFAULT_BATCH_SIZE, 1, 10000, help="records per invocation"),
        Setting(
            "starting_position",
            str,
            DEFAULT_STARTING_POSITION,
            choices=("TRIM_HORIZON", "LATEST"),
            help="where a new mapping starts reading",
        ),
        Setting(
            "max_batching_window",
            int,
            DEFAULT_MAX_BATCHING_WINDOW,
            0,
            300,
            unit="seconds",
            help="batching wait",
        ),
        Setting(
            "parallelization_factor",
            int,
            DEFAULT_PARALLELIZATION_FACTOR,
            1,
            10,
            help="concurrent batches per shard",
        ),
        Setting(
            "retry_attempts",
            int,
            DEFAULT_RETRY_ATTEMPTS,
            0,
            10000,
            help="retries before dead-lettering",
        ),
        Setting(
            "bisect_batch_on_error",
            bool,
            DEFAULT_BISECT_BATCH_ON_ERROR,
            help="split a failing batch to isolate it",
        ),
        # MaximumRecordAgeInSeconds: -1 (infinite) or 60 to 604800; below 60 is refused:
        # https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
        Setting(
            "max_record_age",
            int,
            None,
            MIN_RECORD_AGE,
            MAX_RECORD_AGE,
            unit="seconds",
            help="records older than this are dead-lettered (unset: the stream's retention "
            "less an hour, at most 7 days; -1: no limit)",
            also=(NO_RECORD_AGE_LIMIT,),
        ),
        Setting(
            "shards",
            int,
            None,
            1,
            10000,
            help="provisioned shards (unset: on-demand; auto: what `attak plan` finds)",
            words=((ON_DEMAND, None), (AUTO, AUTO)),
        ),
        Setting(
            "retention_hours",
            int,
            DEFAULT_RETENTION_HOURS,
            24,
            8760,
            unit="hours",
            help="stream retention",
        ),
    )
}
"""Stream settings, named as in Lambda's event-source mapping and Kinesis."""


def default_max_record_age(retention_hours: int) -> int:
    """The ``max_record_age`` of a stream kept ``retention_hours``: an hour short of its
    retention, and at most the 7 days Lambda allows.

    Without one, a record Lambda cannot deliver (throttling, invocations that fail
    before the handler runs) blocks its shard until the stream drops it, unseen. With it,
    Lambda gives up on the record first and tells the dead-letter queue where it was;
    the hour left is the time to read it from the stream before it expires.
    """
    seconds = retention_hours * 3600 - RECORD_AGE_MARGIN
    return max(MIN_RECORD_AGE, min(MAX_RECORD_AGE, seconds))


def record_age_problem(max_record_age: int | None, retention_hours: int) -> str | None:
    """What is wrong with ``max_record_age`` for a stream kept ``retention_hours``."""
    if max_record_age is None or max_record_age == NO_RECORD_AGE_LIMIT:
        return None
    if max_record_age > retention_hours * 3600:
        return (
            f"{max_record_age} seconds is longer than the stream keeps its records "
            f"(retention_hours {retention_hours} = {retention_hours * 3600} seconds): the "
            "stream would drop a record before Lambda gives up on it; lower max_record_age "
            f"(default {default_max_record_age(retention_hours)}) or raise retention_hours"
        )
    return None


MAX_HOPS = Setting(
    "max_hops", int, DEFAULT_MAX_HOPS, 1, MAX_HOPS_LIMIT, help="stream hops a trace may take"
)
TRACE_SAMPLING = Setting(
    "trace_sampling",
    float,
    DEFAULT_TRACE_SAMPLING,
    0,
    1,
    help="share of traces logged record by record (0.01: one in a hundred)",
)
TOPOLOGY_SETTINGS: dict[str, Setting] = {s.name: s for s in (MAX_HOPS, TRACE_SAMPLING)}
"""Settings of the topology as a whole, written at its top level."""


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel = 2


def shown(value: object) -> str:
    """``repr(value)`` cut short: a message quotes what was given, never megabytes of it."""
    text = _SHORT.repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def check_value(setting: Setting, value: object) -> str | None:
    """Say what is wrong with ``value`` for ``setting``, or return ``None`` if it is fine."""
    if setting.also and not isinstance(value, bool) and value in setting.also:
        return None
    if setting.choices:
        if value in setting.choices:
            return None
        return _choice_problem(setting, value)
    if setting.kind is bool:
        return None if isinstance(value, bool) else f"must be true or false (given {shown(value)})"
    if setting.kind is float:
        return _check_number(setting, value)
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " without quotes" if isinstance(value, str) and value.strip().isdigit() else ""
        return f"must be {setting.allowed()}{hint} (given {shown(value)})"
    too_low = setting.minimum is not None and value < setting.minimum
    too_high = setting.maximum is not None and value > setting.maximum
    if too_low or too_high:
        return f"must be {setting.allowed()} (given {value})"
    return None


def _choice_problem(setting: Setting, value: object) -> str:
    """Why ``value`` is none of the setting's choices: a retired one with its date, a
    number where text is meant (YAML reads ``3.10`` as the number 3.1), or another."""
    allowed = f"must be {setting.allowed()}"
    text = str(value)
    for old, since in setting.retired:
        if text == old:
            return f"{setting.name} {old} is deprecated in AWS Lambda since {since}: {allowed}"
    numeric_choices = all(_is_number(choice) for choice in setting.choices)
    if numeric_choices and isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            f"{allowed} (given the number {value}): write it in quotes, e.g. "
            f"{setting.name}: '{text if text in setting.choices else setting.choices[-1]}' "
            "(unquoted, YAML reads 3.10 as the number 3.1)"
        )
    return f"{allowed} (given {shown(value)})"


def _check_number(setting: Setting, value: object) -> str | None:
    """A number (integer or decimal) within the setting's inclusive range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " without quotes" if isinstance(value, str) and _is_number(value) else ""
        return f"must be {setting.allowed()}{hint} (given {shown(value)})"
    low, high = setting.minimum, setting.maximum
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        return f"must be {setting.allowed()} (given {value})"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# The parts of an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) every ARN check
# shares: grants, alerts, references, external streams. Written in the regex syntax JSON
# Schema shares with Python (``attak schema`` hands some of them to editors): no named
# groups.
ARN_PARTITION = r"aws[a-z-]*"
ARN_REGION = r"[a-z]{2}(-[a-z]+)+-\d"
ARN_ACCOUNT = r"\d{12}"

# An address SNS can send to: something@domain.tld, no spaces (SNS confirms it by mail).
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# A standard SNS topic's ARN: arn:PARTITION:sns:REGION:ACCOUNT:NAME, a name of letters,
# digits, '-' and '_', at most 256 characters.
# https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
SNS_TOPIC_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:sns:{ARN_REGION}:{ARN_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}$"
)


def alert_problem(value: object) -> str | None:
    """What is wrong with one ``alerts:`` entry: an email address or an SNS topic ARN."""
    if isinstance(value, str) and (EMAIL.match(value) or SNS_TOPIC_ARN.match(value)):
        return None
    if isinstance(value, str) and value.startswith("arn:"):
        return (
            f"not an SNS topic ARN (given {shown(value)}): write "
            "arn:aws:sns:REGION:ACCOUNT:TOPIC, e.g. arn:aws:sns:us-east-1:123456789012:oncall"
        )
    return (
        f"must be an email address or an SNS topic ARN (given {shown(value)}), "
        "e.g. oncall@example.com or arn:aws:sns:us-east-1:123456789012:oncall"
    )
