"""Existing streams at the edges of a topology: the ``external:`` section, as plain data.

A topology may read an existing Kinesis data stream and write to an existing Kinesis data
stream or Firehose delivery stream, which attak neither creates nor deletes. Each one is
named once under ``external:`` with its ARN (``{kinesis: ARN}`` or ``{firehose: ARN}``),
and that name is used as an end in ``streams:``: ``[clicks, parse]`` maps the existing
stream ``clicks`` into processor ``parse``; ``[archive, lake]`` sends ``archive``'s emits
to ``lake``.

The loader reads the section with ``read_external`` (every problem an ``Issue`` at its
path); validation checks how the names are used; the CDK layer grants the actions below
on each ARN, and nothing else. Nothing here imports ``aws_cdk``.

What travels is not attak's: the records an outside producer wrote are read as the
runtime reads an ingest stream's (each record's data one event: parsed JSON, else text,
else bytes), and what a processor writes to an external stream is its event's JSON alone,
with no envelope and no aggregation, for consumers that are not attak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import did_you_mean
from .settings import ARN_ACCOUNT, ARN_PARTITION, ARN_REGION, shown

KINESIS = "kinesis"
FIREHOSE = "firehose"
KINDS: Mapping[str, str] = {
    KINESIS: "an existing Kinesis data stream, by ARN (arn:aws:kinesis:REGION:ACCOUNT:"
    "stream/NAME): a processor may read it or write to it",
    FIREHOSE: "an existing Firehose delivery stream, by ARN (arn:aws:firehose:REGION:"
    "ACCOUNT:deliverystream/NAME): a processor may write to it",
}
"""Each kind of external stream, in words (``attak schema`` shows them too)."""

# Written in the regex syntax JSON Schema shares with Python (``attak schema`` hands them
# to editors): no named groups.
# Kinesis' CreateStream: a StreamName is 1 to 128 characters of [a-zA-Z0-9_.-]
# (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html); its ARN
# is arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesisdatastreams.html).
KINESIS_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:kinesis:{ARN_REGION}:{ARN_ACCOUNT}:stream/[A-Za-z0-9_.-]{{1,128}}$"
)
# Firehose's CreateDeliveryStream: a DeliveryStreamName is 1 to 64 characters of
# [a-zA-Z0-9_.-] (https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html);
# its ARN is arn:PARTITION:firehose:REGION:ACCOUNT:deliverystream/NAME
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondatafirehose.html).
FIREHOSE_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:firehose:{ARN_REGION}:{ARN_ACCOUNT}:deliverystream/"
    r"[A-Za-z0-9_.-]{1,64}$"
)
ARNS: Mapping[str, re.Pattern[str]] = {KINESIS: KINESIS_ARN, FIREHOSE: FIREHOSE_ARN}
EXAMPLES: Mapping[str, str] = {
    KINESIS: "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
    FIREHOSE: "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake",
}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
"""An external stream's name in the topology: as a processor's (it is part of construct
ids and of the routes handed to the runtime)."""

# What a processor's function may do with each, on that one ARN. Reading: the actions
# attak grants for its own streams (``cdk/permissions.py``'s STREAM_READ_ACTIONS).
# Writing: the one call the runtime makes, PutRecords for Kinesis
# (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html) and
# PutRecordBatch for Firehose
# (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html).
KINESIS_PUT_ACTIONS = ("kinesis:PutRecords",)
FIREHOSE_PUT_ACTIONS = ("firehose:PutRecordBatch",)
PUT_ACTIONS: Mapping[str, tuple[str, ...]] = {
    KINESIS: KINESIS_PUT_ACTIONS,
    FIREHOSE: FIREHOSE_PUT_ACTIONS,
}
WORDS: Mapping[str, str] = {KINESIS: "Kinesis stream", FIREHOSE: "Firehose delivery stream"}


@dataclass(frozen=True)
class ExternalStream:
    """An existing stream named under ``external:``: attak neither creates nor deletes it."""

    name: str
    """Its name in the topology (what ``streams:`` uses)."""
    kind: str
    """``kinesis`` or ``firehose``."""
    arn: str
    where: str = ""

    @property
    def resource_name(self) -> str:
        """Its name in AWS, the last part of its ARN (``clicks`` in ``...:stream/clicks``)."""
        return self.arn.rpartition("/")[2]

    @property
    def in_words(self) -> str:
        """``Firehose delivery stream arn:aws:firehose:...:deliverystream/lake``."""
        return f"{WORDS[self.kind]} {self.arn}"


def read_external(data: Any, issue: Callable[[str, str, str], None]) -> dict[str, ExternalStream]:
    """``external:``: name -> ``{kinesis: ARN}`` or ``{firehose: ARN}``. Every problem is
    reported through ``issue(code, path, message)``; an entry with a problem is left out
    (and a stream naming it is then reported as unknown: the two point at each other)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        issue(
            "invalid-external",
            "external",
            "must map names to existing streams, e.g. external: {clicks: {kinesis: "
            f"{EXAMPLES[KINESIS]}}} (given {shown(data)})",
        )
        return {}
    found: dict[str, ExternalStream] = {}
    for name, spec in data.items():
        path = f"external.{name}"
        if not isinstance(name, str) or not NAME.fullmatch(name):
            issue(
                "invalid-external",
                path,
                f"'{name}' cannot name an external stream: use a letter first, then letters, "
                "digits, '_' or '-', at most 64 characters",
            )
            continue
        if not isinstance(spec, dict) or len(spec) != 1:
            issue(
                "invalid-external",
                path,
                f"must be one of {', '.join(KINDS)} with the stream's ARN, e.g. "
                f"{{kinesis: {EXAMPLES[KINESIS]}}} (given {shown(spec)})",
            )
            continue
        ((kind, arn),) = spec.items()
        pattern = ARNS.get(str(kind))
        if pattern is None:
            issue(
                "invalid-external",
                f"{path}.{kind}",
                f"unknown kind '{kind}'{did_you_mean(str(kind), KINDS)} "
                f"(allowed: {', '.join(KINDS)})",
            )
            continue
        problem = arn_problem(str(kind), arn)
        if problem:
            issue("invalid-external", f"{path}.{kind}", problem)
            continue
        found[name] = ExternalStream(name, str(kind), str(arn), f"{path}.{kind}")
    return found


def arn_problem(kind: str, arn: object) -> str | None:
    """Why ``arn`` is not the ARN of a ``kind`` stream (its service, or its shape), or None."""
    what = WORDS[kind]
    if not isinstance(arn, str) or not arn:
        return f"must be the {what}'s ARN, e.g. {EXAMPLES[kind]} (given {shown(arn)})"
    if ARNS[kind].match(arn):
        return None
    service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else ""
    if service and service != kind:
        other = next((k for k, p in ARNS.items() if p.match(arn)), None)
        hint = f": write it as {other}: {arn}" if other else ""
        return f"not the ARN of a {what}: it is a {service} ARN (given {shown(arn)}){hint}"
    return f"not the ARN of a {what}, which reads like {EXAMPLES[kind]} (given {shown(arn)})"
