"""The topology schema editors read (``attak schema``) and attak's own checks agree.

The schema is generated from the loader's key tables, the settings and validation's name
patterns; these tests hold it to what attak actually does with a document:

- a document the schema refuses, attak refuses too (the schema never flags a topology
  attak would run);
- a document attak accepts, the schema accepts (every valid topology in the repository,
  every topology written inline in the tests, every setting at its limits);
- a document attak refuses for a reason a schema can express (an unknown key, a wrong type,
  a value out of range, a bad choice, a name AWS refuses), the schema refuses too.

Some reasons are beyond any schema: whether a stream's processors exist, whether a handler
file exists and imports, two streams alike, two names that become the same AWS id, what a
processors folder holds, what the file system accepts as a path. ``SEMANTIC`` lists the
corpus cases refused only for such reasons; the schema accepts them and ``attak validate``
catches them. Two more gaps are JSON Schema's own: ``256.0`` is an integer to it (YAML and
attak tell it from ``256``), and a NaN compares as within every range.
"""

from __future__ import annotations

import ast
import json
import math
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from attak_cdk.errors import Issue, TopologyError
from attak_cdk.loader import TOPOLOGY_FILENAMES, read_document, read_topology_leniently
from attak_cdk.project import inspect_topology
from attak_cdk.schema import (
    PACKAGED_SCHEMA,
    SCHEMA_FILENAME,
    modeline,
    schema_text,
    topology_schema,
)
from attak_cdk.settings import PROCESSOR_SETTINGS, STREAM_SETTINGS, TOPOLOGY_SETTINGS, Setting
from cli.main import app
from tests.conftest import REPO, SAMPLE, modules_loaded_by
from tests.functional.test_loader_fuzz import shaped_documents

CORPUS = REPO / "tests" / "corpus" / "topologies"
VALIDATOR = Draft7Validator(topology_schema())
runner = CliRunner()


# --- how each side judges a document -------------------------------------------------------


def as_editor_sees(value: Any) -> Any:
    """The parsed document as JSON data: mapping keys are text (``1`` -> ``"1"``)."""
    if isinstance(value, dict):
        return {_key(k): as_editor_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_sees(item) for item in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if key is None or isinstance(key, bool) else str(key)


def schema_errors(document: Any) -> list[str]:
    """What the schema finds wrong with ``document``, each with its place."""
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in VALIDATOR.iter_errors(as_editor_sees(document))
    ]


def attak_errors(file: Path) -> list[Issue]:
    """Every error ``attak validate`` reports for ``file`` (loader, plan and rules)."""
    try:
        _, issues = inspect_topology(file)
    except TopologyError as exc:
        return list(exc.issues)
    return [issue for issue in issues if issue.severity == "error"]


def with_stub_handlers(file: Path) -> None:
    """Give every processor the handler file and function it names (found as the loader
    finds them), so what is left to judge is the topology document itself."""
    try:
        topology, _ = read_topology_leniently(file)
    except TopologyError:
        return
    if topology is None:
        return
    for processor in topology.processors.values():
        target = processor.file
        if target.exists() or not target.is_relative_to(file.parent):
            continue
        function = processor.function if processor.function.isidentifier() else "handler"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"def {function}(event, context):\n    pass\n", encoding="utf-8")
        except (OSError, ValueError):
            continue


def assert_agree(file: Path) -> None:
    """The schema refuses ``file``'s document only if attak does; attak accepting it means
    the schema does too."""
    document = read_document(file)
    refused_by_schema = schema_errors(document)
    refused_by_attak = attak_errors(file)
    if refused_by_schema:
        assert refused_by_attak, (
            f"the schema refuses what attak accepts:\n{file.read_text()}\n{refused_by_schema}"
        )
    if not refused_by_attak:
        assert not refused_by_schema, refused_by_schema


# --- the schema itself, and where it is shipped --------------------------------------------


def test_schema_is_a_valid_draft_07_json_schema() -> None:
    """Editors (yaml-language-server reads draft-07 and below) get a schema they can use."""
    schema = topology_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


