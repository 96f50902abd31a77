"""A processor's ``http:``: an HTTPS endpoint into an entry processor, as plain data.

An entry processor written ``http: true`` (or ``http: {auth, cors, reason}``) gets a Lambda
function URL: an HTTPS endpoint that is part of Lambda itself, with no service between
the caller and the function and no charge beyond the invocation it makes. Its auth is
``iam`` by default (AWS_IAM: every request signed with SigV4 by a principal allowed
``lambda:InvokeFunctionUrl``), or ``none`` (a public endpoint), which needs a ``reason``
the way a wildcard grant does: the reason is shown to reviewers and acknowledged to
cdk-nag with the user's words.
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html

A function URL invokes the function once per request, synchronously: right for moderate
rates (webhooks, forms, a service posting now and then). Past Lambda's scaling rate
(1,000 more execution environments every 10 seconds per function, each busy for the
whole request: https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html),
requests are refused with 429; high rates belong in an ingest stream (``input: stream``)
that the producer writes with PutRecords, which Lambda reads in batches.

The loader reads ``http:`` with ``read_http`` (every problem an ``Issue`` at its path);
``validate`` refuses it on a processor that streams feed; the CDK layer makes the URL.
Nothing here imports ``aws_cdk``: simulate feeds an http entry from the input file like
any other entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import did_you_mean
from .settings import shown

AUTH = ("iam", "none")
"""``iam``: Lambda checks each request's SigV4 signature (AWS_IAM); ``none``: public."""
KEYS = {
    "auth": f"who may call the endpoint: {' or '.join(AUTH)} (default iam: requests signed "
    "with SigV4 by a principal allowed lambda:InvokeFunctionUrl)",
    "cors": "the origins a browser may call it from (https://app.example.com, or *)",
    "reason": "why the endpoint is public: required with auth: none",
}
# The CORS origins a function URL accepts: up to 100, each 1 to 253 characters, a scheme
# and host (with a port) or the wildcard.
# https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html
MAX_ORIGINS = 100
ORIGIN = re.compile(r"^(\*|https?://[A-Za-z0-9*.-]+(:\d{1,5})?)$")
MAX_ORIGIN = 253


@dataclass(frozen=True)
class HttpEndpoint:
    """The function URL of an entry processor: its auth, CORS origins, and where written."""

    auth: str = "iam"
    cors: tuple[str, ...] = ()
    """Origins allowed to call it from a browser; empty: no CORS headers (any non-browser
    caller still may)."""
    reason: str = ""
    """The user's reason for a public endpoint (``auth: none``)."""
    where: str = ""

    @property
    def public(self) -> bool:
        return self.auth == "none"

    @property
    def words(self) -> str:
        """What the endpoint is, as a review says it."""
        return "HTTPS endpoint, public (no auth)" if self.public else "HTTPS endpoint, IAM auth"


Report = Callable[[str, str, str], None]
"""``issue(code, path, message)``, as the loader collects problems."""


def read_http(data: Any, where: str, issue: Report) -> HttpEndpoint | None:
    """``http:`` at ``where``: ``true``/``false``, or a mapping of ``KEYS``. Every problem
    is reported through ``issue``; ``None`` when there is no endpoint (or it is broken)."""
    if data is None or data is False:
        return None
    if data is True:
        return HttpEndpoint(where=where)
    if not isinstance(data, dict):
        issue(
            "invalid-http",
            where,
            "must be true, or a mapping with auth, cors and reason, e.g. "
            f"http: {{auth: iam}} (given {shown(data)})",
        )
        return None
    ok = True
    for key in data:
        if key not in KEYS:
            ok = False
            issue(
                "invalid-http",
                f"{where}.{key}",
                f"unknown key '{key}'{did_you_mean(str(key), KEYS)} "
                f"(allowed here: {', '.join(KEYS)})",
            )
    auth = data.get("auth", "iam")
    if auth not in AUTH:
        ok = False
        issue(
            "invalid-http",
            f"{where}.auth",
            f"must be {' or '.join(AUTH)} (given {shown(auth)}): iam lets only signed "
            "requests in, none makes a public endpoint",
        )
    cors = _origins(data.get("cors"), f"{where}.cors", issue)
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        ok = False
        issue("invalid-http", f"{where}.reason", f"must be text (given {shown(reason)})")
        reason = ""
    if auth == "none" and not reason.strip():
        ok = False
        issue(
            "invalid-http",
            f"{where}.reason",
            "a public endpoint (auth: none) needs a reason: anyone who finds the URL can "
            "invoke the function, and pay for it; say why (it is shown to reviewers and "
            "acknowledged to cdk-nag with your words), or use auth: iam",
        )
    if not ok or cors is None:
        return None
    return HttpEndpoint(auth=str(auth), cors=cors, reason=reason.strip(), where=where)


def _origins(value: Any, path: str, issue: Report) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_ORIGINS:
        issue(
            "invalid-http",
            path,
            f"must be a list of 1 to {MAX_ORIGINS} origins, e.g. [https://app.example.com] "
            f"(given {shown(value)})",
        )
        return None
    ok = True
    for index, origin in enumerate(value):
        if not (isinstance(origin, str) and len(origin) <= MAX_ORIGIN and ORIGIN.match(origin)):
            ok = False
            issue(
                "invalid-http",
                f"{path}[{index}]",
                "an origin is a scheme and host, with a port if any, and no path "
                f"(https://app.example.com, http://localhost:3000) or * (given {shown(origin)})",
            )
    return tuple(str(o) for o in value) if ok else None
