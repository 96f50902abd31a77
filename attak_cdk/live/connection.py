"""How attak reaches a deployed topology: account, region, profile and endpoint, via boto3.

``--region``, ``--profile`` and ``--endpoint-url`` become one ``Connection``; ``trigger``,
``logs`` and the cdk commands all read it. With an endpoint (a local AWS emulator such as
moto server) and no credentials anywhere, placeholder credentials are used, because an
emulator accepts any; against AWS itself nothing is made up.

Every botocore failure a user can act on (no credentials, nothing answering at the
endpoint, throttling that outlasted the retries, access denied) becomes a ``LiveError``
here, in ``Connection.errors``, so no command shows a traceback.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from ..errors import NO_CREDENTIALS, AttakError, UsageError, endpoint_problem

EMULATOR_ACCOUNT = "123456789012"
"""The account moto (and LocalStack) report for any credentials."""
EMULATOR_REGION = "us-east-1"
PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""What an emulator is given when the user has no credentials: it checks none."""

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
    }
)
RETRYABLE_CODES = THROTTLING_CODES | {
    "InternalFailure",
    "InternalServerError",
    "ServiceException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)

T = TypeVar("T")


class LiveError(AttakError):
    """A deployed topology cannot be reached, found or used."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def error_text(exc: BaseException) -> str:
    """``Code: message`` of a ``ClientError``, else the exception's own text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        details = response["Error"]
        return f"{details.get('Code', '')}: {details.get('Message', '')}".strip(": ")
    return str(exc) or type(exc).__name__


def emulator_endpoint(url: str) -> str:
    """``url`` with ``127.0.0.1`` written as ``localhost``: moto reads the first label of a
    dotted host as an S3 bucket name, so the cdk CLI's asset uploads need ``localhost``."""
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1":
        return url
    netloc = "localhost" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Connection:
    """Where the deployed topology lives; every field ``None`` means boto3's defaults."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    _session: list[Any] = field(default_factory=list, repr=False, compare=False)
    """The boto3 session, made on first use (a list: the dataclass is frozen)."""

    def __post_init__(self) -> None:
        # botocore would fail on the first call with a bare ValueError (or, for another
        # scheme, an unhandled-exception message): refuse it here, saying what to give.
        problem = self.endpoint_url is not None and endpoint_problem(self.endpoint_url)
        if problem:
            raise UsageError(f"--endpoint-url {self.endpoint_url!r} {problem}")

    @property
    def session(self) -> Any:
        """A boto3 session with credentials and a region, or a ``LiveError`` saying why not."""
        if not self._session:
            self._session.append(self._new_session())
        return self._session[0]

    def _new_session(self) -> Any:
        import boto3

        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            credentials = session.get_credentials()
        except ProfileNotFound:
            raise LiveError(
                f"AWS profile '{self.profile}' not found: run `aws configure --profile "
                f"{self.profile}` or pass another --profile"
            ) from None
        except BotoCoreError as exc:
            raise LiveError(f"cannot read the AWS configuration: {exc}") from None
        region = session.region_name
        if self.endpoint_url and credentials is None:
            session = boto3.Session(
                aws_access_key_id=PLACEHOLDER_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=PLACEHOLDER_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region_name=region or EMULATOR_REGION,
            )
        elif self.endpoint_url and region is None:
            session = boto3.Session(profile_name=self.profile, region_name=EMULATOR_REGION)
        elif credentials is None:
            raise LiveError(NO_CREDENTIALS)
        elif region is None:
            raise LiveError(
                "no AWS region is set: pass --region, or set AWS_REGION (or a region in "
                "your profile)"
            )
        return session

    @property
    def region_name(self) -> str:
        return str(self.session.region_name)

    def where(self) -> str:
        """The region and endpoint, as messages name them."""
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"region {self.region_name}{at}"

    def client(self, service: str, *, attempts: int = 3, read_timeout: float = 60) -> Any:
        """A boto3 client; botocore retries network hiccups, attak retries throttling."""
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "max_attempts": attempts},
            connect_timeout=5,
            read_timeout=read_timeout,
        )
        return self.session.client(service, endpoint_url=self.endpoint_url, config=config)

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn what botocore raises while ``doing`` something into a ``LiveError``."""
        try:
            yield
        except AttakError:
            raise
        except Exception as exc:
            problem = self.explain(exc)
            if problem is None:
                raise
            raise LiveError(f"{doing}: {problem}") from None

    def explain(self, exc: BaseException) -> str | None:
        """What went wrong, in words, for a botocore exception; ``None`` if not botocore's."""
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return NO_CREDENTIALS
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            if self.endpoint_url:
                return (
                    f"nothing answers at {self.endpoint_url}: start the emulator there "
                    "(e.g. `moto_server -H 127.0.0.1 -p PORT`) or fix --endpoint-url"
                )
            return f"cannot reach AWS in {self.region_name}: check the network and the region"
        if isinstance(exc, ReadTimeoutError):
            return f"AWS did not answer in time ({exc})"
        if isinstance(exc, ClientError):
            code = error_code(exc)
            if code in THROTTLING_CODES:
                return f"AWS kept throttling the requests ({code}) after retries; try again later"
            if code in CREDENTIAL_CODES:
                return f"AWS refused the credentials ({error_text(exc)}): refresh or replace them"
            if code in ("AccessDenied", "AccessDeniedException"):
                return f"access denied ({error_text(exc)}): the credentials lack a permission"
            return error_text(exc)
        if isinstance(exc, BotoCoreError):
            return str(exc)
        return None


def with_backoff(
    call: Callable[[], T],
    *,
    attempts: int = 8,
    base_delay: float = 0.1,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying throttling and 5xx errors with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or error_code(exc) not in RETRYABLE_CODES:
                raise
        sleep(backoff(attempt, base_delay, max_delay))
    raise AssertionError("unreachable")  # the loop returns or raises


def backoff(attempt: int, base_delay: float = 0.1, max_delay: float = 5.0) -> float:
    """Between half and all of ``base * 2^(attempt-1)``, capped: retries spread out."""
    ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
    return float(ceiling * (0.5 + random.random() / 2))