def test_packaged_schema_file_is_the_generated_schema() -> None:
    """The schema shipped in the package is the one the tables give today."""
    assert PACKAGED_SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "attak_cdk/topology.schema.json is stale: regenerate it with "
        "`python -m cli schema -o attak_cdk/topology.schema.json`"
    )


def test_attak_schema_prints_the_schema_as_json() -> None:
    result = runner.invoke(app, ["schema"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == topology_schema()


def test_attak_schema_output_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "project" / SCHEMA_FILENAME
    target.parent.mkdir()

    result = runner.invoke(app, ["schema", "--output", str(target)])

    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == schema_text()
    assert modeline(SCHEMA_FILENAME) in result.stdout


def test_attak_schema_output_refuses_a_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "-o", str(tmp_path)])

    assert result.exit_code == 1
    assert "is a folder" in result.stderr
    assert "Traceback" not in result.output


def test_attak_schema_does_not_import_aws_cdk() -> None:
    assert modules_loaded_by(["schema"], "aws_cdk") == []


def test_init_points_its_topology_at_the_schema_it_writes(tmp_path: Path) -> None:
    """`attak init`'s topology.yml names, in its first line, a schema file the editor finds
    beside it: a relative path, so the project can move and needs no network."""
    project = tmp_path / "pipe"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    moved = project.rename(tmp_path / "moved")

    topology = moved / "topology.yml"
    first_line = topology.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == modeline(SCHEMA_FILENAME)
    schema_file = moved / first_line.split("$schema=", 1)[1]
    assert schema_file.read_text(encoding="utf-8") == schema_text()
    assert schema_errors(read_document(topology)) == []
    assert attak_errors(topology) == []


# --- valid topologies in the repository ----------------------------------------------------


@pytest.mark.parametrize(
    "topology",
    [SAMPLE / "topology.yml", *sorted((REPO / "bench").glob("*/topology.yml"))],
    ids=lambda path: str(path.relative_to(REPO)),
)
def test_repository_topologies_satisfy_the_schema(topology: Path) -> None:
    assert attak_errors(topology) == []
    assert schema_errors(read_document(topology)) == []


