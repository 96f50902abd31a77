"""Cross-element rules over a topology model: one pure function per rule.

Each rule takes the ``Topology`` and returns the ``Issue``s it finds; ``validate`` runs
every rule, always, so a user sees every problem at once. A rule that crashes becomes an
issue itself rather than hiding the others. Shape, type and range checks happen earlier,
in the loader, where the raw document is read.
"""

from __future__ import annotations

import ast
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from . import graph, limits, stacks
from .errors import Issue, Severity, did_you_mean, display_path, known
from .handlers import HandlerError, load_handler
from .model import Topology
from .runtime import config
from .runtime.config import ENV_PREFIX

Rule = Callable[[Topology], Iterable[Issue]]
NEEDS_CONFIGURATION = "handler-needs-configuration"
"""The warning for a handler whose import failed without the values its environment keeps
in AWS: a local run, which knows them, imports it again (and fails if it still fails)."""

# The names AWS and Python accept, as patterns ``attak schema`` hands editors too: written
# in the regex syntax JSON Schema shares with Python (no named groups, no \Z), and matched
# whole here (``fullmatch``: ``$`` alone would let a trailing newline through).
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
"""CloudFormation stack names: a letter, then letters, digits and hyphens, 128 at most."""
PROCESSOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
"""Processor names become parts of construct ids, log group names and environment values."""
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A Python function name, and an environment variable name."""
RESERVED_ENV = ("AWS_", "LAMBDA_", "_HANDLER", "_X_AMZN", ENV_PREFIX)
"""Prefixes of the environment variables Lambda and attak set themselves."""
MAX_TOPIC = 256


def _issue(topology: Topology, code: str, path: str, message: str, warning: bool = False) -> Issue:
    severity: Severity = "warning" if warning else "error"
    return Issue(code, path, message, display_path(topology.file), severity)


def topology_name(topology: Topology) -> Iterable[Issue]:
    """The name becomes the CloudFormation stack name, so it must be one AWS accepts."""
    if topology.name and not STACK_NAME.fullmatch(topology.name):
        yield _issue(
            topology,
            "invalid-name",
            "name",
            f"'{topology.name}' cannot be a stack name: use a letter first, then letters, "
            "digits and hyphens, at most 128 characters (e.g. 'my-pipeline')",
        )


def processor_names(topology: Topology) -> Iterable[Issue]:
    """Processor names must be usable in AWS resource names and ids."""
    for name, processor in topology.processors.items():
        if not PROCESSOR_NAME.fullmatch(name):
            yield _issue(
                topology,
                "invalid-processor-name",
                processor.where if processor.where != "processors" else f"processors ({name})",
                f"processor name '{name}' is not allowed: use a letter first, then letters, "
                "digits, '_' or '-', at most 64 characters",
            )


def distinct_ids(topology: Topology) -> Iterable[Issue]:
    """Two processors or two streams must not map to the same construct id."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for name in topology.processors:
        by_id[graph.function_id(name)].append(f"processor '{name}'")
    stream_paths: dict[str, list[str]] = defaultdict(list)
    for stream in topology.streams:
        stream_paths[graph.stream_id(stream)].append(stream.where)
    for construct_id, owners in by_id.items():
        if len(owners) > 1:
            yield _issue(
                topology,
                "name-clash",
                "processors",
                f"{' and '.join(owners)} would both be named {construct_id} in AWS; "
                "rename one so they differ by more than punctuation or case",
            )
    for construct_id, paths in stream_paths.items():
        if len(paths) > 1 and len({_stream_key(topology, p) for p in paths}) > 1:
            yield _issue(
                topology,
                "name-clash",
                paths[-1],
                f"this stream and {paths[0]} would both be named {construct_id} in AWS; "
                "choose topics that differ by more than punctuation or case",
            )


def _stream_key(topology: Topology, where: str) -> tuple[str, str, str | None]:
    stream = next(s for s in topology.streams if s.where == where)
    return (stream.source, stream.target, stream.topic)


