"""Environment values kept in SSM Parameter Store or Secrets Manager, outside AWS.

The loader reads ``{ssm: ...}`` and ``{secret: ..., key: ...}`` (in a processor's
environment and in ``defaults.environment``) and reports every bad one with the file and
the path; a local run (``attak simulate``, ``run_topology``) takes each value from the
process environment, else ``--env-file``, else ``.env`` beside the topology, and stops
before it starts, exit 1, when one has no local value. ``attak simulate`` still imports
neither boto3 nor aws_cdk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attak_cdk.errors import TopologyError
from attak_cdk.loader import read_topology
from attak_cdk.project import load_topology
from attak_cdk.references import Reference
from attak_cdk.simulate.configuration import ConfigurationError, read_env_file
from attak_cdk.testing import run_topology
from cli.main import app
from tests.conftest import SINK, WriteProject, modules_loaded_by

runner = CliRunner()

TOPOLOGY = """
name: configured
defaults:
  environment:
    API_URL: {ssm: /clickstream/api-url}
processors:
  parse:
    handler: p/parse.py
    environment:
      DB_PASSWORD: {secret: prod/clickstream/db, key: password}
      STAGE: test
  sink:
    handler: p/sink.py
    environment:
      API_URL: http://plain.example
streams:
  - [parse, sink]
"""
# Read at the module's top level, as handlers do: the value must be there at import.
PARSE = """
import os

API_URL = os.environ["API_URL"]


def handler(event, context):
    context.emit("seen", {
        "api_url": API_URL,
        "db_password": os.environ["DB_PASSWORD"],
        "stage": os.environ.get("STAGE"),
    })
"""
SEEN_BY_SINK = """
import os


def handler(event, context):
    context.emit("env", {name: os.environ.get(name) for name in ("API_URL", "STAGE", "DB_PASSWORD")})
"""


@pytest.fixture
def project(write_project: WriteProject) -> Path:
    return write_project(
        {
            "topology.yml": TOPOLOGY,
            "p/parse.py": PARSE,
            "p/sink.py": SEEN_BY_SINK,
            "input.json": '{"parse": 1}',
        }
    )


@pytest.fixture(autouse=True)
def no_values_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of the variables set, and whatever a test (or the runtime) sets removed after."""
    for name in ("API_URL", "DB_PASSWORD", "STAGE"):
        monkeypatch.setenv(name, "")  # recorded, so that teardown puts back "unset"
        monkeypatch.delenv(name)


def simulate(*args: str) -> tuple[int, dict[str, object] | None, str]:
    result = runner.invoke(app, ["simulate", *args, "--json"])
    document = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, document, result.stderr


def test_the_loader_reads_references_and_a_processors_own_value_replaces_the_default(
    project: Path,
) -> None:
    topology = read_topology(project)
    parse, sink = topology.processors["parse"], topology.processors["sink"]
    assert parse.references == {
        "API_URL": Reference("ssm", "/clickstream/api-url", where="defaults.environment.API_URL"),
        "DB_PASSWORD": Reference(
            "secret",
            "prod/clickstream/db",
            key="password",
            where="processors.parse.environment.DB_PASSWORD",
        ),
    }
    assert parse.environment == {"STAGE": "test"}
    assert sink.references == {}
    assert sink.environment == {"API_URL": "http://plain.example"}


BAD = """
name: bad-references
defaults:
  environment:
    SHARED: {ssm: ssmreserved}
processors:
  a:
    handler: a.py
    environment:
      NO_SLASH: {ssm: clickstream/url}
      PATH_ONLY: {ssm: /clickstream/}
      TOO_DEEP: {ssm: /1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16}
      PREFIXED: {ssm: /aws/mine}
      WRONG_ARN: {ssm: "arn:aws:s3:::bucket"}
      SPACES: {secret: "prod db"}
      PARTIAL_ARN: {secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"}
      KEY_ON_SSM: {ssm: /ok, key: x}
      ALIAS: {secret: prod/db, kms_key: alias/mine}
      BOTH: {ssm: /ok, secret: prod/db}
      ATTAK_MINE: {ssm: /ok}
"""


