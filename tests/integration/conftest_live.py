"""A moto server on a free loopback port, for the live-topology tests (import the fixture).

moto answers CloudFormation, Lambda (without running code: it has no Docker here),
Kinesis, CloudWatch Logs, STS, S3 and the rest on one port, like AWS would at
``--endpoint-url``. The server runs for one test module and is stopped after it, but for
``shared_moto_server``: one server for the whole run, where ``deployed_sample`` deploys the
sample topology once (the cdk CLI's bootstrap and deploy are most of a live test's time).
Modules that use it (``sample``) leave it as they found it: their log lines are removed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.envelope import Envelope, decode
from cli.main import app
from tests.conftest import SAMPLE

Client = Callable[[str], Any]
"""A boto3 client of the emulator by service name: ``aws("logs")``."""
MOTO_SERVER = Path(sys.executable).parent / "moto_server"
CLEAN_AWS_ENVIRONMENT = {
    # No real credentials or profile can leak in: attak must fill in the placeholders.
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_REGION": None,
    "AWS_DEFAULT_REGION": None,
    "AWS_ENDPOINT_URL": None,
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def clean_aws_environment() -> Iterator[None]:
    """The process environment of a machine with no AWS configuration at all."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CLEAN_AWS_ENVIRONMENT.items():
            if value is None:
                patch.delenv(key, raising=False)
            else:
                patch.setenv(key, value)
        yield


@pytest.fixture(scope="module")
def aws_environment() -> Iterator[None]:
    """The process environment of a machine with no AWS configuration at all."""
    with clean_aws_environment():
        yield


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``moto_server`` on 127.0.0.1; yield its URL on ``localhost``; stop it."""
    yield from serve_moto(tmp_path_factory)


@pytest.fixture(scope="session")
def shared_moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server for the whole run: the one the sample is deployed into once."""
    yield from serve_moto(tmp_path_factory)


@pytest.fixture(scope="session")
def deployed_sample(
    shared_moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The sample topology deployed into the shared server (bootstrapping it first), once
    per run; its manifest. Tests read and trigger it but never change or destroy it."""
    with clean_aws_environment():
        DEPLOY_SECONDS[str(SAMPLE)] = deploy(
            SAMPLE, shared_moto_server, tmp_path_factory.mktemp("sample.out")
        )
    return manifest(client_of(shared_moto_server), "attak-example")


@pytest.fixture(scope="module")
def sample(
    deployed_sample: dict[str, Any], aws: Client, aws_environment: None
) -> Iterator[dict[str, Any]]:
    """The deployed sample's manifest, for a module on the shared server (and the process
    environment of a machine with no AWS configuration for its tests); the log lines
    the module's tests wrote or caused (moto logs each invocation) are removed after it,
    so the next module reads only its own."""
    yield deployed_sample
    logs = aws("logs")
    for processor in deployed_sample["processors"].values():
        group = processor["log_group"]
        for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
            logs.delete_log_stream(logGroupName=group, logStreamName=stream["logStreamName"])


DEPLOY_SECONDS: dict[str, float] = {}
"""How long each deploy took, by topology folder: printed by the tests that deploy."""


def serve_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``moto_server`` on 127.0.0.1; yield its URL on ``localhost``; stop it."""
    if not MOTO_SERVER.is_file():
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_LOG_LEVEL": "WARNING"},
        )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def aws(moto_server: str) -> Client:
    """boto3 clients of the module's moto server, as a test reads and writes AWS itself."""
    return client_of(moto_server)


def client_of(endpoint: str) -> Client:
    """boto3 clients of the moto server at ``endpoint``, by service name."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def invocation_attempts(aws: Client, function: str) -> int:
    """How many invocations moto attempted for ``function`` (it logs each one)."""
    logs = aws("logs")
    try:
        return len(logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"])
    except logs.exceptions.ResourceNotFoundException:
        return 0


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def read_stream(aws: Client, stream: str) -> list[dict[str, Any]]:
    """Every record in a Kinesis stream of the emulator, shard by shard."""
    kinesis = aws("kinesis")
    records = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(kinesis.get_records(ShardIterator=iterator)["Records"])
    return records


def landed_events(aws: Client, stream: str) -> dict[tuple[str, str, int], Envelope]:
    """Every event in a Kinesis stream of the emulator, unpacked from its records (KPL
    aggregates, compressed or not), by where it is: (shard id, sequence number, index
    inside the record), as ``attak trigger`` reports it."""
    kinesis = aws("kinesis")
    events = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator)["Records"]:
            unpacked = unpack(record["Data"], record["PartitionKey"])
            for index, (_, data) in enumerate(unpacked):
                place = (shard["ShardId"], record["SequenceNumber"], index)
                events[place] = decode(data, "")
    return events


def landing(event: dict[str, Any]) -> tuple[str, str, int]:
    """Where ``attak trigger --json`` says one streamed event landed."""
    result = event["result"]
    return (result["shard"], result["sequence"], result["index"])


def record_line(processor: str, trace: str, topic: str | None, outcome: str = "ok") -> str:
    """The structured line the runtime writes after each record (handler.log_record)."""
    line = {"attak": "record", "processor": processor, "trace": trace, "topic": topic,
            "sequence": "1", "outcome": outcome, "emits": [], "ms": 1.5}  # fmt: skip
    if outcome == "error":
        line["error"] = "ValueError: boom"
    return json.dumps(line)


def write_log_lines(aws: Client, lines: dict[str, list[str]], start: int) -> None:
    """Write each log group's lines as one Lambda execution environment would: a log
    stream per group, lines a millisecond apart, each group a second after the one before."""
    logs = aws("logs")
    for offset, (group, messages) in enumerate(lines.items()):
        logs.create_log_stream(logGroupName=group, logStreamName="2026/11/27/[$LATEST]abc")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="2026/11/27/[$LATEST]abc",
            logEvents=[
                {"timestamp": start + 1000 * offset + i, "message": message}
                for i, message in enumerate(messages)
            ],
        )


def attak(*arguments: str) -> Result:
    """Run the attak CLI in this process, as a user would type it."""
    return CliRunner().invoke(app, list(arguments))


def deploy(folder: Path, endpoint: str, output: Path) -> float:
    """`attak deploy` the topology in ``folder`` into the emulator; the seconds it took."""
    started = time.perf_counter()
    result = attak("deploy", str(folder), "--endpoint-url", endpoint, "--", f"--output={output}")
    assert result.exit_code == 0, result.output
    return time.perf_counter() - started


def manifest(aws: Client, stack: str) -> dict[str, Any]:
    """The attak manifest output of a deployed stack (a whole one, or a part)."""
    (described,) = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    return dict(json.loads(outputs["Manifest"]))