def stream_ends(topology: Topology) -> Iterable[Issue]:
    """Every stream must go from a known processor to a known processor."""
    names = topology.processors.keys()
    for stream in topology.streams:
        for end, value in (("from", stream.source), ("to", stream.target)):
            if value not in names:
                yield _issue(
                    topology,
                    "unknown-processor",
                    f"{stream.where}.{end}",
                    f"unknown processor '{value}'{did_you_mean(value, names)} ({known(names)})",
                )


def duplicate_streams(topology: Topology) -> Iterable[Issue]:
    """The same from, to and topic twice would deliver every record twice."""
    first: dict[tuple[str, str, str | None], str] = {}
    for stream in topology.streams:
        key = (stream.source, stream.target, stream.topic)
        if key in first:
            topic = f" on topic '{stream.topic}'" if stream.topic else ""
            yield _issue(
                topology,
                "duplicate-stream",
                stream.where,
                f"duplicate of {first[key]} ({stream.source} -> {stream.target}{topic}); "
                "every record would be delivered twice: remove one",
            )
        else:
            first[key] = stream.where


def topics(topology: Topology) -> Iterable[Issue]:
    """A topic is a non-empty name of at most 256 characters."""
    for stream in topology.streams:
        if stream.topic is not None and not (0 < len(stream.topic.strip()) <= MAX_TOPIC):
            yield _issue(
                topology,
                "invalid-topic",
                f"{stream.where}.topic",
                f"a topic must be 1 to {MAX_TOPIC} characters (given {stream.topic!r}); "
                "leave it out to carry every topic",
            )


def environment(topology: Topology) -> Iterable[Issue]:
    """Environment variable names must be valid and not ones Lambda or attak reserve,
    whether their value is text or a reference (which is read into that variable)."""
    for name, processor in topology.processors.items():
        for key in (*processor.environment, *processor.references):
            where = f"{processor.where.removesuffix('.handler')}.environment.{key}"
            if key in processor.references:
                where = processor.references[key].where
            if not IDENTIFIER.fullmatch(key):
                yield _issue(
                    topology,
                    "invalid-environment",
                    where,
                    f"'{key}' is not a valid variable name: letters, digits and '_', "
                    "not starting with a digit",
                )
            elif key.startswith(RESERVED_ENV):
                yield _issue(
                    topology,
                    "invalid-environment",
                    where,
                    f"'{key}' is reserved by Lambda or attak (processor '{name}'); "
                    f"names starting with {', '.join(RESERVED_ENV)} cannot be set",
                )


def environment_size(topology: Topology) -> Iterable[Issue]:
    """A function's environment fits Lambda's 4 KB: the user's variables and attak's
    (``limits.attak_variables``, the dead-letter queue's URL counted as long as it can be).
    The references to SSM parameters and secrets (``ATTAK_CONFIG``) count as the user's."""
    for name, processor in topology.processors.items():
        variables = limits.attak_variables(topology, processor)
        references = {k: v for k, v in variables.items() if k == config.ENV_CONFIG}
        ours = limits.environment_bytes(variables) - limits.environment_bytes(references)
        theirs = limits.environment_bytes({**processor.environment, **references})
        if ours + theirs > limits.MAX_ENVIRONMENT_BYTES:
            yield _issue(
                topology,
                "environment-too-large",
                f"{processor.where.removesuffix('.handler')}.environment",
                f"processor '{name}': its function's environment would hold {ours + theirs} "
                f"bytes ({theirs} of them its `environment:`, {ours} attak's); Lambda allows "
                f"{limits.MAX_ENVIRONMENT_BYTES} bytes for all the variables of a function, "
                "keys and values together: keep large values in a file beside the handler "
                "(it ships with the function) or in SSM Parameter Store",
            )


def scheduled_entries(topology: Topology) -> Iterable[Issue]:
    """A schedule invokes an entry processor: one that streams feed gets its events from
    them (give the schedule to the processor that starts the flow)."""
    inputs = graph.incoming(topology)
    for name, processor in topology.processors.items():
        if processor.schedule is None or not inputs.get(name):
            continue
        feeders = ", ".join(sorted({s.source for s in inputs[name]}))
        yield _issue(
            topology,
            "schedule-not-entry",
            processor.schedule.where,
            f"processor '{name}' is fed by streams (from {feeders}): only an entry processor, "
            "which no stream feeds, can have a schedule; put the schedule on a processor of "
            "its own that emits into this one",
        )