def test_every_bad_reference_is_reported_with_file_and_path(write_project: WriteProject) -> None:
    root = write_project({"topology.yml": BAD, "a.py": SINK})
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    found = {issue.path: issue.message for issue in caught.value.issues}
    e = "processors.a.environment"
    expected = {
        "defaults.environment.SHARED.ssm": "cannot start with 'aws' or 'ssm'",
        f"{e}.NO_SLASH.ssm": "in a hierarchy starts with '/'",
        f"{e}.PATH_ONLY.ssm": "is a path, not a parameter name",
        f"{e}.TOO_DEEP.ssm": "at most 15 levels (given 16)",
        f"{e}.PREFIXED.ssm": "public parameters are under /aws/service/",
        f"{e}.WRONG_ARN.ssm": "not the ARN of an SSM parameter",
        f"{e}.SPACES.secret": "a secret name has 1 to 512 letters",
        f"{e}.PARTIAL_ARN.secret": "not the complete ARN of a secret",
        f"{e}.KEY_ON_SSM.key": "unknown key 'key'",
        f"{e}.ALIAS.kms_key": "an alias cannot be granted",
        f"{e}.BOTH": "an environment value is text, a number, {ssm: /parameter/name}",
        f"{e}.ATTAK_MINE": "reserved by Lambda or attak",
    }
    for path, words in expected.items():
        assert words in found.get(path, ""), (path, found.get(path))
    assert all(issue.file.endswith("topology.yml") for issue in caught.value.issues)


def test_the_references_count_in_the_4kb_check_as_the_users(write_project: WriteProject) -> None:
    names = "\n".join(f"      V{i:03}: {{ssm: /clickstream/{'x' * 60}/{i}}}" for i in range(50))
    root = write_project(
        {
            "topology.yml": f"name: big\nprocessors:\n  a:\n    handler: a.py\n"
            f"    environment:\n{names}\n",
            "a.py": SINK,
        }
    )
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    (issue,) = [i for i in caught.value.issues if i.code == "environment-too-large"]
    theirs = int(issue.message.split("(")[1].split(" of them")[0])
    assert theirs > 4096 - 600  # the references, not attak's few variables


def test_simulate_takes_values_from_the_process_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_URL", "https://from-process")
    monkeypatch.setenv("DB_PASSWORD", "pw-from-process")
    code, document, err = simulate(str(project))
    assert code == 0, err
    assert document is not None
    emitted = document["emitted"]
    assert emitted["parse"]["seen"] == [  # type: ignore[index]
        {"api_url": "https://from-process", "db_password": "pw-from-process", "stage": "test"}
    ]
    # Each processor sees its own environment: the sink's plain API_URL, no STAGE, and
    # the process' own DB_PASSWORD (Lambda too has only what its function is given).
    assert emitted["sink"]["env"] == [  # type: ignore[index]
        {"API_URL": "http://plain.example", "STAGE": None, "DB_PASSWORD": "pw-from-process"}
    ]


