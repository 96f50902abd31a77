"""The runtime reads the values a topology keeps in SSM and Secrets Manager at cold start.

Against botocore's Stubber: the exact calls made (parameters ten names a call, with
decryption; each secret once), the values set, and the failures, each naming the variable
and the parameter or secret, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from attak_cdk.runtime import config, configuration
from attak_cdk.runtime.configuration import ConfigurationError, resolve

SECRET_VALUE = json.dumps({"user": "clicks", "password": "s3cr3t-value", "port": 5432})


class Stubbed:
    """An SSM and a Secrets Manager client, each under a Stubber, as ``clients``."""

    def __init__(self) -> None:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.clients = {
            "ssm": session.client("ssm"),
            "secretsmanager": session.client("secretsmanager"),
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        self.asked: list[str] = []

    def __call__(self, service: str) -> Any:
        self.asked.append(service)
        return self.clients[service]

    def parameters(self, names: list[str], values: dict[str, str]) -> None:
        answer: dict[str, Any] = {
            "Parameters": [
                {"Name": n, "Value": values[n], "Type": "SecureString"}
                for n in names
                if n in values
            ]
        }
        invalid = [n for n in names if n not in values]
        if invalid:  # AWS leaves the list out when empty (its model: at least one item)
            answer["InvalidParameters"] = invalid
        self.stubs["ssm"].add_response(
            "get_parameters", answer, {"Names": names, "WithDecryption": True}
        )

    def secret(self, name: str, value: str) -> None:
        self.stubs["secretsmanager"].add_response(
            "get_secret_value", {"Name": name, "SecretString": value}, {"SecretId": name}
        )


@pytest.fixture
def aws() -> Iterator[Stubbed]:
    stubbed = Stubbed()
    for stub in stubbed.stubs.values():
        stub.activate()
    yield stubbed
    for stub in stubbed.stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_parameters_are_read_ten_names_a_call_with_decryption(aws: Stubbed) -> None:
    names = [f"/clicks/p{i:02}" for i in range(12)]
    values = {name: f"value of {name}" for name in names}
    aws.parameters(names[:10], values)
    aws.parameters(names[10:], values)
    references = {f"P{i:02}": {"ssm": name} for i, name in enumerate(names)}

    assert resolve(references, aws) == {f"P{i:02}": values[n] for i, n in enumerate(names)}
    assert aws.asked == ["ssm"]  # no Secrets Manager client without a secret


def test_a_parameter_named_twice_is_read_once(aws: Stubbed) -> None:
    aws.parameters(["/clicks/url"], {"/clicks/url": "https://api"})
    found = resolve({"A": {"ssm": "/clicks/url"}, "B": {"ssm": "/clicks/url"}}, aws)
    assert found == {"A": "https://api", "B": "https://api"}


def test_a_secret_is_read_once_for_its_whole_value_and_its_fields(aws: Stubbed) -> None:
    aws.secret("prod/db", SECRET_VALUE)
    references = {
        "DB": {"secret": "prod/db"},
        "DB_PASSWORD": {"secret": "prod/db", "key": "password"},
        "DB_PORT": {"secret": "prod/db", "key": "port"},
    }
    assert resolve(references, aws) == {
        "DB": SECRET_VALUE,
        "DB_PASSWORD": "s3cr3t-value",
        "DB_PORT": "5432",  # a field that is not text is given as JSON
    }


def test_a_missing_parameter_stops_the_cold_start_naming_variable_and_parameter(
    aws: Stubbed,
) -> None:
    aws.parameters(["/clicks/url", "/clicks/gone"], {"/clicks/url": "https://api"})
    references = {"API_URL": {"ssm": "/clicks/url"}, "GONE": {"ssm": "/clicks/gone"}}
    with pytest.raises(ConfigurationError) as caught:
        resolve(references, aws)
    message = str(caught.value)
    assert "GONE" in message and "SSM parameter /clicks/gone" in message
    assert "API_URL" not in message and "https://api" not in message


def test_a_secret_that_cannot_be_read_is_named_with_the_error_and_no_value(aws: Stubbed) -> None:
    aws.stubs["secretsmanager"].add_client_error(
        "get_secret_value",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform secretsmanager:GetSecretValue",
        expected_params={"SecretId": "prod/db"},
    )
    with pytest.raises(ConfigurationError) as caught:
        resolve({"DB_PASSWORD": {"secret": "prod/db", "key": "password"}}, aws)
    message = str(caught.value)
    assert "DB_PASSWORD" in message
    assert "Secrets Manager secret prod/db" in message
    assert "AccessDeniedException" in message


def test_a_missing_field_names_the_fields_there_are_but_never_their_values(
    aws: Stubbed,
) -> None:
    aws.secret("prod/db", SECRET_VALUE)
    with pytest.raises(ConfigurationError) as caught:
        resolve({"DB_PASSWORD": {"secret": "prod/db", "key": "pasword"}}, aws)
    message = str(caught.value)
    assert "'pasword'" in message and "password, port, user" in message
    assert "s3cr3t-value" not in message and "clicks" not in message


def test_load_sets_each_value_as_its_variable(aws: Stubbed) -> None:
    aws.parameters(["/clicks/url"], {"/clicks/url": "https://api"})
    aws.secret("prod/db", SECRET_VALUE)
    environ = {
        config.ENV_CONFIG: json.dumps(
            {"API_URL": {"ssm": "/clicks/url"}, "PW": {"secret": "prod/db", "key": "password"}}
        ),
        "OTHER": "kept",
    }
    configuration.load(environ, aws)
    assert environ["API_URL"] == "https://api"
    assert environ["PW"] == "s3cr3t-value"
    assert environ["OTHER"] == "kept"


def test_load_calls_nothing_without_references() -> None:
    def no_client(service: str) -> Any:
        raise AssertionError(f"no {service} client was expected")

    environ = {"OTHER": "kept"}
    configuration.load(environ, no_client)
    assert environ == {"OTHER": "kept"}
