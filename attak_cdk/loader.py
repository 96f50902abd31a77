"""Reads topology files (YAML, JSON, or Python) into the model: the only reader of them.

Reading is lenient and thorough: every shape, type and range problem is collected as an
``Issue`` naming the file and the path inside it, and one ``TopologyError`` carries them
all. The ``plan:`` section and ``shards: auto`` are read as written, into the model's
``PlanSection`` and ``StreamSettings.auto_shards``: what they mean is ``plan``'s business.
``attak_cdk.project`` puts reading, the plan and the cross-element rules of ``validate``
together into the topology the commands use.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .endpoint import read_http
from .errors import Issue, TopologyError, did_you_mean, display_path, path_problem
from .function_settings import layers_problem, read_layers, read_vpc
from .grants import GRANT_KINDS, read_grants
from .model import (
    Alerts,
    PlanSection,
    PlanValue,
    Processor,
    ProcessorPlan,
    Stream,
    StreamSettings,
    Topology,
)
from .references import Reference, read_reference
from .schedules import read_schedule
from .settings import (
    AUTO,
    MAX_HOPS,
    NO_RECORD_AGE_LIMIT,
    PROCESSOR_SETTINGS,
    STREAM_SETTINGS,
    TOPOLOGY_SETTINGS,
    TRACE_SAMPLING,
    Setting,
    alert_problem,
    check_value,
    default_max_record_age,
    record_age_problem,
)

TOPOLOGY_FILENAMES = ("topology.yml", "topology.yaml", "topology.json", "topology.py")
"""Searched in this order when a folder is given."""

# The keys each part of a topology accepts, in the order messages list them, each with
# what it is: the loader refuses any other key, and ``attak schema`` describes these to
# editors, so the two read the same tables.
Keys = Mapping[str, str]
"""Key -> what it holds, in words."""

TOP_LEVEL_KEYS: Keys = {
    "name": "the topology's name; it becomes the CloudFormation stack name",
    "description": "what the pipeline does, for people (attak does not read it)",
    "processors": "processor name -> handler (a Python file, optionally with ':function') "
    "or an object with handler and settings; or a folder whose *.py files are processors",
    "streams": "streams between processors: [from, to], [from, to, topic] or "
    "{from, to, topic, settings...}",
    "defaults": "settings for every processor and stream that does not set its own",
    **{name: setting.help for name, setting in TOPOLOGY_SETTINGS.items()},
    "plan": "what `attak plan` assumes: input rates and sizes, handler times, emits per event",
    "alerts": "who is told when a processor's alarm goes off: an email address, an SNS topic "
    "ARN, or a list of both",
}
PROCESSOR_KEYS: Keys = {
    "handler": "the Python file (.py optional) and function, e.g. processors/reverse.py:handler "
    "(function: handler when left out); relative to the topology file",
    "environment": "environment variables: name -> text, a number, or a value read at cold "
    "start from SSM ({ssm: /name}) or Secrets Manager ({secret: name, key: field})",
    "grants": "what the function may do beyond its streams: a list of grants on existing "
    f"resources, each one of {', '.join(GRANT_KINDS)}",
    "schedule": "invoke this entry processor on a schedule: rate(5 minutes), "
    "cron(0 8 ? * MON-FRI *), or {every: ..., event: a constant event}",
    "layers": "Lambda layer version ARNs, at most 5 with those under defaults",
    "vpc": "the VPC the function reaches: subnets (1 to 16 ids) and security_groups (1 to 5 ids)",
    "http": "an HTTPS endpoint (a Lambda function URL) into this entry processor: true, or "
    "{auth: iam | none, cors: [origins], reason}",
    **{name: setting.help for name, setting in PROCESSOR_SETTINGS.items()},
}
PLAN_KEYS: Keys = {
    "rate": "input rate into every entry processor, or processor -> rate",
    "size": "size of each input event, or processor -> size",
    "duration": "handler time per event, for every processor",
    "dead_letters": "share of events that end in a dead-letter queue",
    "compression": "how many times smaller compression makes the runtime's records",
    "region": "the AWS region whose prices the plan uses",
    "processors": "per processor: emits, duration, size, log",
}
PLAN_PROCESSOR_KEYS: Keys = {
    "emits": "records emitted per event received: one ratio, or topic -> ratio",
    "duration": "handler time per event",
    "size": "size of each event it emits",
    "log": "bytes its handler prints per event",
}
STREAM_LIST = ("from", "to", "topic")
"""A stream written as a list names these, in this order; the topic may be left out."""
STREAM_ENDS = STREAM_LIST[:2]
STREAM_KEYS: Keys = {
    "from": "the processor that emits into the stream",
    "to": "the processor the stream feeds",
    "topic": "only records emitted on this topic (unset: every topic)",
    **{name: setting.help for name, setting in STREAM_SETTINGS.items()},
}
DEFAULT_KEYS: Keys = {
    "environment": PROCESSOR_KEYS["environment"],
    "grants": PROCESSOR_KEYS["grants"] + ", given to every processor before its own",
    "layers": "Lambda layer version ARNs every processor gets before its own",
    "vpc": PROCESSOR_KEYS["vpc"] + ", for every processor that sets none",
    **{name: s.help for name, s in PROCESSOR_SETTINGS.items() if name != "input"},
    **{name: setting.help for name, setting in STREAM_SETTINGS.items()},
}
ENVIRONMENT_VALUE_TYPES: tuple[type, ...] = (str, int, float)
"""What an environment value may be written as (not a boolean: quoted, it is text)."""
DEFAULT_FUNCTION = "handler"


def find_topology_file(path: str | Path) -> Path:
    """Resolve PATH (a topology file, or a folder holding one) to the topology file."""
    problem = path_problem(str(path))
    if problem:
        raise TopologyError([Issue("no-topology", "", f"the path {problem}", file=repr(str(path)))])
    given = Path(path)
    if given.is_dir():
        for name in TOPOLOGY_FILENAMES:
            candidate = given / name
            if candidate.is_file():
                return candidate.resolve()
        raise TopologyError(
            [
                Issue(
                    "no-topology",
                    "",
                    "no topology file in this folder "
                    f"(looked for {', '.join(TOPOLOGY_FILENAMES)}); "
                    "create one with `attak init` or give the file's path",
                    file=str(given),
                )
            ]
        )
    if not given.exists():
        raise TopologyError([Issue("no-topology", "", "no such file or folder", file=str(given))])
    return given.resolve()


def read_topology(path: str | Path) -> Topology:
    """Read a topology file into the model, checking shape, types and ranges.

    Raises ``TopologyError`` with every problem found. Cross-element rules (unknown
    processors in streams, handler files, names AWS would refuse) are ``validate``'s.
    """
    topology, issues = read_topology_leniently(path)
    if issues or topology is None:
        raise TopologyError(issues)
    return topology


def read_topology_leniently(path: str | Path) -> tuple[Topology | None, list[Issue]]:
    """The model as far as it could be built, and the shape problems found on the way.

    A file that cannot be parsed at all still raises ``TopologyError``.
    """
    file = find_topology_file(path)
    reader = _Reader(file)
    return reader.topology(read_document(file)), reader.issues


def read_document(file: Path) -> Any:
    """Parse one topology file into plain data; a syntax error becomes a ``TopologyError``."""
    label = display_path(file)
    try:
        text = file.read_text(encoding="utf-8") if file.suffix != ".py" else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(
            [Issue("unreadable", "", f"cannot read the file: {exc}", label)]
        ) from exc
    if file.suffix == ".py":
        return _run_python_topology(file, label)
    try:
        return _parse(text, file.suffix, label)
    except RecursionError:
        raise TopologyError(
            [Issue("syntax", "", "the document is nested too deeply to read", label)]
        ) from None


def _parse(text: str, suffix: str, label: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except _DuplicateKey as exc:
            # The hook sees no positions: the second `"key":` in the text is the culprit.
            pattern = re.compile(re.escape(json.dumps(exc.key)) + r"\s*:")
            starts = [m.start() for m in pattern.finditer(text)]
            line = f" (line {text.count(chr(10), 0, starts[1]) + 1})" if len(starts) > 1 else ""
            message = (
                f"key '{exc.key}' appears twice in one object{line}; the second would "
                "silently replace the first: rename or merge them"
            )
            raise TopologyError([Issue("duplicate-key", "", message, label)]) from exc
        except json.JSONDecodeError as exc:
            raise TopologyError(
                [
                    Issue(
                        "syntax",
                        "",
                        f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                        label,
                    )
                ]
            ) from exc
    try:
        return yaml.load(text, Loader=_StrictYamlLoader)
    except _DuplicateKey as exc:
        raise TopologyError([Issue("duplicate-key", "", str(exc), label)]) from exc
    except _AliasBomb as exc:
        raise TopologyError([Issue("alias-expansion", "", str(exc), label)]) from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise TopologyError(
            [Issue("syntax", "", f"invalid YAML{where}: {problem}", label)]
        ) from exc


class _DuplicateKey(ValueError):
    def __init__(self, key: Any, message: str = "") -> None:
        super().__init__(message or f"key '{key}' appears twice")
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


MAX_ALIAS_NODES = 100_000
"""Nodes YAML aliases may add to a topology document once expanded.

