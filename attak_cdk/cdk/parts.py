"""``TopologyParts``: a built topology's functions, streams and queues, found by the names
the topology file gives them, for wiring a user's own resources with the CDK's idioms::

    bucket.grant_write(topology.function("archive"))
    topology.stream("parse", "archive", topic="clicks").grant_read(analytics_role)
    topology.ingest_stream("parse").grant_write(web_server_role)

Both the ``Topology`` construct (a topology in one stack of a user's app) and
``TopologyStacks`` (attak's app, which may spread a large topology over several stacks)
are ``TopologyParts``: the lookups work the same wherever each part was built.

A name the topology does not have raises ``UnknownPart``, listing what it does have and
the closest name; a stream named by its ends alone where several streams join them, with
different topics, raises ``AmbiguousStream`` listing their topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from .. import graph
from ..errors import AttakError, did_you_mean
from ..model import Topology as TopologyModel
from .processor import ProcessorFunction
from .stream import TopologyStream


class UnknownPart(AttakError):
    """A processor or a stream that the topology does not have was asked for by name."""


class AmbiguousStream(AttakError):
    """A stream was named by its ends alone, and several streams with different topics
    join those two processors: its topic says which one."""


class TopologyParts:
    """The constructs a topology was built into, by the names its topology file uses.

    Processors are named as under ``processors:`` (``archive``); a stream by the
    processors at its ends, and its topic when several streams join the same two
    processors (``stream("parse", "archive", topic="clicks")``); the ingest stream of a
    processor declared ``input: stream`` by that processor (``ingest_stream("parse")``).
    """

    def __init__(
        self,
        model: TopologyModel,
        processors: Mapping[str, ProcessorFunction],
        streams: Mapping[str, TopologyStream],
    ) -> None:
        self.model = model
        """The topology this was built from."""
        self.processors: Mapping[str, ProcessorFunction] = MappingProxyType(dict(processors))
        """Processor name -> its ``ProcessorFunction`` (its function, log group,
        dead-letter queue and alarms), in topology order."""
        self._stream_constructs: Mapping[str, TopologyStream] = MappingProxyType(dict(streams))
        self._resolved = graph.resolve(model)

    # --- Processors ---------------------------------------------------------------------

    @property
    def functions(self) -> Mapping[str, lambda_.Function]:
        """Processor name -> its Lambda function, in topology order."""
        return MappingProxyType({name: p.function for name, p in self.processors.items()})

    def processor(self, name: str) -> ProcessorFunction:
        """The construct of processor ``name``: its function, log group, dead-letter queue
        and alarms together.

        :raises UnknownPart: the topology has no processor ``name`` (the message lists
            those it has, and the closest one).
        """
        found = self.processors.get(name)
        if found is None:
            raise UnknownPart(
                f"topology '{self.model.name}' has no processor '{name}'"
                f"{did_you_mean(name, self.processors)}; its processors: "
                f"{', '.join(self.processors)}"
            )
        return found

    def function(self, processor: str) -> lambda_.Function:
        """The Lambda function of ``processor``: a grantable principal, so a resource's
        ``grant_*`` methods add to this function's own role (and to no other)::

            bucket.grant_write(topology.function("archive"))

        A variable added with ``add_environment`` counts toward Lambda's 4 KB for all of
        the function's variables, which ``attak validate`` checks only for those in the
        topology file: keep added values short (a name or an ARN, not a document).

        :raises UnknownPart: the topology has no such processor.
        """
        return self.processor(processor).function

    def role(self, processor: str) -> iam.Role:
        """The execution role attak made for ``processor``'s function: no managed policy,
        only its own logs, dead-letter queue and streams, and the topology's ``grants:``.

        :raises UnknownPart: the topology has no such processor.
        """
        return self.processor(processor).role

    def dead_letter_queue(self, processor: str) -> sqs.Queue:
        """The SQS queue holding the events ``processor`` gave up on (its dead letters).

        :raises UnknownPart: the topology has no such processor.
        """
        return self.processor(processor).dead_letter_queue

    def log_group(self, processor: str) -> logs.LogGroup:
        """The log group of ``processor``'s function.

        :raises UnknownPart: the topology has no such processor.
        """
        return self.processor(processor).log_group

    def alarms(self, processor: str) -> list[cloudwatch.Alarm]:
        """The alarms attak made for ``processor`` (failed invocations, failed and
        dead-lettered events, iterator age, letters waiting), e.g. to add actions.

        :raises UnknownPart: the topology has no such processor.
        """
        return list(self.processor(processor).alarms)

    # --- Streams ------------------------------------------------------------------------

    @property
    def streams(self) -> Mapping[str, kinesis.Stream]:
        """Every Kinesis stream by its local name, as ``attak simulate`` and ``attak
        synth`` show it: ``parse->archive``, ``parse->alert[suspicious]`` (with its
        topic), ``input->parse`` (an ingest stream); the topology's streams in file order,
        then the ingest streams."""
        return MappingProxyType({n: s.stream for n, s in self._stream_constructs.items()})

    def stream(self, source: str, target: str, *, topic: str | None = None) -> kinesis.Stream:
        """The Kinesis stream from processor ``source`` to processor ``target``.

        ``topic``: the topic it carries, as in the topology file. Default: the one stream
        joining ``source`` to ``target`` (the stream with no topic, when there is one).

        :raises UnknownPart: either end is not a processor, or no such stream joins them.
        :raises AmbiguousStream: ``topic`` is left out and several streams with topics
            join ``source`` to ``target``.
        """
        for end in (source, target):
            self.processor(end)
        joining = [
            s
            for s in self._resolved.streams.values()
            if s.producer == source and s.consumer == target
        ]
        wanted = [s for s in joining if s.topic == topic]
        if len(wanted) == 1:
            return self._stream_constructs[wanted[0].name].stream
        if topic is None and len(joining) == 1:
            return self._stream_constructs[joining[0].name].stream
        if topic is None and joining:
            topics = [s.topic for s in joining if s.topic is not None]
            raise AmbiguousStream(
                f"topology '{self.model.name}' has {len(joining)} streams from '{source}' to "
                f"'{target}', with the topics {', '.join(repr(t) for t in topics)}: name one "
                f'by its topic, e.g. stream("{source}", "{target}", topic="{topics[0]}")'
            )
        raise UnknownPart(self._no_stream(source, target, topic, joining))

    def ingest_stream(self, processor: str) -> kinesis.Stream:
        """The ingest stream of ``processor`` (declared ``input: stream``), which outside
        producers write into::

            topology.ingest_stream("parse").grant_write(web_server_role)

        :raises UnknownPart: no such processor, or it has no ingest stream.
        """
        self.processor(processor)
        resolved = self._resolved.processors[processor]
        if resolved.ingest is None:
            with_one = [n for n, p in self._resolved.processors.items() if p.ingest is not None]
            which = f"; processors with one: {', '.join(with_one)}" if with_one else ""
            raise UnknownPart(
                f"processor '{processor}' of topology '{self.model.name}' has no ingest "
                f"stream: only a processor declared with `input: stream` has one{which}"
            )
        return self._stream_constructs[resolved.ingest.name].stream

    def _no_stream(
        self,
        source: str,
        target: str,
        topic: str | None,
        joining: list[graph.ResolvedStream],
    ) -> str:
        """Why no stream matches: the topics joining the two processors, or the streams
        leaving ``source``, with the closest name."""
        prefix = f"topology '{self.model.name}' has no stream from '{source}' to '{target}'"
        if joining:
            topics = [s.topic for s in joining if s.topic is not None]
            there = [repr(t) for t in topics]
            if len(topics) < len(joining):
                there.append("no topic (it carries every topic)")
            return (
                f"{prefix} with the topic '{topic}'{did_you_mean(str(topic), topics)}; "
                f"the topics there: {', '.join(there)}"
            )
        leaving = [s.name for s in self._resolved.streams.values() if s.producer == source]
        asked = f"{source}->{target}" + (f"[{topic}]" if topic else "")
        return (
            f"{prefix}{did_you_mean(asked, leaving)}; streams from '{source}': "
            f"{', '.join(leaving) if leaving else 'none'}"
        )
