"""``http:`` on an entry processor: read and checked, answered by the runtime, posted to by
``attak trigger``, and priced by ``attak plan``.

The runtime is driven with function URL events as Lambda builds them (payload format 2.0).
``attak trigger``'s requests go to a local HTTP server on 127.0.0.1, started here, that
checks each request's SigV4 signature (service ``lambda``) the way Lambda does, by
computing it again with the same credentials, then answers as a function URL does: by
running attak's runtime on the request made into a function URL event. (moto runs no
Lambda code, and its CloudFormation makes no function URLs: the stack is checked in
``test_synth_http.py``.)
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from attak_cdk.errors import TopologyError
from attak_cdk.inputs import InputEvent
from attak_cdk.live import trigger
from attak_cdk.live.connection import LiveError
from attak_cdk.live.deployment import Deployment
from attak_cdk.live.url import UrlClient
from attak_cdk.manifest import DeployedProcessor
from attak_cdk.project import check_topology, check_topology_plan
from attak_cdk.runtime.context import Emit, Routes
from attak_cdk.runtime.envelope import decode
from attak_cdk.runtime.handler import Runner, handle_event
from tests.conftest import PASS_ON, SINK, WriteProject

REGION = "eu-west-1"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


# --- the topology key --------------------------------------------------------------------

HANDLERS = {"p/entry.py": PASS_ON, "p/sink.py": SINK}


def test_http_true_is_an_iam_endpoint_and_a_mapping_sets_auth_cors_reason(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            **HANDLERS,
            "topology.yml": """
            name: hooks
            processors:
              signed: {handler: p/entry.py, http: true}
              public:
                handler: p/entry.py
                http: {auth: none, cors: [https://app.example.com], reason: payment webhook}
              sink: p/sink.py
            streams:
              - [signed, sink]
              - [public, sink]
            """,
        }
    )
    topology, _ = check_topology(root)
    signed, public = topology.processors["signed"].http, topology.processors["public"].http
    assert signed is not None and public is not None
    assert (signed.auth, signed.cors, signed.words) == ("iam", (), "HTTPS endpoint, IAM auth")
    assert signed.where == "processors.signed.http"
    assert (public.auth, public.cors, public.reason) == (
        "none",
        ("https://app.example.com",),
        "payment webhook",
    )
    assert topology.processors["sink"].http is None


def test_every_bad_http_is_reported_at_its_path_all_at_once(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "topology.yml": """
            name: hooks
            processors:
              entry: p/entry.py
              fed: {handler: p/sink.py, http: true}
              badauth: {handler: p/entry.py, http: {auth: public}}
              noreason: {handler: p/entry.py, http: {auth: none}}
              badcors: {handler: p/entry.py, http: {cors: [app.example.com/path], method: GET}}
              notabool: {handler: p/entry.py, http: yes please}
            streams:
              - [entry, fed]
            """,
        }
    )
    with pytest.raises(TopologyError) as caught:
        check_topology(root)
    found = {i.path: i.message for i in caught.value.issues if i.severity == "error"}
    assert all(i.file.endswith("topology.yml") for i in caught.value.issues)
    assert "is fed by streams (streams[0] from entry)" in found["processors.fed.http"]
    assert "an entry processor only" in found["processors.fed.http"]
    assert "must be iam or none (given 'public')" in found["processors.badauth.http.auth"]
    assert "needs a reason" in found["processors.noreason.http.reason"]
    assert "an origin is a scheme and host" in found["processors.badcors.http.cors[0]"]
    assert "unknown key 'method'" in found["processors.badcors.http.method"]
    assert "must be true, or a mapping" in found["processors.notabool.http"]
    assert len(found) == 6


def test_a_bad_http_exits_1_naming_file_and_path(write_project: WriteProject) -> None:
    import subprocess
    import sys

    root = write_project(
        {
            **HANDLERS,
            "topology.yml": "name: h\nprocessors:\n  e: {handler: p/entry.py, http: {auth: none}}\n",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(root)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1
    assert "topology.yml" in done.stderr and "processors.e.http.reason" in done.stderr


def test_the_plan_prices_the_endpoint_at_no_charge_beyond_its_requests(
    write_project: WriteProject,
) -> None:
    from attak_cdk.plan.cost import plan_topology
    from attak_cdk.plan.prices import read_prices

    root = write_project(
        {
            **HANDLERS,
            "topology.yml": """
            name: hooks
            processors:
              entry: {handler: p/entry.py, http: true}
              sink: p/sink.py
            streams:
              - [entry, sink]
            plan: {rate: 40/s}
            """,
        }
    )
    planned = check_topology_plan(root)
    plan = plan_topology(planned.topology, planned.assumptions, read_prices())
    (line,) = [line for line in plan.lines if line.item == "Lambda function URLs"]
    assert (line.idle, line.at_load) == (0, 0)
    assert "no charge beyond their invocations" in line.detail
    assert "40 requests a second" in line.detail
    entry = next(p for p in plan.processors if p.name == "entry")
    assert entry.invocations_per_second == 40  # priced in the Lambda lines, a request each


# --- the runtime ---------------------------------------------------------------------------


class ListTransport:
    def __init__(self) -> None:
        self.emits: list[Emit] = []

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.emits.extend(emits)


class LambdaContext:
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def runner(seen: list[Any]) -> Runner:
    def handler(event: Any, context: Any) -> None:
        seen.append((event, context.trace_id))
        if isinstance(event, dict) and event.get("fail"):
            raise RuntimeError("secret detail " + str(event["fail"]))
        context.emit("out", event)

    return Runner(
        handler=handler,
        processor="hook",
        topology="hooks",
        routes=Routes([{"stream": "hook-out", "topic": None, "to": "sink"}]),
        transport=ListTransport(),
        max_hops=5,
    )


def url_event(body: str | bytes, *, method: str = "POST", encoded: bool = False) -> dict[str, Any]:
    """A function URL's request as Lambda hands it to the function (payload format 2.0)."""
    if encoded:
        raw = body if isinstance(body, bytes) else body.encode()
        body = base64.b64encode(raw).decode()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "x.lambda-url.on.aws"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "x",
            "domainName": "x.lambda-url.eu-west-1.on.aws",
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "::1"},
            "requestId": "r-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:17:00:00 +0000",
            "timeEpoch": 1796317200000,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("body", "encoded", "events"),
    [
        ('{"user": "ada"}', False, [{"user": "ada"}]),
        ('[{"n": 1}, {"n": 2}, [3]]', False, [{"n": 1}, {"n": 2}, [3]]),
        ('{"n": 1}\n\n{"n": 2}\n', False, [{"n": 1}, {"n": 2}]),
        ('"text"', True, ["text"]),
    ],
    ids=["one-object", "json-list", "json-lines", "base64"],
)
def test_a_request_body_runs_as_events_answered_200_with_their_traces(
    body: str, encoded: bool, events: list[Any]
) -> None:
    seen: list[Any] = []
    status, document = answer(
        handle_event(runner(seen), url_event(body, encoded=encoded), LambdaContext())
    )
    assert status == 200
    assert [event for event, _ in seen] == events
    assert document["outcome"] == "ok"
    assert document["traces"] == [trace for _, trace in seen]  # what `attak logs --trace` takes
    assert len(set(document["traces"])) == len(events)


