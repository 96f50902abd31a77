"""Malformed topologies and input files from tests/corpus, run through the real CLI.

Every case is a real file. For each one attak must exit 1 with a message on stderr that
names the file and the place inside it (a path such as ``streams[0].to``, a line number for
syntax errors, ``file:N`` for JSON Lines), says what is wrong, and shows no traceback:
the contract of DESIGN.md's "Errors and bad input".
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TOPOLOGIES = CORPUS / "topologies"
INPUTS = CORPUS / "inputs"
SAMPLE = Path(__file__).resolve().parent.parent.parent / "sample_topology"

# An expectation is (where, *fragments): all on one issue line of stderr.
#   where = "streams[0].to"  the issue's path inside the file: "<file>: streams[0].to: ..."
#   where = "line 4"         a line number in the file (syntax errors, duplicate keys)
#   where = ""               the file as a whole (it is not a topology at all)
Expectation = tuple[str, ...]

ALIAS_BOMB: Expectation = ("", "YAML aliases (*name) expand", "more than 100,000 nodes")

# case folder -> (topology file name, every issue that must be reported)
TOPOLOGY_CASES: dict[str, tuple[str, list[Expectation]]] = {
    # --- syntax and document shape
    "yaml_syntax_error": ("topology.yml", [("line 4", "invalid YAML")]),
    "json_syntax_error": ("topology.json", [("line 6", "invalid JSON")]),
    "top_level_not_mapping": ("topology.yml", [("", "must be a mapping", "given a list")]),
    "empty_file": ("topology.yml", [("", "must be a mapping", "given nothing")]),
    "deeply_nested_json": ("topology.json", [("",)]),
    "duplicate_key_yaml": ("topology.yml", [("line 5", "key 'reverse' appears twice")]),
    "duplicate_key_json": ("topology.json", [("line 6", "key 'reverse' appears twice")]),
    "yaml_complex_key": ("topology.yml", [("line 3", "invalid YAML")]),
    "yaml_bad_int_tag": ("topology.yml", [("line 6", "invalid YAML")]),
    "yaml_bad_bool_tag": ("topology.yml", [("line 8", "invalid YAML")]),
    # --- YAML aliases that expand to millions of nodes (or forever): one short issue
    "yaml_alias_bomb_lists": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_mappings": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_in_processors": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_in_streams": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_in_setting": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_in_environment": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_in_name": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_wide": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_deep_chain": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_flow_style": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_mixed_in_defaults": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_merge_keys": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_bomb_as_key": ("topology.yml", [ALIAS_BOMB]),
    "yaml_alias_recursive": ("topology.yml", [("", "an alias refers to a node it is inside")]),
    # --- name and top-level keys
    "missing_name": ("topology.json", [("name", "a topology name is required")]),
    "name_not_string": ("topology.yml", [("name", "must be a string", "given a list")]),
    "name_aws_refuses": ("topology.yml", [("name", "'9_lives pipeline' cannot be a stack name")]),
    "unknown_top_level_key": (
        "topology.yml",
        [("stream", "unknown key 'stream'", "did you mean 'streams'")],
    ),
    "max_hops_zero": ("topology.json", [("max_hops", "from 1 to 10000", "given 0")]),
    "trace_sampling_out_of_range": (
        "topology.yml",
        [
            ("trace_sampling", "must be a number from 0 to 1", "given 1.5"),
            ("processors.reverse.system_log_level", "one of DEBUG, INFO, WARN", "given 'ERROR'"),
        ],
    ),
    "trace_sampling_quoted": (
        "topology.yml",
        [("trace_sampling", "a number from 0 to 1 without quotes", "given '0.1'")],
    ),
    # --- processors
    "processors_missing": ("topology.yml", [("processors", "at least one processor")]),
    "processors_wrong_type": ("topology.json", [("processors", "given a list")]),
    "processor_folder_missing": ("topology.yml", [("processors", "folder './handlers' not found")]),
    "processor_folder_empty": ("topology.yml", [("processors", "has no *.py files")]),
    "processor_without_handler": (
        "topology.yml",
        [("processors.reverse.handler", "needs a handler")],
    ),
    "handler_file_missing": (
        "topology.yml",
        [("processors.reverse", "handler file not found", "reverse_missing.py")],
    ),
    "handler_function_missing": (
        "topology.json",
        [
            (
                "processors.reverse.handler",
                "has no function 'nope'",
                "functions in the file: handler",
            )
        ],
    ),
    "handler_not_callable": ("topology.yml", [("processors.reverse", "not a function")]),
    "handler_wrong_arity": (
        "topology.py",
        [("processors.reverse", "must accept two arguments (event, context)")],
    ),
    "handler_syntax_error": (
        "topology.yml",
        [("processors.reverse", "reverse.py, line 3", "SyntaxError")],
    ),
    "handler_raises_on_import": (
        "topology.json",
        [("processors.reverse", "reverse.py, line 3", "RuntimeError: reverse cannot start")],
    ),
    "nul_in_handler_path": ("topology.json", [("processors.reverse",)]),
    "handler_path_too_long": ("topology.yml", [("processors.reverse",)]),
    "surrogate_in_handler_path": ("topology.json", [("processors.reverse",)]),
    "surrogate_in_processor_name": (
        "topology.json",
        [("", "processors.rev", "is not allowed: use a letter first")],
    ),
    "invalid_processor_name": ("topology.yml", [("processors.9lives", "'9lives' is not allowed")]),
    "processor_name_with_space": (
        "topology.py",
        [("processors.has space", "'has space' is not allowed")],
    ),
    "processor_name_clash": (
        "topology.yml",
        [("processors", "'hello_world' and processor 'hello-world' would both be named")],
    ),
    "unknown_processor_key": (
        "topology.yml",
        [("processors.reverse.memroy", "unknown key 'memroy'", "did you mean 'memory'")],
    ),
    "memory_timeout_out_of_range": (
        "topology.yml",
        [
            ("processors.reverse.memory", "from 128 to 10240 MB", "given 64"),
            ("processors.reverse.timeout", "from 1 to 900 seconds", "given 901"),
        ],
    ),
    "input_setting_bad": ("topology.yml", [("processors.hello.input", "one of direct, stream")]),
    "environment_not_mapping": (
        "topology.yml",
        [("processors.reverse.environment", "must map variable names to values")],
    ),
    "environment_value_not_scalar": (
        "topology.yml",
        [("processors.reverse.environment.GREETING", "must be a string or a number")],
    ),
    "reserved_environment": (
        "topology.json",
        [("processors.reverse.environment.AWS_REGION", "'AWS_REGION' is reserved")],
    ),
    "defaults_bad_value": ("topology.yml", [("defaults.memory", "given 99999")]),
    # --- streams
    "unknown_stream_target": (
        "topology.yml",
        [("streams[0].to", "unknown processor 'revrse'", "did you mean 'reverse'")],
    ),
    "unknown_stream_source": (
        "topology.json",
        [("streams[0].from", "unknown processor 'helo'", "did you mean 'hello'")],
    ),
    "stream_list_wrong_length": ("topology.yml", [("streams[1]", "given 4 items")]),
    "stream_is_number": ("topology.yml", [("streams[1]", "given a number")]),
    "duplicate_stream": ("topology.yml", [("streams[1]", "duplicate of streams[0]")]),
    "topic_not_string": ("topology.yml", [("streams[0].topic", "must be a string")]),
    "batch_size_out_of_range": (
        "topology.yml",
        [("streams[0].batch_size", "from 1 to 10000", "given 20000")],
    ),
    "batch_size_string": ("topology.json", [("streams[0].batch_size", "without quotes")]),
    "parallelization_factor_11": (
        "topology.json",
        [("streams[0].parallelization_factor", "from 1 to 10", "given 11")],
    ),
    "retry_attempts_negative": (
        "topology.yml",
        [("streams[0].retry_attempts", "from 0 to 10000", "given -1")],
    ),
    "max_batching_window_301": (
        "topology.yml",
        [("streams[0].max_batching_window", "from 0 to 300 seconds", "given 301")],
    ),
    "shards_zero": ("topology.json", [("streams[0].shards", "from 1 to 10000", "given 0")]),
    "starting_position_at_timestamp": (
        "topology.yml",
        [("streams[0].starting_position", "one of TRIM_HORIZON, LATEST", "'AT_TIMESTAMP'")],
    ),
    "bisect_batch_on_error_yes": (
        "topology.json",
        [("streams[0].bisect_batch_on_error", "true or false", "'yes'")],
    ),
    "unknown_stream_key": (
        "topology.yml",
        [("streams[0].batchsize", "unknown key 'batchsize'", "did you mean 'batch_size'")],
    ),
    # --- Python topologies
    "python_topology_without_topology": ("topology.py", [("", "must define `topology`")]),
    "python_topology_raises": (
        "topology.py",
        [("topology()", "topology.py, line 6", "ValueError: no stages configured")],
    ),
    "python_topology_syntax_error": ("topology.py", [("line 5", "SyntaxError")]),
    "python_topology_not_mapping": ("topology.py", [("", "must be a mapping", "given a list")]),
    "python_topology_sys_exit": ("topology.py", [("line 8",)]),
    # --- several problems: every one is reported at once
    "multi_error_shape": (
        "topology.yml",
        [
            ("stream", "did you mean 'streams'"),
            ("processors.reverse.memory", "given 64"),
            ("processors.reverse.environment", "given a string"),
            ("streams[0].batch_size", "given 0"),
            ("streams[0].starting_position", "'LATEST_ONE'"),
            ("streams[1]", "given 1 items"),
            ("streams[2].shards", "given 0"),
        ],
    ),
    "multi_error_mixed": (
        "topology.yml",
        [
            ("processors.reverse.timeout", "given 0"),
            ("streams[1].retry_attempts", "given -1"),
            ("name", "'corpus_case' cannot be a stack name"),
            ("streams[0].to", "did you mean 'reverse'"),
            ("processors.archive", "handler file not found"),
        ],
    ),
}

# input file -> (where, *fragments), all on the error line of stderr.
#   where = "bad_line.jsonl:2"  JSON Lines: the file and the line number
#   where = "invalid_json.json" the file
INPUT_CASES: dict[str, Expectation] = {
    "invalid_json.json": ("invalid_json.json", "invalid JSON at line 1"),
    "list_not_object.json": ("list_not_object.json", "must be a JSON object", "given a list"),
    "scalar_not_object.json": ("scalar_not_object.json", "must be a JSON object"),
    "unknown_processor.json": (
        "unknown_processor.json",
        "unknown processor 'hello_world_spot'",
        "did you mean 'hello_world_spout'",
    ),
    "jsonl_in_json.json": ("jsonl_in_json.json", "Extra data", "JSON Lines", ".jsonl"),
    "not_utf8.json": ("not_utf8.json", "cannot read the input file"),
    "deeply_nested.json": ("deeply_nested.json",),
    "nan_value.json": ("nan_value.json", "NaN"),
    "bad_line.jsonl": ("bad_line.jsonl:2", "invalid JSON"),
    "missing_data.jsonl": ("missing_data.jsonl:3", '"data"'),
    "unknown_key.jsonl": ("unknown_key.jsonl:2", "unknown key 'key'"),
    "unknown_processor.jsonl": (
        "unknown_processor.jsonl:3",
        "unknown processor 'revrse'",
        "did you mean 'reverse'",
    ),
    "line_not_object.jsonl": ("line_not_object.jsonl:2", "each line must be"),
    # --- one object naming a key twice: refused with the file, the line and the key
    "duplicate_processor.json": (
        "duplicate_processor.json:2",
        "key 'hello_world_spout' appears twice",
        "only the second event would be sent",
        "JSON Lines",
    ),
    "duplicate_processor_three_times.json": (
        "duplicate_processor_three_times.json:4",
        "key 'hello_world_spout' appears twice",
    ),
    "duplicate_key_unicode_escape.json": (
        "duplicate_key_unicode_escape.json:2",
        "key 'hello_world_spout' appears twice",
    ),
    "duplicate_key_in_data.json": (
        "duplicate_key_in_data.json:3",
        "key 'user' appears twice",
        "rename or merge them",
    ),
    "duplicate_key_deep.json": ("duplicate_key_deep.json:2", "key 'e' appears twice"),
    "duplicate_key_in_list_item.json": (
        "duplicate_key_in_list_item.json:3",
        "key 'id' appears twice",
    ),
    "duplicate_empty_key.json": ("duplicate_empty_key.json:2", "key '' appears twice"),
    "duplicate_key_escaped_quote.json": (
        "duplicate_key_escaped_quote.json:2",
        """key 'say "hi"' appears twice""",
    ),
    "duplicate_key_beside_nested_same_key.json": (
        "duplicate_key_beside_nested_same_key.json:3",
        "key 'x' appears twice",
    ),
    "duplicate_key_pretty_printed.json": (
        "duplicate_key_pretty_printed.json:7",
        "key 'order' appears twice",
    ),
    "duplicate_processor_key.jsonl": (
        "duplicate_processor_key.jsonl:2",
        "key 'processor' appears twice",
    ),
    "duplicate_data_key.jsonl": ("duplicate_data_key.jsonl:1", "key 'data' appears twice"),
    "duplicate_key_in_data.jsonl": ("duplicate_key_in_data.jsonl:3", "key 'k' appears twice"),
    "duplicate_key_deep.jsonl": ("duplicate_key_deep.jsonl:2", "key 'c' appears twice"),
    "duplicate_key.ndjson": ("duplicate_key.ndjson:1", "key 'n' appears twice"),
    # --- YAML in an input file: input is JSON, so an alias bomb is one short syntax error
    "yaml_alias_bomb.json": ("yaml_alias_bomb.json", "invalid JSON at line 1"),
    "yaml_alias_bomb.jsonl": ("yaml_alias_bomb.jsonl:1", "invalid JSON"),
    # Not in the corpus on purpose: the file that is not there.
    "missing_input.json": ("missing_input.json", "input file not found"),
}

# Cases also checked through `attak validate --json`.
JSON_CASES = (
    "yaml_syntax_error",
    "unknown_stream_target",
    "memory_timeout_out_of_range",
    "handler_syntax_error",
    "multi_error_shape",
    "multi_error_mixed",
    "surrogate_in_processor_name",
)

runner = CliRunner()


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _assert_clean_failure(result: Result, code: int = 1) -> None:
    """Exit 1 (2: usage) by attak's own error handling: no escaped exception, no traceback."""
    escaped = result.exception
    if escaped is not None and not isinstance(escaped, SystemExit):
        stack = "".join(traceback.format_exception(escaped))
        pytest.fail(f"an exception escaped attak instead of an AttakError:\n{stack}")
    assert "Traceback" not in result.output
    assert result.exit_code == code, f"exit code {result.exit_code}, output:\n{result.output}"
    # No value is quoted whole: a message stays readable whatever the file held.
    assert len(result.output) < 4000, f"{len(result.output)} characters of output"