def _inline_topologies() -> Iterator[tuple[str, str, str]]:
    """Topology documents written inline in the tests: (where, file name, text), for
    ``write_project({..., "topology.yml": "..."})`` and ``(root / "topology.yml").write_text("...")``."""
    names = {name for name in TOPOLOGY_FILENAMES if not name.endswith(".py")}
    for source in sorted((REPO / "tests").rglob("*.py")):
        if CORPUS in source.parents:
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        where = source.relative_to(REPO)
        for node in ast.walk(tree):
            pairs: list[tuple[ast.expr | None, ast.expr]] = []
            if isinstance(node, ast.Dict):
                pairs = list(zip(node.keys, node.values, strict=True))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "write_text"
                and isinstance(node.func.value, ast.BinOp)
                and node.args
            ):
                pairs = [(node.func.value.right, node.args[0])]
            for key, value in pairs:
                if (
                    isinstance(key, ast.Constant)
                    and key.value in names
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    text = textwrap.dedent(value.value).lstrip("\n")
                    yield f"{where}:{value.lineno}", key.value, text


INLINE = list(_inline_topologies())


def _is_document(name: str, text: str) -> bool:
    """Whether attak reads ``text`` as a document at all (some tests write a syntax error
    on purpose: there is nothing for a schema to judge)."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / name
        file.write_text(text, encoding="utf-8")
        try:
            read_document(file)
        except TopologyError:
            return False
    return True


DOCUMENTS = [case for case in INLINE if _is_document(case[1], case[2])]
NOT_DOCUMENTS = [case for case in INLINE if case not in DOCUMENTS]


def test_the_tests_hold_inline_topologies_to_check() -> None:
    assert len(DOCUMENTS) > 50
    # Those that are no document are the syntax errors tests write on purpose, and few.
    assert len(NOT_DOCUMENTS) <= 3


@pytest.mark.parametrize(("where", "name", "text"), DOCUMENTS, ids=[w for w, _, _ in DOCUMENTS])
def test_inline_test_topologies_agree_with_the_schema(
    tmp_path: Path, where: str, name: str, text: str
) -> None:
    """Each topology the tests write (valid or not), with handler files for its processors:
    attak and the schema agree on it."""
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    with_stub_handlers(file)
    assert_agree(file)


# --- the malformed corpus ------------------------------------------------------------------

NO_DOCUMENT = {
    "yaml_syntax_error",
    "json_syntax_error",
    "deeply_nested_json",
    "duplicate_key_yaml",
    "duplicate_key_json",
    "yaml_complex_key",
    "yaml_bad_int_tag",
    "yaml_bad_bool_tag",
    "python_topology_raises",
    "python_topology_syntax_error",
    "python_topology_sys_exit",
    "python_topology_without_topology",
}
"""Files that never become a document (syntax, duplicate keys, aliases that never end, a
Python topology that fails): nothing for a schema to check; editors flag YAML and JSON
syntax and duplicate keys themselves. Every ``yaml_alias_*`` case is one of these too."""

SEMANTIC = {
    "duplicate_stream": "two items of the streams list alike",
    "unknown_stream_source": "a stream from a processor the topology does not define",
    "unknown_stream_target": "a stream to a processor the topology does not define",
    "processor_name_clash": "two processor names that become the same AWS id",
    "handler_file_missing": "whether the handler file exists",
    "handler_function_missing": "what the handler file defines",
    "handler_not_callable": "what the handler file defines",
    "handler_wrong_arity": "what the handler file defines",
    "handler_syntax_error": "whether the handler file imports",
    "handler_raises_on_import": "whether the handler file imports",
    "processor_folder_missing": "whether the processors folder exists",
    "processor_folder_empty": "what the processors folder holds",
    "nul_in_handler_path": "what the file system accepts as a path",
    "handler_path_too_long": "what the file system accepts as a path",
    "surrogate_in_handler_path": "what the file system accepts as a path",
}
"""Corpus cases attak refuses only for reasons beyond a schema: it accepts them."""


def _corpus() -> dict[str, Path]:
    cases = {}
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = [folder / n for n in TOPOLOGY_FILENAMES if (folder / n).is_file()]
        cases[folder.name] = files[0]
    return cases


CASES = _corpus()
SCHEMA_EXPRESSIBLE = sorted(
    case
    for case in CASES
    if case not in NO_DOCUMENT and case not in SEMANTIC and not case.startswith("yaml_alias_")
)


def test_every_corpus_case_is_classified() -> None:
    """A new corpus case lands in the schema's half (the default) or is named here."""
    assert set(SEMANTIC) <= set(CASES)
    assert set(NO_DOCUMENT) <= set(CASES)
    assert len(SCHEMA_EXPRESSIBLE) > 30


@pytest.mark.parametrize("case", sorted(NO_DOCUMENT | {c for c in CASES if "alias" in c}))
def test_corpus_files_that_never_become_a_document(case: str) -> None:
    with pytest.raises(TopologyError):
        read_document(CASES[case])


@pytest.mark.parametrize("case", SCHEMA_EXPRESSIBLE)
def test_schema_refuses_what_attak_refuses_for_a_schema_reason(case: str) -> None:
    """An unknown key, a wrong type, a value out of range, a bad choice, a name AWS refuses:
    the editor flags it before `attak validate` does."""
    file = CASES[case]
    assert attak_errors(file)
    assert schema_errors(read_document(file)), f"the schema accepts {case}: {file.read_text()}"


@pytest.mark.parametrize("case", sorted(SEMANTIC))
def test_schema_accepts_what_only_attak_can_refuse(case: str) -> None:
    """Refused by `attak validate` for a reason no schema can see (``SEMANTIC``)."""
    file = CASES[case]
    assert attak_errors(file)
    assert schema_errors(read_document(file)) == [], SEMANTIC[case]


# --- every setting at and beyond its limits, wherever it may be written --------------------


def _values(setting: Setting) -> list[object]:
    """Values around the setting's limits, of the wrong type, and its words."""
    values: list[object] = ["text", True, None, [1], {"a": 1}, 1.5]
    values += list(setting.choices) + [f"{c}_NOT" for c in setting.choices]
    values += [word for word, _ in setting.words]
    values += [*setting.also, *(value - 1 for value in setting.also)]
    for limit in (setting.minimum, setting.maximum):
        if limit is not None:
            values += [limit - 1, limit, limit + 1, str(limit)]
    if setting.kind is float:
        values += [0.5, -0.1, 1.1]
    return values


PLACES: list[tuple[str, Setting, object]] = [
    *((f"processors.a.{n}", s, v) for n, s in PROCESSOR_SETTINGS.items() for v in _values(s)),
    *((f"streams.0.{n}", s, v) for n, s in STREAM_SETTINGS.items() for v in _values(s)),
    *(
        (f"defaults.{n}", s, v)
        for n, s in {**PROCESSOR_SETTINGS, **STREAM_SETTINGS}.items()
        if n != "input"
        for v in _values(s)
    ),
    *((n, s, v) for n, s in TOPOLOGY_SETTINGS.items() for v in _values(s)),
]


@pytest.mark.parametrize(("place", "setting", "value"), PLACES, ids=lambda x: repr(x)[:30])
def test_every_setting_value_is_judged_alike(
    tmp_path: Path, place: str, setting: Setting, value: object
) -> None:
    document: dict[str, Any] = {
        "name": "limits",
        "processors": {"a": {"handler": "a.py"}, "b": "b.py"},
        "streams": [{"from": "a", "to": "b"}],
        "plan": {"rate": "10/s"},  # so that shards: auto has a load to size for
    }
    parent: Any = document
    *path, key = place.split(".")
    for part in path:
        parent = parent[int(part)] if part.isdigit() else parent.setdefault(part, {})
    parent[key] = value
    if key == "max_record_age":
        # No older than the stream keeps its records: a rule between two settings, which
        # the schema leaves to attak; with the longest retention it cannot apply.
        parent["retention_hours"] = STREAM_SETTINGS["retention_hours"].maximum
    file = tmp_path / "topology.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    for handler in ("a.py", "b.py"):
        (tmp_path / handler).write_text("def handler(event, context):\n    pass\n")

    by_schema = schema_errors(document)
    by_attak = [i for i in attak_errors(file) if i.code != "unreachable"]

    assert bool(by_schema) == bool(by_attak), (by_schema, [str(i) for i in by_attak])


# --- any document shaped like a topology ---------------------------------------------------

SHAPE_CODES = {
    "unknown-key",
    "invalid-value",
    "not-a-mapping",
    "not-a-list",
    "invalid-stream",
    "invalid-topic",
    "missing-name",
    "invalid-name",
}
"""Loader issues about the document's shape alone: a schema can express each of them."""


def _beyond_json_schema(value: Any) -> bool:
    """Holds a float JSON Schema cannot tell apart: NaN, or an integral one (``5.0``)."""
    if isinstance(value, dict):
        return any(_beyond_json_schema(v) for v in value.values())
    if isinstance(value, list):
        return any(_beyond_json_schema(v) for v in value)
    return isinstance(value, float) and (math.isnan(value) or value.is_integer())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=shaped_documents)