An alias (``*name``) stands for a copy of its anchored node: a 1 KB file of aliases of
aliases stands for billions of nodes, which reading, checking and quoting in a message
would each walk (a multi-megabyte message, then a hang). Real topologies share a few
settings this way, far below the limit.
"""


class _AliasBomb(ValueError):
    """The document's aliases expand past ``MAX_ALIAS_NODES`` (or into themselves)."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes in ``node`` with every alias written out: linear in the distinct nodes, since
    an aliased node is counted once and its size reused (``sizes``)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if id(node) in open_nodes:
        raise _AliasBomb("an alias refers to a node it is inside: the document never ends")
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    open_nodes.add(id(node))
    size = 1 + sum(_expanded_size(child, sizes, open_nodes) for child in children)
    open_nodes.discard(id(node))
    sizes[id(node)] = size
    return size


class _StrictYamlLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate mapping keys instead of keeping the last one,
    and documents whose aliases expand past ``MAX_ALIAS_NODES``."""

    def construct_document(self, node: yaml.Node) -> Any:
        sizes: dict[int, int] = {}
        added = _expanded_size(node, sizes, set()) - len(sizes)
        if added > MAX_ALIAS_NODES:
            raise _AliasBomb(
                "YAML aliases (*name) expand this document by more than "
                f"{MAX_ALIAS_NODES:,} nodes, the most attak reads; write the repeated parts "
                "out, or share settings with `defaults:`"
            )
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys are refused by the base constructor, with a mark
            if key in seen:
                raise _DuplicateKey(
                    key,
                    f"key '{key}' appears twice (line {key_node.start_mark.line + 1}); "
                    "the second would silently replace the first: rename or merge them",
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, _DuplicateKey):
            raise
        except (ArithmeticError, LookupError, TypeError, ValueError):
            # PyYAML's scalar constructors fail bare on values such as `!!int lots`.
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid {tag}", node.start_mark
            ) from None


@contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    """Let user code import its neighbours, as it can inside its Lambda asset."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _run_python_topology(file: Path, label: str) -> Any:
    """Execute a Python topology and return its ``topology`` (a dict, or a function's result)."""
    from .handlers import describe_exception, import_file

    with _on_sys_path(file.parent):
        try:
            module = import_file(file, f"attak_topology_{abs(hash(str(file)))}")
        except (Exception, SystemExit) as exc:
            raise TopologyError(
                [Issue("import", "", describe_exception(exc, file), label)]
            ) from exc
        if not hasattr(module, "topology"):
            raise TopologyError(
                [
                    Issue(
                        "no-topology",
                        "",
                        "a Python topology must define `topology`: a dict, or a function "
                        "returning one",
                        label,
                    )
                ]
            )
        value = module.topology
        if callable(value):
            try:
                value = value()
            except (Exception, SystemExit) as exc:
                raise TopologyError(
                    [
                        Issue(
                            "import",
                            "topology()",
                            "calling topology() failed: " + describe_exception(exc, file),
                            label,
                        )
                    ]
                ) from exc
    return value