def test_an_input_envelope_keeps_the_trace_the_caller_gave() -> None:
    seen: list[Any] = []
    body = json.dumps([{"v": 1, "trace": "t-given", "log": 1, "data": {"n": 1}}])
    status, document = answer(handle_event(runner(seen), url_event(body), LambdaContext()))
    assert (status, document["traces"], seen) == (200, ["t-given"], [({"n": 1}, "t-given")])


@pytest.mark.parametrize(
    ("request_event", "status", "words"),
    [
        (url_event("not json"), 400, "the body is not JSON"),
        (url_event('{"n": 1}\nnot json'), 400, "line 2 is not a JSON event"),
        (url_event(""), 400, "the body is empty"),
        (url_event("[]"), 400, "an empty list"),
        (url_event(b"\xff\xfe", encoded=True), 400, "not UTF-8"),
        (url_event('{"n": 1}', method="GET"), 405, "send events with POST"),
    ],
    ids=["not-json", "bad-line", "empty", "empty-list", "not-utf8", "get"],
)
def test_a_request_that_cannot_be_read_is_refused_and_nothing_runs(
    request_event: dict[str, Any], status: int, words: str
) -> None:
    seen: list[Any] = []
    given = runner(seen)
    letters: list[Any] = []
    given.dead_letters = type("Letters", (), {"send": lambda *a: letters.append(a)})()
    got, document = answer(handle_event(given, request_event, LambdaContext()))
    assert (got, seen, letters) == (status, [], [])
    assert words in document["error"]


def test_a_failing_event_answers_500_naming_the_done_failed_and_unrun_events() -> None:
    seen: list[Any] = []
    given = runner(seen)
    body = json.dumps([{"n": 1}, {"fail": "x"}, {"n": 3}])
    status, document = answer(handle_event(given, url_event(body), LambdaContext()))
    assert status == 500
    traces = [trace for _, trace in seen]
    assert document["done"] == traces[:1] and document["failed"] == traces[1]
    assert len(document["not_run"]) == 1 and document["not_run"][0] not in traces
    assert "event 1 failed: the handler raised RuntimeError" in document["error"]
    assert "secret detail" not in document["error"]  # a public caller reads the answer
    assert f"attak logs --trace {traces[1]}" in document["error"]
    transport = given.transport
    assert isinstance(transport, ListTransport)
    assert [decode(e.payload, "")["data"] for e in transport.emits] == [{"n": 1}]