def test_any_topology_shaped_document_is_judged_alike(
    tmp_path_factory: pytest.TempPathFactory, document: dict[str, Any]
) -> None:
    """Random topologies (real keys, random values): what the schema refuses attak refuses,
    and a shape problem the loader finds the schema finds too."""
    file = tmp_path_factory.mktemp("schema-fuzz") / "topology.yml"
    file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    parsed = read_document(file)
    note(repr(parsed))
    with_stub_handlers(file)
    by_schema = schema_errors(parsed)
    if by_schema:
        assert attak_errors(file), by_schema
    try:
        _, shape = read_topology_leniently(file)
    except TopologyError as exc:
        shape = list(exc.issues)
    if any(i.code in SHAPE_CODES for i in shape) and not _beyond_json_schema(parsed):
        assert by_schema, [str(i) for i in shape]


# --- the plan: section's quantities --------------------------------------------------------

RATES = ["1000/s", "1000", "60 events/min", "5 MB/s", "1 tb/DAY", "1,000 / s", 0, 1000, 1.5]
SIZES = ["1 KB", "512 B", "2 MB", "1.5 kb", "0 B", "1 TB", 1024, 0, 2_000_000]
DURATIONS = ["20 ms", "1.5 s", "1000 s", 20, 900_001, -1]
WRONG_TYPES = [True, [1], None]
# Text that is no rate, size or duration at all: the editor flags these as typed.
NOT_A_RATE = ["1 TB", "5 MB/fortnight", "fast", "-5/s", "1000 bytes"]
NOT_A_SIZE = ["1 KBB", "5 MB/s", "fast"]
NOT_A_DURATION = ["20 min", "fast", "1 KB"]
PLAN_VALUES: list[tuple[str, object, bool]] = [
    *(
        (place, value, value in NOT_A_RATE)
        for place in ("plan.rate", "plan.rate.a")
        for value in RATES + NOT_A_RATE + WRONG_TYPES
    ),
    *(
        (place, value, value in NOT_A_SIZE)
        for place in ("plan.size", "plan.size.a", "plan.processors.a.size")
        for value in SIZES + NOT_A_SIZE + WRONG_TYPES
    ),
    *(
        (place, value, value in NOT_A_DURATION)
        for place in ("plan.duration", "plan.processors.a.duration")
        for value in DURATIONS + NOT_A_DURATION + WRONG_TYPES
    ),
    *(("plan.processors.a.log", v, v in NOT_A_SIZE) for v in [0, "0 B", "100 B", 0.5, *NOT_A_SIZE]),
    *(("plan.processors.a.emits", v, False) for v in [1, 0.5, -1, "3", {"t": 0.5}, *WRONG_TYPES]),
    *(("plan.compression", v, False) for v in ["4x", 4, 0.5, "200x", *WRONG_TYPES]),
    *(("plan.dead_letters", v, False) for v in ["0.1%", 0.001, 2, *WRONG_TYPES]),
    *(("plan.region", v, False) for v in ["us-east-1", 5, None]),
    *(("plan.processors", v, False) for v in [None, [], False]),
]