def _kind(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "nothing (null)"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


class _Reader:
    """Turns the parsed document into the model, collecting every issue on the way."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.root = file.parent
        self.label = display_path(file)
        self.issues: list[Issue] = []

    def issue(self, code: str, path: str, message: str) -> None:
        issue = Issue(code, path, message, self.label)
        if issue not in self.issues:  # a default's problem, found once per stream using it
            self.issues.append(issue)

    def unknown_keys(self, data: Mapping[Any, Any], allowed: Keys, path: str) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.issue(
                    "unknown-key",
                    where,
                    f"unknown key '{key}'{did_you_mean(str(key), allowed)} "
                    f"(allowed here: {', '.join(allowed)})",
                )

    def setting(self, setting: Setting, value: object, path: str) -> object:
        for word, meaning in setting.words:
            if value == word:
                # ``shards: auto`` is recorded in ``auto_shards``: ``plan`` sizes it.
                return meaning
        problem = check_value(setting, value)
        if problem:
            self.issue("invalid-value", path, problem)
            return setting.default
        return value

    def topology(self, data: Any) -> Topology | None:
        if not isinstance(data, dict):
            self.issue(
                "not-a-mapping",
                "",
                f"a topology must be a mapping with name, processors and streams "
                f"(given {_kind(data)})",
            )
            return None
        self.unknown_keys(data, TOP_LEVEL_KEYS, "")
        name = data.get("name")
        if name is None or name == "":  # an empty name is no stack name either
            self.issue(
                "missing-name",
                "name",
                "a topology name is required (it becomes the stack name), e.g. name: my-pipeline",
            )
            name = ""
        elif not isinstance(name, str):
            self.issue("invalid-name", "name", f"must be a string (given {_kind(name)})")
            name = ""
        max_hops = data.get("max_hops", MAX_HOPS.default)
        max_hops = self.setting(MAX_HOPS, max_hops, "max_hops")
        sampling = data.get("trace_sampling", TRACE_SAMPLING.default)
        sampling = self.setting(TRACE_SAMPLING, sampling, "trace_sampling")
        defaults = self.defaults(data.get("defaults", {}))
        processors = self.processors(data.get("processors"), defaults)
        streams = self.streams(data.get("streams", []), defaults)
        assert isinstance(max_hops, int)
        assert isinstance(sampling, (int, float))
        ingest = {k: defaults.get(k, s.default) for k, s in STREAM_SETTINGS.items()}
        return Topology(
            name=name,
            processors=processors,
            streams=tuple(streams),
            max_hops=max_hops,
            trace_sampling=float(sampling),
            file=self.file,
            ingest_settings=self.stream_settings(
                ingest, "defaults.shards", "defaults.max_record_age"
            ),
            plan=self.plan(data.get("plan"), processors),
            alerts=self.alerts(data.get("alerts")),
        )

    def stream_settings(
        self, values: dict[str, Any], auto_where: str, age_where: str
    ) -> StreamSettings:
        """Settings from read values; ``shards: auto`` is kept as where it was written.

        ``max_record_age`` unset becomes the stream's default (``default_max_record_age``
        of its retention), ``-1`` no limit (``None``); a value written must not outlast
        the retention. ``age_where`` is the path to blame when it does.
        """
        age = values["max_record_age"]
        if age is None:
            values = {**values, "max_record_age": default_max_record_age(values["retention_hours"])}
        elif age == NO_RECORD_AGE_LIMIT:
            values = {**values, "max_record_age": None}
        else:
            problem = record_age_problem(age, values["retention_hours"])
            if problem:
                self.issue("invalid-value", age_where, problem)
        if values["shards"] != AUTO:
            return StreamSettings(**values)
        return StreamSettings(**{**values, "shards": None}, auto_shards=auto_where)

    def alerts(self, data: Any) -> Alerts:
        """``alerts:``: an email address, an SNS topic ARN, or a list of them."""
        if data is None:
            return Alerts()
        entries = (
            [(data, "alerts")]
            if not isinstance(data, list)
            else [(value, f"alerts[{index}]") for index, value in enumerate(data)]
        )
        if isinstance(data, list) and not data:
            self.issue(
                "invalid-alerts",
                "alerts",
                "an empty list tells no one: give an email address or an SNS topic ARN, "
                "or leave alerts out",
            )
        emails: list[str] = []
        topics: list[str] = []
        for value, path in entries:
            problem = alert_problem(value)
            if problem:
                self.issue("invalid-alerts", path, problem)
                continue
            assert isinstance(value, str)
            chosen = topics if value.startswith("arn:") else emails
            if value not in chosen:
                chosen.append(value)
        return Alerts(emails=tuple(emails), topics=tuple(topics))

    def plan(self, data: Any, processors: Mapping[str, Processor]) -> PlanSection:
        """The ``plan:`` section's shape; ``plan`` reads the quantities it holds."""
        if data is None:
            return PlanSection()
        if not isinstance(data, dict):
            self.issue("invalid-plan", "plan", f"must be a mapping with {', '.join(PLAN_KEYS)}")
            return PlanSection()
        self.unknown_keys(data, PLAN_KEYS, "plan")
        rate, rates = self.plan_value_or_per_name(data.get("rate"), "plan.rate")
        size, sizes = self.plan_value_or_per_name(data.get("size"), "plan.size")
        region = data.get("region")
        if region is not None and not isinstance(region, str):
            self.issue(
                "invalid-plan",
                "plan.region",
                f"must be an AWS region name such as us-east-1 (given {region!r})",
            )
            region = None
        return PlanSection(
            rate=rate,
            rates=rates,
            size=size,
            sizes=sizes,
            duration=_plan_value(data, "duration", "plan"),
            dead_letters=_plan_value(data, "dead_letters", "plan"),
            compression=_plan_value(data, "compression", "plan"),
            region=region,
            processors=self.plan_processors(data.get("processors"), processors),
        )

    @staticmethod
    def plan_value_or_per_name(
        value: Any, path: str
    ) -> tuple[PlanValue | None, dict[str, PlanValue]]:
        """One value for every entry processor, or a mapping of processor -> value."""
        if value is None:
            return None, {}
        if isinstance(value, dict):
            return None, {str(k): PlanValue(v, f"{path}.{k}") for k, v in value.items()}
        return PlanValue(value, path), {}

    def plan_processors(
        self, data: Any, processors: Mapping[str, Processor]
    ) -> dict[str, ProcessorPlan]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.issue(
                "invalid-plan",
                "plan.processors",
                "must map processor names to {emits, duration, size, log}",
            )
            return {}
        result: dict[str, ProcessorPlan] = {}
        for name, spec in data.items():
            path = f"plan.processors.{name}"
            if str(name) not in processors:
                self.issue(
                    "invalid-plan",
                    path,
                    f"unknown processor '{name}'{did_you_mean(str(name), processors)}",
                )
                continue
            if not isinstance(spec, dict):
                self.issue(
                    "invalid-plan", path, f"must be a mapping with {', '.join(PLAN_PROCESSOR_KEYS)}"
                )
                continue
            self.unknown_keys(spec, PLAN_PROCESSOR_KEYS, path)
            emits: PlanValue | dict[str, PlanValue] | None = _plan_value(spec, "emits", path)
            if isinstance(spec.get("emits"), dict):
                emits = {
                    str(topic): PlanValue(ratio, f"{path}.emits.{topic}")
                    for topic, ratio in spec["emits"].items()
                }
            result[str(name)] = ProcessorPlan(
                emits=emits,
                duration=_plan_value(spec, "duration", path),
                size=_plan_value(spec, "size", path),
                log=_plan_value(spec, "log", path),
            )
        return result

    def defaults(self, data: Any) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.issue("not-a-mapping", "defaults", f"must be a mapping (given {_kind(data)})")
            return {}
        self.unknown_keys(data, DEFAULT_KEYS, "defaults")
        result: dict[str, Any] = {}
        for key, value in data.items():
            setting = PROCESSOR_SETTINGS.get(key) or STREAM_SETTINGS.get(key)
            if setting is not None:
                result[key] = self.setting(setting, value, f"defaults.{key}")
        if "environment" in data:
            result["environment"] = self.environment(data["environment"], "defaults.environment")
        if "grants" in data:
            result["grants"] = read_grants(data["grants"], "defaults.grants", self.issue)
        if "layers" in data:
            result["layers"] = read_layers(data["layers"], "defaults.layers", self.issue)
            self.layers(result["layers"], (), "defaults.layers")
        if "vpc" in data:
            result["vpc"] = read_vpc(data["vpc"], "defaults.vpc", self.issue)
        return result

    def layers(self, own: tuple[str, ...], inherited: tuple[str, ...], path: str) -> None:
        problem = layers_problem(own, inherited)
        if problem:
            self.issue("invalid-layers", path, problem)

    def processors(self, data: Any, defaults: Mapping[str, Any]) -> dict[str, Processor]:
        if data is None:
            self.issue(
                "missing-processors",
                "processors",
                "at least one processor is required, e.g. processors: {reverse: ./reverse.py}",
            )
            return {}
        if isinstance(data, str):
            return self.processor_folder(data, defaults)
        if not isinstance(data, dict):
            self.issue(
                "not-a-mapping",
                "processors",
                "must map processor names to handlers, or name a folder of *.py files "
                f"(given {_kind(data)})",
            )
            return {}
        if not data:
            self.issue("missing-processors", "processors", "at least one processor is required")
        result: dict[str, Processor] = {}
        for name, spec in data.items():
            processor = self.processor(str(name), spec, defaults, f"processors.{name}")
            if processor is not None:
                result[str(name)] = processor
        return result

    def processor_folder(self, folder: str, defaults: Mapping[str, Any]) -> dict[str, Processor]:
        problem = path_problem(folder)
        if problem:
            self.issue("missing-folder", "processors", f"the folder path {problem}")
            return {}
        path = (self.root / folder).resolve()
        if not path.is_dir():
            self.issue(
                "missing-folder",
                "processors",
                f"folder '{folder}' not found next to the topology (looked in {path})",
            )
            return {}
        files = sorted(f for f in path.glob("*.py") if not f.name.startswith("_"))
        if not files:
            self.issue("missing-processors", "processors", f"folder '{folder}' has no *.py files")
        return {
            f.stem: self.build_processor(
                f.stem, f, DEFAULT_FUNCTION, str(f), {}, defaults, "processors"
            )
            for f in files
        }

    def processor(
        self, name: str, spec: Any, defaults: Mapping[str, Any], path: str
    ) -> Processor | None:
        options: Mapping[str, Any] = {}
        if isinstance(spec, dict):
            self.unknown_keys(spec, PROCESSOR_KEYS, path)
            options = spec
            spec = spec.get("handler")
            if spec is None:
                self.issue(
                    "missing-handler",
                    f"{path}.handler",
                    "a processor object needs a handler, e.g. handler: processors/reverse.py",
                )
                return None
            path = f"{path}.handler"
        if not isinstance(spec, str) or not spec.strip():
            self.issue(
                "invalid-handler",
                path,
                "a handler is a path to a Python file, optionally with ':function' "
                f"(given {_kind(spec)})",
            )
            return None
        file_part, _, function = spec.partition(":")
        problem = path_problem(file_part)
        if problem:
            self.issue("invalid-handler", path, f"the handler path {problem}")
            return None
        file = self.resolve_handler_file(file_part.strip())
        return self.build_processor(
            name, file, function.strip() or DEFAULT_FUNCTION, spec, options, defaults, path
        )

    def resolve_handler_file(self, given: str) -> Path:
        base = (self.root / given).resolve()
        candidates = [base] if base.suffix == ".py" else [base.with_name(base.name + ".py")]
        candidates.append(base / "__init__.py")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return candidates[0]

    def build_processor(
        self,
        name: str,
        file: Path,
        function: str,
        handler_spec: str,
        options: Mapping[str, Any],
        defaults: Mapping[str, Any],
        where: str,
    ) -> Processor:
        owner = where.removesuffix(".handler")
        values: dict[str, Any] = {}
        for key, setting in PROCESSOR_SETTINGS.items():
            if key in options:
                values[key] = self.setting(setting, options[key], f"{owner}.{key}")
            else:
                values[key] = defaults.get(key, setting.default)
        environment = dict(defaults.get("environment", {}))
        if "environment" in options:
            environment.update(self.environment(options["environment"], f"{owner}.environment"))
        # A processor's own value replaces the default's, a reference or text alike.
        references = {k: v for k, v in environment.items() if isinstance(v, Reference)}
        grants = tuple(defaults.get("grants", ()))
        if "grants" in options:
            grants += read_grants(options["grants"], f"{owner}.grants", self.issue)
        schedule = None
        if options.get("schedule") is not None:
            schedule = read_schedule(options["schedule"], f"{owner}.schedule", self.issue)
        # A processor's layers come after the defaults' (as its grants do); its vpc
        # replaces the defaults' (one function is in one VPC).
        layers = inherited = tuple(defaults.get("layers", ()))
        if "layers" in options:
            own = read_layers(options["layers"], f"{owner}.layers", self.issue)
            self.layers(own, inherited, f"{owner}.layers")
            layers = tuple(dict.fromkeys(inherited + own))
        vpc = defaults.get("vpc")
        if "vpc" in options:
            vpc = read_vpc(options["vpc"], f"{owner}.vpc", self.issue)
        return Processor(
            name=name,
            file=file,
            function=function,
            environment={k: v for k, v in environment.items() if isinstance(v, str)},
            references=references,
            grants=grants,
            schedule=schedule,
            layers=layers,
            vpc=vpc,
            http=read_http(options.get("http"), f"{owner}.http", self.issue),
            where=where,
            handler_spec=handler_spec,
            **values,
        )

    def environment(self, data: Any, path: str) -> dict[str, str | Reference]:
        """Variable -> its text, or the reference to where its value lives."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.issue(
                "not-a-mapping", path, f"must map variable names to values (given {_kind(data)})"
            )
            return {}
        result: dict[str, str | Reference] = {}
        for key, value in data.items():
            if isinstance(value, dict):
                reference = read_reference(value, f"{path}.{key}", self.issue)
                if reference is not None:
                    result[str(key)] = reference
                continue
            if isinstance(value, bool) or not isinstance(value, ENVIRONMENT_VALUE_TYPES):
                self.issue(
                    "invalid-value",
                    f"{path}.{key}",
                    "an environment value must be a string or a number, or a reference such "
                    f"as {{ssm: /name}} (given {_kind(value)}); quote it to pass it as text",
                )
                continue
            result[str(key)] = str(value)
        return result

    def streams(self, data: Any, defaults: Mapping[str, Any]) -> list[Stream]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.issue(
                "not-a-list",
                "streams",
                "must be a list of [from, to], [from, to, topic] or {from, to, ...} "
                f"(given {_kind(data)})",
            )
            return []
        result = []
        for index, spec in enumerate(data):
            stream = self.stream(spec, defaults, f"streams[{index}]")
            if stream is not None:
                result.append(stream)
        return result

    def stream(self, spec: Any, defaults: Mapping[str, Any], path: str) -> Stream | None:
        if isinstance(spec, list):
            if len(spec) not in (len(STREAM_ENDS), len(STREAM_LIST)):
                self.issue(
                    "invalid-stream",
                    path,
                    f"a stream list is [from, to] or [from, to, topic] (given {len(spec)} items)",
                )
                return None
            spec = dict(zip(STREAM_LIST, spec, strict=False))
        elif isinstance(spec, dict):
            self.unknown_keys(spec, STREAM_KEYS, path)
        else:
            self.issue(
                "invalid-stream",
                path,
                "a stream is [from, to], [from, to, topic] or {from, to, ...} "
                f"(given {_kind(spec)})",
            )
            return None
        ends = {}
        for end in STREAM_ENDS:
            value = spec.get(end)
            if not isinstance(value, str) or not value:
                self.issue(
                    "invalid-stream",
                    f"{path}.{end}",
                    f"a stream needs '{end}': a processor name (given {_kind(value)})",
                )
            ends[end] = value
        topic = spec.get("topic")
        if topic is not None and not isinstance(topic, str):
            self.issue("invalid-topic", f"{path}.topic", f"must be a string (given {_kind(topic)})")
            topic = None
        values: dict[str, Any] = {
            key: self.setting(setting, spec[key], f"{path}.{key}")
            if key in spec
            else defaults.get(key, setting.default)
            for key, setting in STREAM_SETTINGS.items()
        }
        if not all(isinstance(v, str) and v for v in ends.values()):
            return None
        auto_where = f"{path}.shards" if "shards" in spec else "defaults.shards"
        age_where = "defaults.max_record_age"
        for key in ("retention_hours", "max_record_age"):  # the stream's own, if it set one
            if key in spec:
                age_where = f"{path}.{key}"
        return Stream(
            source=str(ends["from"]),
            target=str(ends["to"]),
            topic=topic,
            settings=self.stream_settings(values, auto_where, age_where),
            where=path,
        )


def _plan_value(data: Mapping[str, Any], key: str, path: str) -> PlanValue | None:
    """``data[key]`` with its path, when the key is written (even as null)."""
    return PlanValue(data[key], f"{path}.{key}") if key in data else None