def test_a_direct_invocation_is_answered_as_before() -> None:
    seen: list[Any] = []
    assert handle_event(runner(seen), {"n": 1}, LambdaContext()) == {
        "processor": "hook",
        "outcome": "ok",
    }
    assert seen == [({"n": 1}, "req-1")]


# --- attak trigger, through a local function URL --------------------------------------------


class FunctionUrl:
    """A local stand-in for a function URL: Lambda's SigV4 check, then attak's runtime."""

    def __init__(self, credentials: Credentials | None, region: str = REGION) -> None:
        self.credentials = credentials
        self.region = region
        self.seen: list[Any] = []
        self.runner = runner(self.seen)
        self.requests: list[dict[str, str]] = []
        self.status_override: int | None = None
        url = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                url.requests.append(headers)
                if url.status_override is not None:
                    self.reply(url.status_override, {"Message": "Too Many Requests"})
                elif url.credentials is not None and not url.signed(self.path, headers, body):
                    self.reply(403, {"Message": "Forbidden"})
                else:
                    response = handle_event(url.runner, url_event(body.decode()), LambdaContext())
                    self.reply(response["statusCode"], json.loads(response["body"]))

            def reply(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def signed(self, path: str, headers: dict[str, str], body: bytes) -> bool:
        """Whether the request carries a valid SigV4 signature for ``lambda`` in
        ``REGION`` by ``credentials``: computed again from the headers it signed."""
        authorization = headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return False
        fields = dict(
            part.strip().split("=", 1)
            for part in authorization[len("AWS4-HMAC-SHA256 ") :].split(",")
        )
        _, day, region, service, terminal = fields["Credential"].split("/")
        if (region, service, terminal) != (self.region, "lambda", "aws4_request"):
            return False
        signed_names = fields["SignedHeaders"].split(";")
        request = AWSRequest(
            method="POST",
            url=f"http://{headers['host']}{path}",
            data=body,
            headers={name: headers[name] for name in signed_names},
        )
        request.context["timestamp"] = headers["x-amz-date"]
        assert self.credentials is not None
        auth = SigV4Auth(self.credentials, "lambda", self.region)
        expected = auth.signature(
            auth.string_to_sign(request, auth.canonical_request(request)), request
        )
        return bool(fields["Signature"] == expected and day == headers["x-amz-date"][:8])

    def __enter__(self) -> FunctionUrl:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def function_url() -> Iterator[FunctionUrl]:
    with FunctionUrl(CREDENTIALS) as url:
        yield url


def deployment(url: str, auth: str = "iam") -> Deployment:
    processors = {
        "hook": DeployedProcessor("hook", "fn-hook", "/aws/lambda/hook", url=url, url_auth=auth),
        "plain": DeployedProcessor("plain", "fn-plain", "/aws/lambda/plain"),
    }
    return Deployment("hooks", ("hooks",), processors)


def send(url: str, events: list[Any], credentials: Credentials, **options: Any) -> list[Any]:
    planned = trigger.plan(deployment(url), [InputEvent("hook", e) for e in events])
    client = UrlClient(credentials, REGION, sleep=lambda _: None)
    return trigger.send(planned, None, None, urls=client, **options)


def test_trigger_posts_to_the_url_signed_for_lambda_and_each_event_keeps_its_trace(
    function_url: FunctionUrl,
) -> None:
    deliveries = send(function_url.url, [{"n": 1}, {"n": 2}], CREDENTIALS)
    assert [(d.via, d.sent, d.error) for d in deliveries] == [("url", True, None)] * 2
    assert [trace for _, trace in function_url.seen] == [d.trace for d in deliveries]
    assert [event for event, _ in function_url.seen] == [{"n": 1}, {"n": 2}]
    (headers,) = function_url.requests  # one request carries both events
    assert "/eu-west-1/lambda/aws4_request" in headers["authorization"]


def test_trigger_batches_events_into_requests_of_at_most_URL_BATCH_EVENTS(
    function_url: FunctionUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trigger, "URL_BATCH_EVENTS", 2)
    deliveries = send(function_url.url, [{"n": n} for n in range(5)], CREDENTIALS)
    assert all(d.sent and d.error is None for d in deliveries)
    assert len(function_url.requests) == 3
    assert sorted(e["n"] for e, _ in function_url.seen) == list(range(5))


def test_a_refused_signature_is_a_clear_403_and_nothing_runs(function_url: FunctionUrl) -> None:
    wrong = Credentials("AKIDEXAMPLE", "not-the-secret")
    (delivery,) = send(function_url.url, [{"n": 1}], wrong)
    assert not delivery.sent and function_url.seen == []
    assert delivery.error is not None
    assert "refused the signed request (403 Forbidden)" in delivery.error
    assert "lambda:InvokeFunctionUrl and lambda:InvokeFunction" in delivery.error


def test_a_public_url_is_posted_to_unsigned() -> None:
    with FunctionUrl(None) as url:
        planned = trigger.plan(deployment(url.url, "none"), [InputEvent("hook", 1)])
        client = UrlClient(CREDENTIALS, REGION)
        (delivery,) = trigger.send(planned, None, None, urls=client, public=frozenset([url.url]))
        assert delivery.sent and delivery.error is None
        assert "authorization" not in url.requests[0]


def test_a_failing_event_fails_alone_and_those_after_it_are_not_run(
    function_url: FunctionUrl,
) -> None:
    deliveries = send(function_url.url, [{"n": 1}, {"fail": "x"}, {"n": 3}], CREDENTIALS)
    assert [d.sent for d in deliveries] == [True, True, True]
    assert deliveries[0].error is None
    assert (
        deliveries[1].error is not None and "the handler raised RuntimeError" in deliveries[1].error
    )
    assert deliveries[2].error == "not run: an earlier event of its request failed"


def test_throttling_is_retried_then_said(function_url: FunctionUrl) -> None:
    function_url.status_override = 429
    (delivery,) = send(function_url.url, [{"n": 1}], CREDENTIALS)
    assert len(function_url.requests) == 8  # every attempt, then the message
    assert not delivery.sent and delivery.error is not None
    assert "kept throttling the requests (429)" in delivery.error


def test_a_url_nothing_answers_at_is_a_clear_message() -> None:
    with FunctionUrl(CREDENTIALS) as url:
        closed = url.url
    (delivery,) = send(closed, [{"n": 1}], CREDENTIALS)
    assert not delivery.sent and delivery.error is not None
    assert delivery.error.startswith("could not reach the HTTPS endpoint at 127.0.0.1:")


def test_http_chooses_the_url_or_a_direct_invoke_and_refuses_a_processor_without_one() -> None:
    deployed = deployment("https://x.lambda-url.eu-west-1.on.aws/")
    hook, plain = InputEvent("hook", 1), InputEvent("plain", 1)
    assert [d.via for d in trigger.plan(deployed, [hook, plain])] == ["url", "invoke"]
    assert [d.via for d in trigger.plan(deployed, [hook], http=False)] == ["invoke"]
    with pytest.raises(
        LiveError, match=r"processor 'plain' has no HTTPS endpoint .* with one: hook"
    ):
        trigger.plan(deployed, [plain], http=True)


def test_attak_trigger_posts_the_input_file_through_the_url_with_the_sessions_credentials(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command signs with the credentials and region of its AWS session."""
    from typer.testing import CliRunner

    from attak_cdk.live import deployment as live_deployment
    from cli.main import app

    root = write_project(
        {
            **HANDLERS,
            "topology.yml": "name: hooks\nprocessors:\n  hook: {handler: p/entry.py, http: true}\n",
            "events.jsonl": '{"processor": "hook", "data": {"n": 1}}\n'
            '{"processor": "hook", "data": {"n": 2}}\n',
        }
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSESSION")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "session-secret")
    with FunctionUrl(Credentials("AKIDSESSION", "session-secret"), "ap-south-1") as url:
        processors = {
            "hook": DeployedProcessor("hook", "fn", "/aws/lambda/fn", url=url.url, url_auth="iam")
        }
        found = Deployment("hooks", ("hooks",), processors)
        monkeypatch.setattr(live_deployment, "find_deployment", lambda *a, **k: found)
        done = CliRunner().invoke(
            app,
            [
                *("trigger", str(root), "--input", str(root / "events.jsonl")),
                *("--region", "ap-south-1", "--json", "--no-follow"),
            ],
        )
        assert done.exit_code == 0, done.output
        document = json.loads(done.stdout)
        assert [e["via"] for e in document["events"]] == ["url", "url"]
        assert [event for event, _ in url.seen] == [{"n": 1}, {"n": 2}]


def test_a_changed_endpoint_is_a_difference_from_the_deployed_topology(
    write_project: WriteProject,
) -> None:
    from attak_cdk.live.deployment import differences

    root = write_project(
        {**HANDLERS, "topology.yml": "name: hooks\nprocessors:\n  hook: {handler: p/entry.py}\n"}
    )
    topology, _ = check_topology(root)
    deployed = Deployment(
        "hooks",
        ("hooks",),
        {"hook": DeployedProcessor("hook", "fn", "g", url="https://u/", url_auth="iam")},
    )
    assert differences(topology, deployed) == [
        "processor 'hook': its HTTPS endpoint (http:) changed"
    ]