def _line_matches(line: str, label: str, where: str, fragments: tuple[str, ...]) -> bool:
    if where.startswith("line "):
        located = f"{label}: " in line and re.search(rf"\b{re.escape(where)}\b", line)
    elif where:
        located = f"{label}: {where}: " in line
    else:
        located = f"{label}: " in line
    return bool(located) and all(fragment in line for fragment in fragments)


def _topology_case_ids() -> list[str]:
    return sorted(TOPOLOGY_CASES)


@pytest.mark.parametrize("case", _topology_case_ids())
def test_validate_reports_malformed_topology(case: str) -> None:
    """`attak validate` on a malformed topology: exit 1, every issue located and explained."""
    file_name, expected = TOPOLOGY_CASES[case]
    folder = TOPOLOGIES / case
    assert (folder / file_name).is_file(), f"corpus case {case} has no {file_name}"

    result = _run("validate", str(folder))

    _assert_clean_failure(result)
    label = f"{case}/{file_name}"
    lines = result.stderr.splitlines()
    for where, *fragments in expected:
        assert any(_line_matches(line, label, where, tuple(fragments)) for line in lines), (
            f"no stderr line names {label}, {where or 'the file'!r} and {fragments}; "
            f"stderr was:\n{result.stderr}"
        )


@pytest.mark.parametrize("case", JSON_CASES)
def test_validate_json_reports_issues_with_file_path_and_message(case: str) -> None:
    """`attak validate --json`: exit 1 and a document whose issues carry file, path, message."""
    file_name, expected = TOPOLOGY_CASES[case]

    result = _run("validate", "--json", str(TOPOLOGIES / case))

    _assert_clean_failure(result)
    document = json.loads(result.stdout)
    assert document["ok"] is False
    issues = document["issues"]
    assert issues
    for issue in issues:
        assert issue["file"].endswith(f"{case}/{file_name}")
        assert issue["message"]
        assert {"code", "severity", "path"} <= issue.keys()
    for where, *fragments in expected:
        if where.startswith("line "):
            line = re.compile(rf"\b{re.escape(where)}\b")
            matching = [i for i in issues if line.search(i["message"])]
        elif where:
            matching = [i for i in issues if i["path"] == where]
        else:
            matching = issues
        texts = [f"{i['path']}: {i['message']}" for i in matching]
        assert any(all(f in text for f in fragments) for text in texts), (
            f"no issue at {where!r} with {fragments}: {issues}"
        )