@pytest.mark.parametrize(("place", "value", "not_a_form"), PLAN_VALUES, ids=lambda x: repr(x)[:30])
def test_every_plan_quantity_is_judged_alike(
    tmp_path: Path, place: str, value: object, not_a_form: bool
) -> None:
    """Rates, sizes and durations in the forms `attak plan` reads: a unit attak does not
    know, or a number out of range, is flagged by both; what attak reads, both accept."""
    document: dict[str, Any] = {"name": "plan", "processors": {"a": "a.py"}, "plan": {}}
    parent: Any = document
    *path, key = place.split(".")
    for part in path:
        parent = parent.setdefault(part, {})
    parent[key] = value
    if key == "max_record_age":
        # No older than the stream keeps its records: a rule between two settings, which
        # the schema leaves to attak; with the longest retention it cannot apply.
        parent["retention_hours"] = STREAM_SETTINGS["retention_hours"].maximum
    file = tmp_path / "topology.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "a.py").write_text("def handler(event, context):\n    pass\n")

    by_schema = schema_errors(document)
    by_attak = attak_errors(file)

    if by_schema:
        assert by_attak, by_schema
    if not by_attak:
        assert not by_schema, by_schema
    if not_a_form:
        assert by_schema, f"{place}: the schema accepts {value!r}"


ALERTS: list[object] = [
    "oncall@example.com",
    "arn:aws:sns:us-east-1:123456789012:oncall",
    ["oncall@example.com", "arn:aws:sns:eu-west-1:123456789012:pager"],
    None,
    [],
    "oncall",
    "arn:aws:sqs:us-east-1:123456789012:queue",
    ["oncall@example.com", 7],
    {"email": "oncall@example.com"},
    True,
]


@pytest.mark.parametrize("alerts", ALERTS, ids=repr)
def test_alerts_are_judged_alike(tmp_path: Path, alerts: object) -> None:
    document: dict[str, Any] = {"name": "told", "processors": {"a": "a.py"}, "alerts": alerts}
    file = tmp_path / "topology.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "a.py").write_text("def handler(event, context):\n    pass\n")
    by_schema = schema_errors(document)
    by_attak = attak_errors(file)
    assert bool(by_schema) == bool(by_attak), (by_schema, [str(i) for i in by_attak])