def reserved_concurrency(topology: Topology) -> Iterable[Issue]:
    """The processors' ``reserved_concurrency`` together leaves Lambda its 100 unreserved
    executions on an account at the default quota: a warning, as a quota may be raised."""
    reserving = {
        name: p.reserved_concurrency
        for name, p in topology.processors.items()
        if p.reserved_concurrency
    }
    total = sum(reserving.values())
    if total > limits.MAX_RESERVED_CONCURRENCY:
        largest = max(reserving, key=lambda name: reserving[name])
        yield _issue(
            topology,
            "reserved-concurrency",
            f"{topology.processors[largest].where.removesuffix('.handler')}.reserved_concurrency",
            f"the processors reserve {total} concurrent executions together "
            f"({', '.join(f'{n} {c}' for n, c in reserving.items())}); an account at "
            f"Lambda's default quota of {limits.DEFAULT_ACCOUNT_CONCURRENCY} can reserve at "
            f"most {limits.MAX_RESERVED_CONCURRENCY} (it keeps "
            f"{limits.UNRESERVED_CONCURRENCY} unreserved), so deploying fails unless the "
            "account's quota was raised: reserve less, or raise the quota first",
            warning=True,
        )


def stack_names(topology: Topology) -> Iterable[Issue]:
    """The stacks a large topology is split into (``<name>-streams-N``, ``<name>-N``) keep
    CloudFormation's 128-character stack names."""
    room = limits.MAX_STACK_NAME - len(topology.name)
    if room >= len("-streams-99") or stacks.fits_one_stack(topology):
        return  # the name alone is checked by `topology_name`
    longest = max(
        f"{topology.name}-streams-{len(stacks.stream_stacks(topology))}",
        f"{topology.name}-{len(stacks.processor_stacks(topology))}",
        key=len,
    )
    if len(longest) > limits.MAX_STACK_NAME:
        yield _issue(
            topology,
            "name-too-long",
            "name",
            f"this topology is too large for one stack and is split into stacks named like "
            f"'{longest}' ({len(longest)} characters); CloudFormation allows "
            f"{limits.MAX_STACK_NAME}: shorten the name to at most "
            f"{len(topology.name) - (len(longest) - limits.MAX_STACK_NAME)} characters",
        )


def handlers(topology: Topology) -> Iterable[Issue]:
    """Each handler file exists, imports cleanly, and has the named function."""
    for processor in topology.processors.values():
        where = processor.where
        if not processor.file.is_file():
            yield _issue(
                topology,
                "missing-handler",
                where,
                f"handler file not found: {processor.handler_spec or processor.file} "
                f"(looked for {processor.file}); paths are relative to the topology file",
            )
            continue
        if not IDENTIFIER.fullmatch(processor.function):
            yield _issue(
                topology,
                "invalid-handler",
                where,
                f"'{processor.function}' is not a Python function name",
            )
            continue
        try:
            load_handler(processor, processor.environment)
        except HandlerError as exc:
            # Values kept in SSM or Secrets Manager are not read here (a local run reads
            # them from the process environment or a dotenv file): an import that may
            # have needed one is checked again when they are known, and said so.
            unknown = [v for v in processor.references if v not in os.environ]
            if not unknown:
                yield _issue(topology, "invalid-handler", where, exc.message)
                continue
            yield _issue(
                topology,
                NEEDS_CONFIGURATION,
                where,
                f"{exc.message} (without {', '.join(unknown)}, whose values attak reads "
                "from AWS at cold start: `attak simulate` imports it with their local "
                "values, from the process environment or a .env file)",
                warning=True,
            )