@pytest.mark.parametrize("name", sorted(INPUT_CASES))
def test_simulate_reports_malformed_input(name: str) -> None:
    """`attak simulate --input` with a malformed input: exit 1, file (and line) named."""
    where, *fragments = INPUT_CASES[name]
    file = INPUTS / name
    if name == "missing_input.json":
        assert not file.exists()
    else:
        assert file.is_file(), f"corpus input {name} is missing"

    result = _run("simulate", str(SAMPLE), "--input", str(file))

    _assert_clean_failure(result)
    lines = result.stderr.splitlines()
    # The file (with ":N" for a JSON Lines line) is named where the message starts.
    pattern = re.compile(rf"{re.escape(where)}(:|\b)")
    assert any(
        pattern.search(line) and all(fragment in line for fragment in fragments) for line in lines
    ), f"no stderr line names {where!r} with {fragments}; stderr was:\n{result.stderr}"


# Command lines whose option values can never work: usage errors, exit 2, before any
# file is read or any service called. (argv, *fragments of the stderr message)
NOT_URLS = ("notaurl", "http://[::1", "ftp://x", "", "localhost:4566", "http://:80")
ENDPOINT_COMMANDS = (
    ("deploy", str(SAMPLE)),
    ("diff", str(SAMPLE)),
    ("destroy", str(SAMPLE)),
    ("trigger", str(SAMPLE), "--no-follow"),
    ("logs", str(SAMPLE)),
    ("ui", str(SAMPLE), "--no-open"),
    ("simulate", str(SAMPLE), "--engine", "kinesis"),
)
OPTION_CASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    *(
        ((*command, "--endpoint-url", url), ("--endpoint-url", repr(url)))
        for command in ENDPOINT_COMMANDS
        for url in NOT_URLS
    ),
    (("graph", str(SAMPLE), "--format", "svg"), ("--format", "'svg'", "'text', 'mermaid', 'dot'")),
    (("simulate", str(SAMPLE), "--engine", "kafka"), ("--engine", "'kafka'", "'memory'")),
    (("plan", str(SAMPLE), "--architecture", "sparc"), ("--architecture", "'sparc'", "arm64")),
    (("logs", str(SAMPLE), "--since", "soon"), ("--since", "'soon'")),
    (("simulate", str(SAMPLE), "--endpoint-url", "http://localhost:4566"), ("--engine kinesis",)),
    (("simulate", str(SAMPLE), "--max-hops", "0"), ("--max-hops",)),
    (("validate", ""), ("'path'", "is empty")),
    (("simulate", str(SAMPLE), "--input", ""), ("--input", "is empty")),
    (("synth", str(SAMPLE), "-o", ""), ("--output", "is empty")),
    (("init", ""), ("'directory'", "is empty")),
]


