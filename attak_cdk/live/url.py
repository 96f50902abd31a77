"""Posts input events to a processor's function URL (``http:``), signed with SigV4.

A function URL with AWS_IAM auth takes a request only when it is signed with Signature
Version 4 for the service ``lambda`` in the function's region, by a principal allowed
``lambda:InvokeFunctionUrl`` and ``lambda:InvokeFunction`` on it; a public one (auth
``none``) takes any request, so nothing is signed for it.
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html

The request is signed with botocore's own ``SigV4Auth`` and sent with the standard
library's ``urllib``: no HTTP client beyond what boto3 brings. Every failure comes back as
an ``Answer`` whose ``error`` says, in words, what happened and what to do: a refused
signature (403), the runtime's own 400 and 500 answers, throttling that outlasted the
retries (429), a URL nothing answers at.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .connection import backoff

SERVICE = "lambda"
"""The service name a function URL's SigV4 signature is made for."""
THROTTLED = 429
"""Lambda answers 429 when the function cannot scale to the request: it did not run, so
it is sent again after a pause (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)."""


@dataclass(frozen=True)
class Answer:
    """What a function URL answered: the HTTP status, its JSON document (or text), and
    what went wrong, in words, when the request did not succeed."""

    status: int | None
    document: Any = None
    error: str | None = None


class UrlClient:
    """Posts JSON bodies to function URLs: signed for ``region`` with ``credentials``
    (botocore's, from the session) unless told the URL is public."""

    def __init__(
        self,
        credentials: Any,
        region: str,
        *,
        timeout: float = 60.0,
        attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.region = region
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep

    def post(self, url: str, body: bytes, *, signed: bool) -> Answer:
        """POST ``body`` to ``url``, sending it again while Lambda throttles it (429)."""
        for attempt in range(1, self.attempts + 1):
            answer = self._post_once(url, body, signed)
            if answer.status != THROTTLED or attempt == self.attempts:
                return answer
            self.sleep(backoff(attempt))
        raise AssertionError("unreachable")  # the loop returns

    def _post_once(self, url: str, body: bytes, signed: bool) -> Answer:
        headers = {"content-type": "application/json"}
        if signed:
            headers = self.signed_headers(url, body, headers)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, _document(response.read()))
        except urllib.error.HTTPError as exc:
            document = _document(exc.read())
            return Answer(exc.code, document, _refusal(exc.code, document, signed))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            host = urlsplit(url).netloc or url
            return Answer(
                None,
                error=f"could not reach the HTTPS endpoint at {host} ({reason}): check the "
                "network, or deploy again if the stack was replaced",
            )

    def signed_headers(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with a SigV4 signature for ``lambda`` in the client's region."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(self.credentials, SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def _document(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _said(document: Any) -> str:
    """The message an answer's document holds: the runtime's ``error``, AWS's
    ``Message``, or the text itself."""
    if isinstance(document, dict):
        for key in ("error", "Message", "message"):
            if isinstance(document.get(key), str):
                return str(document[key])
        return json.dumps(document)
    return str(document or "").strip()[:300]


def _refusal(status: int, document: Any, signed: bool) -> str:
    """A refused request, in words, with what to do."""
    said = _said(document)
    quoted = f" ({said})" if said else ""
    if status == 403:
        if not signed:
            return (
                f"the HTTPS endpoint refused the request (403 Forbidden){quoted}: the manifest "
                "says it is public, but it asks for a signature; deploy again (`attak deploy`)"
            )
        return (
            f"the HTTPS endpoint refused the signed request (403 Forbidden){quoted}: the "
            "credentials need lambda:InvokeFunctionUrl and lambda:InvokeFunction on the "
            "processor's function, and must be for the region the stack is in (--region, "
            "--profile)"
        )
    if status == THROTTLED:
        return (
            f"Lambda kept throttling the requests (429){quoted} after retries: the function "
            "could not scale to them; send fewer at once, or use input: stream for high rates"
        )
    if status == 413:
        return f"the request was too large for a function URL (413){quoted}: send smaller events"
    if 400 <= status < 500:
        return f"the HTTPS endpoint refused the request ({status}){quoted}"
    if status == 502:
        return (
            f"the function failed as a whole (502){quoted}: a timeout, a crash, or emits "
            "that could not be written; read its log with `attak logs`"
        )
    return f"the HTTPS endpoint answered {status}{quoted}"