def unreachable(topology: Topology) -> Iterable[Issue]:
    """Warn about processors that no input can ever reach (a loop with no way in)."""
    reached = graph.reachable(topology)
    for name, processor in topology.processors.items():
        if name not in reached:
            yield _issue(
                topology,
                "unreachable",
                processor.where,
                f"processor '{name}' can never receive data: every stream into it comes "
                "from processors that nothing feeds; add `input: stream` or a stream from an entry",
                warning=True,
            )


def http_entries(topology: Topology) -> Iterable[Issue]:
    """An HTTPS endpoint (``http:``) is a way in from outside: only an entry processor, one
    that no stream feeds, may have one (an ``input: stream`` entry may: both are ways in)."""
    feeding = graph.incoming(topology)
    for name, processor in topology.processors.items():
        streams = feeding.get(name, ())
        if processor.http is None or not streams:
            continue
        listed = ", ".join(f"{s.where} from {s.source}" for s in streams)
        yield _issue(
            topology,
            "http-not-entry",
            processor.http.where,
            f"processor '{name}' is fed by streams ({listed}); an HTTPS endpoint is a way "
            "in for an entry processor only: put http: on a processor no stream feeds, or "
            "remove the streams into this one",
        )


def unemitted_topics(topology: Topology) -> Iterable[Issue]:
    """Warn about a stream whose topic its source can be seen never to emit."""
    for stream in topology.streams:
        source = topology.processors.get(stream.source)
        if source is None or not source.file.is_file():
            continue
        seen = emitted_topics(source.file)
        if seen is None:
            continue
        if stream.topic is None and not seen:
            yield _issue(
                topology,
                "never-emitted",
                stream.where,
                f"'{stream.source}' never calls emit, so this stream stays empty",
                warning=True,
            )
        elif stream.topic is not None and stream.topic not in seen:
            emitted = ", ".join(repr(t) for t in sorted(seen)) or "nothing"
            yield _issue(
                topology,
                "never-emitted",
                f"{stream.where}.topic",
                f"'{stream.source}' never emits topic '{stream.topic}' (it emits {emitted})"
                f"{did_you_mean(stream.topic, seen)}",
                warning=True,
            )


def emitted_topics(file: Path) -> set[str] | None:
    """The topics a module's ``emit`` calls name, or ``None`` when that is not knowable.

    Knowable means every ``emit`` call names its topic as a string literal and the module
    hands no ``context`` on to other code that could emit for it.
    """
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "emit":
            topic = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "topic"), None)
            )
            if not (isinstance(topic, ast.Constant) and isinstance(topic.value, str)):
                return None
            found.add(topic.value)
        elif _hands_on_context(node):
            return None
    return found


def sink_topics(topology: Topology, name: str) -> list[str]:
    """Topics processor ``name`` can be seen to emit that no stream carries (its sinks)."""
    processor = topology.processors[name]
    carried = {s.topic for s in topology.streams if s.source == name}
    if None in carried or not processor.file.is_file():
        return []
    return sorted((emitted_topics(processor.file) or set()) - carried)


def _hands_on_context(call: ast.Call) -> bool:
    """A call that could emit on the handler's behalf: context passed on, or dynamic code."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in ("getattr", "exec", "eval"):
        return True
    return any(isinstance(a, ast.Name) and a.id in ("context", "ctx") for a in call.args)


RULES: tuple[Rule, ...] = (
    topology_name,
    processor_names,
    distinct_ids,
    stream_ends,
    duplicate_streams,
    topics,
    environment,
    environment_size,
    scheduled_entries,
    reserved_concurrency,
    stack_names,
    handlers,
    unreachable,
    http_entries,
    unemitted_topics,
)


def validate(topology: Topology, rules: Iterable[Rule] = RULES) -> list[Issue]:
    """Run every rule and return all issues found, errors first, in rule order."""
    issues: list[Issue] = []
    for rule in rules:
        try:
            issues.extend(rule(topology))
        except Exception as exc:  # a broken rule must not hide what the others find
            issues.append(
                _issue(topology, "rule-crashed", "", f"check '{rule.__name__}' failed: {exc!r}")
            )
    return sorted(issues, key=lambda i: i.severity != "error")