@pytest.mark.parametrize(
    ("argv", "fragments"), OPTION_CASES, ids=[" ".join(a[2:] or a) for a, _ in OPTION_CASES]
)
def test_option_values_that_can_never_work_are_usage_errors(
    argv: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    """A bad option value: exit 2, what is wrong and the value on stderr, no traceback."""
    result = _run(*argv)

    _assert_clean_failure(result, code=2)
    assert all(fragment in result.stderr for fragment in fragments), result.stderr


def test_corpus_matches_the_expectation_tables() -> None:
    """Every corpus file has an expectation and every expectation a file: none go unrun."""
    folders = {p.name for p in TOPOLOGIES.iterdir() if p.is_dir()}
    inputs = {p.name for p in INPUTS.iterdir() if p.is_file()}
    assert folders == set(TOPOLOGY_CASES)
    assert inputs == set(INPUT_CASES) - {"missing_input.json"}


def test_corpus_has_at_least_thirty_cases() -> None:
    """The corpus cannot silently shrink below its agreed size."""
    topology_cases = [p for p in TOPOLOGIES.iterdir() if p.is_dir() and any(p.glob("topology.*"))]
    input_cases = [p for p in INPUTS.iterdir() if p.is_file()]
    assert len(topology_cases) >= 78
    assert len(input_cases) >= 30
    assert len(topology_cases) + len(input_cases) >= 30
