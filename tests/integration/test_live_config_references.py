"""A topology whose environment references SSM and Secrets Manager, deployed into moto.

moto runs no function code, so what is checked is what AWS would hold once deployed: the
function's configuration carries the references and no value (what anyone allowed
``lambda:GetFunctionConfiguration`` sees), and its role's policy allows exactly the reads
the runtime makes at cold start (``tests/unit/test_runtime_configuration.py`` checks the
reads themselves).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASS_ON
from tests.integration.conftest_live import Client, deploy, manifest

pytestmark = [pytest.mark.live, pytest.mark.slow]

NAME = "live-configured"
TOPOLOGY = f"""
name: {NAME}
processors:
  parse:
    handler: parse.py
    environment:
      STAGE: prod
      API_URL: {{ssm: /clickstream/api-url}}
      DB_PASSWORD: {{secret: prod/clickstream/db, key: password}}
"""


@pytest.fixture(scope="module")
def deployed(
    moto_server: str, aws_environment: None, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp("configured")
    (folder / "topology.yml").write_text(TOPOLOGY)
    (folder / "parse.py").write_text(PASS_ON)
    deploy(folder, moto_server, tmp_path_factory.mktemp("configured.out"))
    return folder


def function_name(aws: Client) -> str:
    functions = manifest(aws, NAME)["processors"]
    name: str = functions["parse"]["function"]
    return name


def test_the_deployed_function_holds_the_references_and_no_value(
    deployed: Path, aws: Client
) -> None:
    configuration = aws("lambda").get_function_configuration(FunctionName=function_name(aws))
    variables: dict[str, str] = configuration["Environment"]["Variables"]
    assert variables["STAGE"] == "prod"
    assert json.loads(variables["ATTAK_CONFIG"]) == {
        "API_URL": {"ssm": "/clickstream/api-url"},
        "DB_PASSWORD": {"secret": "prod/clickstream/db", "key": "password"},
    }
    assert "API_URL" not in variables and "DB_PASSWORD" not in variables


def test_the_deployed_role_may_read_exactly_the_referenced_parameter_and_secret(
    deployed: Path, aws: Client
) -> None:
    configuration = aws("lambda").get_function_configuration(FunctionName=function_name(aws))
    role = configuration["Role"].rpartition("/")[2]
    iam = aws("iam")
    statements: list[dict[str, Any]] = []
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        statements += document["Statement"]
    reads = {
        str(s["Action"]): s["Resource"]
        for s in statements
        if str(s["Action"]).startswith(("ssm:", "secretsmanager:", "kms:"))
    }
    account, region = "123456789012", configuration["FunctionArn"].split(":")[3]
    assert reads == {
        "ssm:GetParameters": f"arn:aws:ssm:{region}:{account}:parameter/clickstream/api-url",
        "secretsmanager:GetSecretValue": (
            f"arn:aws:secretsmanager:{region}:{account}:secret:prod/clickstream/db-??????"
        ),
    }
