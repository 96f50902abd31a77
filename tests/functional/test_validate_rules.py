"""Each validation rule, passing and failing, on small topologies written to disk."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from attak_cdk import validate as rules
from attak_cdk.errors import Issue, TopologyError
from attak_cdk.loader import read_topology
from attak_cdk.project import check_topology
from tests.conftest import PASS_ON, REVERSE, SINK, WriteProject

GOOD = """
name: good
processors:
  spout: processors/spout.py
  reverse: processors/reverse.py
  sink: processors/sink.py
streams:
  - [spout, reverse]
  - [reverse, sink, reversed strings]
"""
HANDLERS = {
    "processors/spout.py": PASS_ON,
    "processors/reverse.py": REVERSE,
    "processors/sink.py": SINK,
}


def issues_of(root: Path, rule: rules.Rule) -> list[Issue]:
    return list(rule(read_topology(root)))


@pytest.fixture
def good(write_project: WriteProject) -> Path:
    return write_project({**HANDLERS, "topology.yml": GOOD})


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_every_rule_passes_a_good_topology(good: Path, rule: rules.Rule) -> None:
    assert issues_of(good, rule) == []


def test_topology_name_must_be_a_stack_name(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD.replace("name: good", "name: my_app")})
    (issue,) = issues_of(root, rules.topology_name)
    assert (issue.path, issue.code) == ("name", "invalid-name")
    assert "'my_app' cannot be a stack name" in issue.message


def test_processor_names_must_fit_aws(write_project: WriteProject) -> None:
    text = "name: n\nprocessors:\n  9lives: processors/sink.py\n  ok-name_2: processors/sink.py\n"
    root = write_project({**HANDLERS, "topology.yml": text})
    (issue,) = issues_of(root, rules.processor_names)
    assert issue.path == "processors.9lives"
    assert "'9lives' is not allowed" in issue.message


def test_processors_differing_only_by_punctuation_clash(write_project: WriteProject) -> None:
    text = "name: n\nprocessors:\n  hello_world: processors/sink.py\n  hello-world: processors/sink.py\n"
    root = write_project({**HANDLERS, "topology.yml": text})
    (issue,) = issues_of(root, rules.distinct_ids)
    assert "would both be named HelloWorldFunction" in issue.message


def test_topics_differing_only_by_punctuation_clash(write_project: WriteProject) -> None:
    text = GOOD + "  - [reverse, sink, reversed-strings]\n"
    root = write_project({**HANDLERS, "topology.yml": text})
    (issue,) = issues_of(root, rules.distinct_ids)
    assert issue.path == "streams[2]"
    assert "ReverseToSinkReversedStringsStream" in issue.message


def test_stream_ends_must_be_known_with_a_suggestion(write_project: WriteProject) -> None:
    root = write_project(
        {**HANDLERS, "topology.yml": GOOD.replace("[spout, reverse]", "[spot, revrse]")}
    )
    found = {i.path: i.message for i in issues_of(root, rules.stream_ends)}
    assert found["streams[0].to"] == (
        "unknown processor 'revrse' (did you mean 'reverse'?) (known: reverse, sink, spout)"
    )
    assert "did you mean 'spout'?" in found["streams[0].from"]


def test_duplicate_stream_is_an_error(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD + "  - {from: spout, to: reverse}\n"})
    (issue,) = issues_of(root, rules.duplicate_streams)
    assert issue.path == "streams[2]"
    assert "duplicate of streams[0]" in issue.message


def test_same_ends_on_another_topic_is_not_a_duplicate(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD + "  - [reverse, sink, other]\n"})
    assert issues_of(root, rules.duplicate_streams) == []


def test_topic_must_not_be_blank(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD.replace("reversed strings", "' '")})
    (issue,) = issues_of(root, rules.topics)
    assert issue.path == "streams[1].topic"


def test_reserved_and_invalid_environment_names(write_project: WriteProject) -> None:
    text = GOOD.replace(
        "sink: processors/sink.py",
        "sink: {handler: processors/sink.py, environment: {AWS_REGION: x, 1BAD: y, OK: z}}",
    )
    root = write_project({**HANDLERS, "topology.yml": text})
    found = {i.path: i.message for i in issues_of(root, rules.environment)}
    assert set(found) == {
        "processors.sink.environment.AWS_REGION",
        "processors.sink.environment.1BAD",
    }
    assert "reserved by Lambda or attak" in found["processors.sink.environment.AWS_REGION"]


def test_an_environment_past_lambdas_4_kb_names_the_processor_and_the_figure(
    write_project: WriteProject,
) -> None:
    # attak's own variables, the dead-letter queue's URL counted as long as it can be.
    ours = {
        "ATTAK_HANDLER": "sink:handler",
        "ATTAK_PROCESSOR": "sink",
        "ATTAK_TOPOLOGY": "good",
        "ATTAK_MAX_HOPS": "16",
        "ATTAK_DEAD_LETTERS": "q" * 143,
    }
    room = 4096 - sum(len(k) + len(v) for k, v in ours.items()) - len("BIG")
    fits = GOOD.replace(
        "sink: processors/sink.py",
        f"sink: {{handler: processors/sink.py, environment: {{BIG: {'x' * room}}}}}",
    )
    assert (
        issues_of(write_project({**HANDLERS, "topology.yml": fits}), rules.environment_size) == []
    )

    over = fits.replace("x" * room, "x" * (room + 1))
    root = write_project({**HANDLERS, "topology.yml": over})
    (issue,) = issues_of(root, rules.environment_size)
    assert (issue.code, issue.path) == ("environment-too-large", "processors.sink.environment")
    assert issue.file.endswith("topology.yml")
    assert "processor 'sink'" in issue.message
    assert f"would hold 4097 bytes ({room + 1 + 3} of them its `environment:`" in issue.message
    with pytest.raises(TopologyError, match="environment would hold 4097 bytes"):
        check_topology(root)


def test_a_split_topologys_stack_names_must_fit_cloudformation(
    write_project: WriteProject,
) -> None:
    # 46 processors in a chain need more resources than one stack: <name>-streams-1 and
    # <name>-1, -2 are derived from the name, which must leave room for them.
    names = [f"p{i}" for i in range(46)]
    lines = ["processors:", *(f"  {n}: processors/sink.py" for n in names), "streams:"]
    lines += [f"  - [{a}, {b}]" for a, b in itertools.pairwise(names)]
    body = "\n".join(lines) + "\n"
    fits = write_project({**HANDLERS, "topology.yml": f"name: {'n' * 118}\n{body}"})
    assert issues_of(fits, rules.stack_names) == []
    root = write_project({**HANDLERS, "topology.yml": f"name: {'n' * 119}\n{body}"})
    (issue,) = issues_of(root, rules.stack_names)
    assert (issue.code, issue.path) == ("name-too-long", "name")
    assert f"'{'n' * 119}-streams-1' (129 characters)" in issue.message
    assert "shorten the name to at most 118 characters" in issue.message


def test_missing_handler_file(write_project: WriteProject) -> None:
    root = write_project(
        {**HANDLERS, "topology.yml": GOOD.replace("processors/sink.py", "processors/snk.py")}
    )
    (issue,) = issues_of(root, rules.handlers)
    assert issue.path == "processors.sink"
    assert "handler file not found: processors/snk.py" in issue.message


def test_handler_function_missing_lists_functions(write_project: WriteProject) -> None:
    root = write_project(
        {**HANDLERS, "topology.yml": GOOD.replace("processors/sink.py", "processors/sink.py:main")}
    )
    (issue,) = issues_of(root, rules.handlers)
    assert "has no function 'main' (functions in the file: handler)" in issue.message


def test_handler_with_syntax_error_names_file_and_line(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "processors/sink.py": "def handler(event, context)\n    pass\n",
            "topology.yml": GOOD,
        }
    )
    (issue,) = issues_of(root, rules.handlers)
    assert "sink.py, line 1: SyntaxError" in issue.message


def test_handler_raising_at_import_names_its_line(write_project: WriteProject) -> None:
    source = "import os\nCONFIG = os.environ['NOPE_NOT_SET']\n\ndef handler(e, c):\n    pass\n"
    root = write_project({**HANDLERS, "processors/sink.py": source, "topology.yml": GOOD})
    (issue,) = issues_of(root, rules.handlers)
    assert "sink.py, line 2: KeyError: 'NOPE_NOT_SET'" in issue.message


def test_handler_with_wrong_arity(write_project: WriteProject) -> None:
    source = "def handler(event):\n    pass\n"
    root = write_project({**HANDLERS, "processors/sink.py": source, "topology.yml": GOOD})
    (issue,) = issues_of(root, rules.handlers)
    assert "must accept two arguments (event, context)" in issue.message


def test_unreachable_loop_is_a_warning(write_project: WriteProject) -> None:
    text = GOOD + "  - [a, b]\n  - [b, a]\n"
    text = text.replace(
        "processors:\n", "processors:\n  a: processors/spout.py\n  b: processors/spout.py\n"
    )
    root = write_project({**HANDLERS, "topology.yml": text})
    found = issues_of(root, rules.unreachable)
    assert [(i.path, i.severity) for i in found] == [
        ("processors.a", "warning"),
        ("processors.b", "warning"),
    ]


def test_ingest_stream_makes_a_loop_reachable(write_project: WriteProject) -> None:
    text = GOOD + "  - [a, b]\n  - [b, a]\n"
    text = text.replace(
        "processors:\n",
        "processors:\n  a: {handler: processors/spout.py, input: stream}\n  b: processors/spout.py\n",
    )
    root = write_project({**HANDLERS, "topology.yml": text})
    assert issues_of(root, rules.unreachable) == []


def test_topic_never_emitted_is_a_warning_with_suggestion(write_project: WriteProject) -> None:
    root = write_project(
        {**HANDLERS, "topology.yml": GOOD.replace("reversed strings", "reversed string")}
    )
    (issue,) = issues_of(root, rules.unemitted_topics)
    assert issue.severity == "warning"
    assert "'reverse' never emits topic 'reversed string'" in issue.message
    assert "did you mean 'reversed strings'?" in issue.message


def test_topic_check_stays_quiet_when_topics_are_dynamic(write_project: WriteProject) -> None:
    dynamic = "def handler(event, context):\n    context.emit(event['topic'], event)\n"
    root = write_project(
        {
            **HANDLERS,
            "processors/reverse.py": dynamic,
            "topology.yml": GOOD.replace("reversed strings", "x"),
        }
    )
    assert issues_of(root, rules.unemitted_topics) == []


def test_a_crashing_rule_becomes_an_issue(good: Path) -> None:
    def broken(topology: object) -> list[Issue]:
        raise RuntimeError("boom")

    found = rules.validate(read_topology(good), rules=(broken, rules.stream_ends))
    assert [i.code for i in found] == ["rule-crashed"]
    assert "check 'broken' failed" in found[0].message


def test_check_topology_raises_with_errors_and_returns_warnings(
    write_project: WriteProject,
) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD.replace("reversed strings", "nope")})
    topology, warnings = check_topology(root)
    assert [w.code for w in warnings] == ["never-emitted"]
    broken = write_project({"broken/topology.yml": GOOD.replace("[spout, reverse]", "[spout, x]")})
    with pytest.raises(TopologyError) as caught:
        check_topology(broken / "broken")
    codes = {i.code for i in caught.value.issues}
    assert "unknown-processor" in codes
    assert "missing-handler" in codes  # every rule ran, not only the first failing one
    assert topology.name == "good"


# --- alerts: and max_record_age: read, checked, and refused with the file and path ----------


def test_alerts_take_an_address_a_topic_arn_or_a_list_of_both(write_project: WriteProject) -> None:
    arn = "arn:aws:sns:eu-west-1:123456789012:oncall"
    one = write_project({**HANDLERS, "topology.yml": GOOD + "alerts: ops@example.com\n"})
    assert read_topology(one).alerts.emails == ("ops@example.com",)

    both = GOOD + f"alerts: [ops@example.com, {arn}, ops@example.com]\n"
    alerts = read_topology(write_project({**HANDLERS, "topology.yml": both})).alerts
    assert (alerts.emails, alerts.topics) == (("ops@example.com",), (arn,))


def test_no_alerts_means_no_one_is_told(good: Path) -> None:
    alerts = read_topology(good).alerts
    assert (alerts.emails, alerts.topics) == ((), ())


@pytest.mark.parametrize(
    ("written", "path", "says"),
    [
        ("alerts: ops at example.com", "alerts", "must be an email address or an SNS topic ARN"),
        ("alerts: [ops@example.com, 42]", "alerts[1]", "(given 42)"),
        ("alerts: [arn:aws:sqs:us-east-1:123456789012:q]", "alerts[0]", "not an SNS topic ARN"),
        ("alerts: arn:aws:sns:us-east-1:1234:short", "alerts", "not an SNS topic ARN"),
        ("alerts: []", "alerts", "an empty list tells no one"),
    ],
)
def test_a_malformed_alert_is_refused_naming_file_and_path(
    write_project: WriteProject, written: str, path: str, says: str
) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD + written + "\n"})
    with pytest.raises(TopologyError) as raised:
        read_topology(root)
    (issue,) = raised.value.issues
    assert (issue.path, issue.code) == (path, "invalid-alerts")
    assert issue.file.endswith("topology.yml")
    assert says in issue.message


def test_every_stream_gets_a_max_record_age_below_its_retention_by_default(
    write_project: WriteProject,
) -> None:
    text = GOOD.replace(
        "  - [spout, reverse]", "  - {from: spout, to: reverse, retention_hours: 720}"
    )
    topology = read_topology(write_project({**HANDLERS, "topology.yml": text}))
    ages = [(s.settings.retention_hours, s.settings.max_record_age) for s in topology.streams]
    # An hour short of the retention; at most the 7 days Lambda allows.
    assert ages == [(720, 604800), (24, 23 * 3600)]
    assert topology.ingest_settings.max_record_age == 23 * 3600


def test_max_record_age_minus_one_is_no_limit(write_project: WriteProject) -> None:
    text = GOOD.replace(
        "  - [spout, reverse]", "  - {from: spout, to: reverse, max_record_age: -1}"
    )
    topology = read_topology(write_project({**HANDLERS, "topology.yml": text}))
    assert topology.streams[0].settings.max_record_age is None


@pytest.mark.parametrize(
    ("stream", "defaults", "path", "says"),
    [
        (
            "{from: spout, to: reverse, max_record_age: 30}",
            "",
            "streams[0].max_record_age",
            "from 60 to 604800 seconds, or -1 (no limit) (given 30)",
        ),
        (
            "{from: spout, to: reverse, max_record_age: 604801}",
            "",
            "streams[0].max_record_age",
            "(given 604801)",
        ),
        (
            "{from: spout, to: reverse, max_record_age: 90000}",
            "",
            "streams[0].max_record_age",
            "longer than the stream keeps its records (retention_hours 24 = 86400 seconds)",
        ),
        (
            "{from: spout, to: reverse, retention_hours: 24}",
            "defaults: {max_record_age: 100000}\n",
            "streams[0].retention_hours",
            "100000 seconds is longer",
        ),
        (
            "[spout, reverse]",
            "defaults: {max_record_age: 100000}\n",
            "defaults.max_record_age",
            "100000 seconds is longer",
        ),
    ],
)
def test_a_max_record_age_out_of_range_or_past_retention_is_refused(
    write_project: WriteProject, stream: str, defaults: str, path: str, says: str
) -> None:
    text = defaults + GOOD.replace("  - [spout, reverse]", f"  - {stream}")
    root = write_project({**HANDLERS, "topology.yml": text})
    with pytest.raises(TopologyError) as raised:
        read_topology(root)
    found = {issue.path: issue for issue in raised.value.issues}
    assert len(found) == len(raised.value.issues)  # a default's problem is said once
    issue = found[path]
    assert issue.file.endswith("topology.yml")
    assert says in issue.message


def test_attak_validate_exits_1_on_a_malformed_alert(write_project: WriteProject) -> None:
    from tests.functional.test_cli import run

    root = write_project({**HANDLERS, "topology.yml": GOOD + "alerts: [ops@]\n"})
    code, _, err = run("validate", str(root))
    assert code == 1
    assert "alerts[0]" in err and "must be an email address or an SNS topic ARN" in err


GRANTED = """
name: granted
processors:
  archive:
    handler: processors/sink.py
    grants:
      - dynamo: {table: sessions}
      - s3: {access: all}
      - sqs: {queue: arn:aws:sns:us-east-1:123456789012:orders}
      - kms: alias/mine
      - statement: {actions: ["s3:*"], resources: [arn:aws:s3:::archive/*]}
      - dynamodb: {table: Bad_Name!}
"""


def test_every_bad_grant_is_reported_at_its_path(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GRANTED})
    with pytest.raises(TopologyError) as caught:
        read_topology(root)
    found = {issue.path: issue.message for issue in caught.value.issues}
    assert all(issue.file.endswith("topology.yml") for issue in caught.value.issues)
    base = "processors.archive.grants"
    assert "unknown grant 'dynamo' (did you mean 'dynamodb'?)" in found[f"{base}[0].dynamo"]
    assert "names no S3 bucket" in found[f"{base}[1].s3.bucket"]
    assert "must be one of read, write, read-write (given 'all')" in found[f"{base}[1].s3.access"]
    assert "not the ARN of an SQS queue" in found[f"{base}[2].sqs.queue"]
    assert "not a name AWS allows for a KMS key" in found[f"{base}[3].kms"]
    assert (
        "a wildcard (*) in actions or resources needs a reason"
        in found[f"{base}[4].statement.reason"]
    )
    assert "not a name AWS allows for a DynamoDB table" in found[f"{base}[5].dynamodb.table"]
    assert len(found) == 7


def test_grants_under_defaults_come_before_a_processors_own(write_project: WriteProject) -> None:
    text = GOOD.replace(
        "processors:\n",
        "defaults:\n  grants: [{sns: {topic: alerts}}]\nprocessors:\n"
        "  granted: {handler: processors/sink.py, grants: [{lambda: enrich}]}\n",
    )
    topology = read_topology(write_project({**HANDLERS, "topology.yml": text}))
    assert [g.kind for g in topology.processors["granted"].grants] == ["sns", "lambda"]
    assert [g.kind for g in topology.processors["sink"].grants] == ["sns"]
    assert topology.processors["granted"].grants[0].where == "defaults.grants[0].sns"


def test_a_bad_grant_exits_1_naming_file_and_path(write_project: WriteProject) -> None:
    import subprocess
    import sys

    root = write_project({**HANDLERS, "topology.yml": GRANTED})
    done = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(root)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1
    assert "processors.archive.grants[1].s3.access" in done.stderr
    assert "topology.yml" in done.stderr