def test_simulate_reads_the_env_file_given_and_the_process_environment_wins(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = project / "local.env"
    env_file.write_text(
        '# local values\nexport API_URL=\'https://from-file\'\nDB_PASSWORD="pw \\"quoted\\""  # c\n'
    )
    code, document, err = simulate(str(project), "--env-file", str(env_file))
    assert code == 0, err
    assert document is not None
    (seen,) = document["emitted"]["parse"]["seen"]  # type: ignore[index]
    assert seen["api_url"] == "https://from-file"
    assert seen["db_password"] == 'pw "quoted"'
    monkeypatch.setenv("API_URL", "https://from-process")
    code, document, err = simulate(str(project), "--env-file", str(env_file))
    assert document is not None
    (seen,) = document["emitted"]["parse"]["seen"]  # type: ignore[index]
    assert seen["api_url"] == "https://from-process"


def test_simulate_reads_the_env_file_beside_the_topology_by_default(project: Path) -> None:
    (project / ".env").write_text("API_URL=https://from-dotenv\nDB_PASSWORD=pw\n")
    code, document, err = simulate(str(project))
    assert code == 0, err
    assert document is not None
    (seen,) = document["emitted"]["parse"]["seen"]  # type: ignore[index]
    assert (seen["api_url"], seen["db_password"]) == ("https://from-dotenv", "pw")


def test_a_missing_value_stops_simulate_before_it_runs_naming_it_and_both_remedies(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_URL", "https://from-process")
    result = runner.invoke(app, ["simulate", str(project)])
    assert result.exit_code == 1
    assert "simulating" not in result.stdout  # stopped before the run
    err = result.stderr
    assert (
        "processors.parse.environment.DB_PASSWORD: processor 'parse': DB_PASSWORD references "
        "field 'password' of Secrets Manager secret prod/clickstream/db"
    ) in err
    assert "API_URL" not in err  # it has a value
    assert "process environment" in err and str(project / ".env") in err


def test_run_topology_takes_values_from_its_environment_argument(project: Path) -> None:
    result = run_topology(
        project, environment={"API_URL": "https://test", "DB_PASSWORD": "test-pw"}
    )
    result.assert_ok()
    assert result.emitted["parse"]["seen"] == [
        {"api_url": "https://test", "db_password": "test-pw", "stage": "test"}
    ]
    with pytest.raises(ConfigurationError, match="DB_PASSWORD references"):
        run_topology(project, environment={"API_URL": "https://test"})


def test_an_env_file_line_that_is_not_name_value_is_named_by_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OK=1\n\n# note\nNOT A LINE\n")
    with pytest.raises(ConfigurationError, match=r"line 4: not NAME=value"):
        read_env_file(env_file)
    env_file.write_text("OPEN='never closed\n")
    with pytest.raises(ConfigurationError, match=r"line 1"):
        read_env_file(env_file)


def test_simulate_with_references_imports_neither_boto3_nor_aws_cdk(project: Path) -> None:
    (project / ".env").write_text("API_URL=u\nDB_PASSWORD=p\n")
    assert modules_loaded_by(["simulate", str(project)], "aws_cdk", "jsii", "boto3") == []


def test_the_ui_runs_with_the_env_file_and_says_which_value_is_missing(project: Path) -> None:
    from starlette.testclient import TestClient

    from attak_cdk.ui.app import create_app
    from tests.functional.test_ui_api import parse_events

    web = TestClient(create_app(project))
    response = web.post("/api/run", json={"input": '{"parse": 1}'})
    assert response.status_code == 400
    assert "DB_PASSWORD references field 'password'" in response.json()["error"]

    env_file = project / "ui.env"
    env_file.write_text("API_URL=https://ui\nDB_PASSWORD=ui-pw\n")
    web = TestClient(create_app(project, env_file=env_file))
    with web.stream("POST", "/api/run", json={"input": '{"parse": 1}'}) as streamed:
        assert streamed.status_code == 200
        events = parse_events("".join(streamed.iter_text()))
    (end,) = [data for kind, data in events if kind == "end"]
    assert end["ok"], end
    (seen,) = end["emitted"]["parse"]["seen"]
    assert (seen["api_url"], seen["db_password"]) == ("https://ui", "ui-pw")


LAMBDA_HANDLER = """
import os

# At the module's top level: the runtime must have read it before importing this module.
API_URL = os.environ["API_URL"]


def handler(event, context):
    return None
"""


def test_in_lambda_the_values_are_read_before_the_handlers_module_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import boto3
    from botocore.stub import Stubber

    from attak_cdk.runtime import config, handler

    (tmp_path / "configured_handler.py").write_text(LAMBDA_HANDLER)
    (tmp_path / config.ROUTES_FILE).write_text('{"routes": [], "retries": {}}')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(config.ENV_HANDLER, "configured_handler:handler")
    monkeypatch.setenv(config.ENV_PROCESSOR, "parse")
    monkeypatch.setenv(config.ENV_CONFIG, '{"API_URL":{"ssm":"/clickstream/api-url"}}')
    monkeypatch.delenv(config.ENV_DEAD_LETTERS, raising=False)
    ssm = boto3.client("ssm")
    stub = Stubber(ssm)
    stub.add_response(
        "get_parameters",
        {"Parameters": [{"Name": "/clickstream/api-url", "Value": "https://cold-start"}]},
        {"Names": ["/clickstream/api-url"], "WithDecryption": True},
    )
    real_client = boto3.client
    monkeypatch.setattr(
        boto3,
        "client",
        lambda service, **kw: ssm if service == "ssm" else real_client(service, **kw),
    )
    monkeypatch.delitem(sys.modules, "configured_handler", raising=False)
    with stub:
        runner = handler._runner_from_environment()
    stub.assert_no_pending_responses()
    assert sys.modules["configured_handler"].API_URL == "https://cold-start"
    assert runner.processor == "parse"
    monkeypatch.delitem(sys.modules, "configured_handler")


def test_invoke_gives_the_processor_its_own_environment_and_local_values(project: Path) -> None:
    from attak_cdk.testing import invoke

    emitted = invoke(project, "parse", 1, environment={"API_URL": "u", "DB_PASSWORD": "p"})
    assert emitted == {"seen": [{"api_url": "u", "db_password": "p", "stage": "test"}]}
    # The sink references nothing: parse's missing values do not stop it.
    assert invoke(project, "sink", 1) == {
        "env": [{"API_URL": "http://plain.example", "STAGE": None, "DB_PASSWORD": None}]
    }
