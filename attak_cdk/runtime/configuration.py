"""Reads the environment values a topology keeps in SSM Parameter Store or Secrets Manager.

The stack puts only the references in the function's environment (``config.ENV_CONFIG``);
``load`` reads every value once per container, before the handler's module is imported,
and sets each as the variable the topology named, so code at a module's top level
(``DB = connect(os.environ["DB_PASSWORD"])``) sees it as it would see a plain value. A
rotated secret is read again at the next cold start.

- Parameters: ``ssm:GetParameters`` with decryption (SecureString included), at most 10
  names a call, AWS's limit
  (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
- Secrets: ``secretsmanager:GetSecretValue``, once per secret, and ``key`` picks one field
  of a secret whose value is a JSON object
  (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).

A value that cannot be read stops the cold start with ``ConfigurationError``, naming the
variable and the parameter or secret, never a value: a handler must not run with a
configuration it does not have. Standard library and boto3 only, like the rest of the
runtime.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from . import config

MAX_PARAMETERS_PER_CALL = 10
"""GetParameters' ``Names`` holds 1 to 10 items."""

SECRET = "Secrets Manager secret"
PARAMETER = "SSM parameter"

Clients = Callable[[str], Any]
"""Makes a boto3 client for a service name (``boto3.client``, or a stubbed one in tests)."""


class ConfigurationError(RuntimeError):
    """A referenced value could not be read: the function cannot start."""


def load(environ: MutableMapping[str, str] | None = None, clients: Clients | None = None) -> None:
    """Read the values ``environ[ENV_CONFIG]`` references and set them in ``environ``
    (``os.environ`` by default); nothing to do without references."""
    environ = os.environ if environ is None else environ
    text = environ.get(config.ENV_CONFIG)
    if not text:
        return
    if clients is None:
        import boto3

        def clients(service: str) -> Any:
            return boto3.client(service)  # type: ignore[call-overload]

    environ.update(resolve(json.loads(text), clients))


def resolve(references: Mapping[str, Mapping[str, str]], clients: Clients) -> dict[str, str]:
    """Variable -> value for each reference (``{"ssm": NAME}`` or ``{"secret": NAME,
    "key": FIELD}``). Raises ``ConfigurationError`` for the first one that cannot be read."""
    values: dict[str, str] = {}
    parameters = {v: r["ssm"] for v, r in references.items() if "ssm" in r}
    secrets = {v: r for v, r in references.items() if "secret" in r}
    if parameters:
        values.update(_parameters(parameters, clients("ssm")))
    if secrets:
        values.update(_secrets(secrets, clients("secretsmanager")))
    return values


def _parameters(wanted: Mapping[str, str], client: Any) -> dict[str, str]:
    """Each variable's parameter value, the distinct names read ten a call."""
    names = list(dict.fromkeys(wanted.values()))
    read: dict[str, str] = {}
    for start in range(0, len(names), MAX_PARAMETERS_PER_CALL):
        batch = names[start : start + MAX_PARAMETERS_PER_CALL]
        try:
            answer = client.get_parameters(Names=batch, WithDecryption=True)
        except Exception as error:  # botocore's ClientError, or no network
            raise _failed(wanted, batch, PARAMETER, error) from None
        for parameter in answer.get("Parameters", []):
            # A parameter asked for by ARN (a shared one) answers with its ARN as Name.
            read[parameter["Name"]] = read[parameter.get("ARN", "")] = parameter["Value"]
        missing = [n for n in answer.get("InvalidParameters", []) if n not in read]
        if missing:
            raise _failed(wanted, missing, PARAMETER, "no such parameter in this account")
    found: dict[str, str] = {}
    for variable, name in wanted.items():
        if name not in read:
            raise _failed(wanted, [name], PARAMETER, "GetParameters did not return it")
        found[variable] = read[name]
    return found


def _secrets(wanted: Mapping[str, Mapping[str, str]], client: Any) -> dict[str, str]:
    """Each variable's secret value, or the field ``key`` of it; each secret read once."""
    named = {variable: reference["secret"] for variable, reference in wanted.items()}
    read: dict[str, str] = {}
    found: dict[str, str] = {}
    for variable, reference in wanted.items():
        secret = reference["secret"]
        if secret not in read:
            try:
                answer = client.get_secret_value(SecretId=secret)
            except Exception as error:
                raise _failed(named, [secret], SECRET, error) from None
            if "SecretString" not in answer:
                raise _failed(named, [secret], SECRET, "its value is binary, not text")
            read[secret] = answer["SecretString"]
        key = reference.get("key")
        value = read[secret]
        found[variable] = value if key is None else _field(variable, secret, value, key)
    return found


def _field(variable: str, secret: str, value: str, key: str) -> str:
    """One field of a secret holding a JSON object; a field that is not text is given
    as JSON (a number as ``5432``)."""
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"attak: {variable} references field '{key}' of secret {secret}, whose value is "
            "not a JSON object: leave key out to read the whole value"
        )
    if key not in document:
        fields = ", ".join(sorted(map(str, document))) or "none"
        raise ConfigurationError(
            f"attak: {variable} references field '{key}' of secret {secret}, which has no "
            f"such field (its fields: {fields})"
        )
    field = document[key]
    return field if isinstance(field, str) else json.dumps(field)


def _failed(
    wanted: Mapping[str, str], names: list[str], what: str, error: object
) -> ConfigurationError:
    """The error naming the variables (``wanted``: variable -> name) that reference
    ``names`` and why they could not be read (botocore's message names the call and the
    resource, never a value)."""
    variables = [variable for variable, name in wanted.items() if name in names]
    kind = getattr(error, "response", {}).get("Error", {}).get("Code") if error else None
    because = f"{kind}: {error}" if kind else str(error)
    return ConfigurationError(
        f"attak: cannot read {', '.join(variables)} from {what} {', '.join(names)} "
        f"at cold start: {because}"
    )
