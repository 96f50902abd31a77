"""Environment values that live elsewhere: an SSM parameter or a Secrets Manager secret.

A processor's ``environment:`` (or ``defaults.environment``) may hold, instead of text,
``{ssm: /clickstream/api-url}`` or ``{secret: prod/clickstream/db, key: password}``
(``key``: one field of a secret holding JSON; ``kms_key``: the customer managed key the
parameter or secret is encrypted with, when it is not the AWS managed one). The loader reads
them with ``read_reference``; the function's environment carries only the reference (one
variable, ``ATTAK_CONFIG``: ``runtime/config.py``), and attak's runtime reads the values
once per container, before the handler's module is imported (``runtime/configuration.py``).
Locally, ``simulate/configuration.py`` takes them from the process environment or a
dotenv file, never from AWS.

Why the runtime reads them, rather than CloudFormation's dynamic references:

- ``{{resolve:secretsmanager:...}}`` in a function's environment writes the secret's value
  into the function's configuration in plain text, readable by anyone allowed
  ``lambda:GetFunctionConfiguration`` (Lambda's guide advises against secrets in
  environment variables, "to increase security", and points to Secrets Manager:
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html);
- ``{{resolve:ssm-secure:...}}`` is refused in a Lambda function's environment: only the
  resource properties listed in
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm-secure-strings.html
  take it, and ``AWS::Lambda::Function`` is not among them;
- a value read at cold start follows a rotation at the next cold start, without a deploy;
  a dynamic reference is read only when the stack is updated.

IAM: the function may call ``ssm:GetParameters`` on exactly the parameters it references,
``secretsmanager:GetSecretValue`` on exactly its secrets (a secret named by name matches
its ARN's random six-character suffix with ``-??????``, as AWS documents:
https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html),
and ``kms:Decrypt`` on a customer managed key the topology names with ``kms_key``. The AWS
managed keys need no grant: ``aws/ssm``'s key policy allows every principal of the account
to decrypt (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html),
and a role needs ``kms:Decrypt`` only for a secret encrypted "with a KMS key other than the
AWS managed key aws/secretsmanager"
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import did_you_mean
from .grants import (
    ACCOUNT,
    KMS_DECRYPT,
    PARTITION,
    REGION,
    SECRET,
    SECRET_READ,
    GrantStatement,
)
from .settings import ARN_PARTITION, ARN_REGION, shown

KINDS = ("ssm", "secret")
"""What an environment value may reference, as its one required key."""
REFERENCE_KEYS = {
    "ssm": ("ssm", "kms_key"),
    "secret": ("secret", "key", "kms_key"),
}
"""The keys each kind of reference accepts, in the order messages list them."""

SSM_READ = ("ssm:GetParameters",)
"""The one call the runtime makes for parameters (up to 10 names a call)."""

# Parameter names: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
# ("Naming Constraints": a-zA-Z0-9_.- and '/' for hierarchies, a leading '/' in a
# hierarchy, at most fifteen levels, 1011 characters, not prefixed with aws or ssm).
MAX_PARAMETER_NAME = 1011
MAX_PARAMETER_LEVELS = 15
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")
PUBLIC_PARAMETERS = "/aws/service/"
"""AWS's public parameters (AMI ids, regions...), readable by every account, live here."""
PARAMETER_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:ssm:{ARN_REGION}:(\d{{12}})?:parameter/(?P<name>[A-Za-z0-9_.\-/]+)$"
)
# A complete secret ARN ends in '-' and the six random characters Secrets Manager adds.
SECRET_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:secretsmanager:{ARN_REGION}:\d{{12}}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{{6}}$"
)
KMS_KEY_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:kms:{ARN_REGION}:\d{{12}}:key/(mrk-[0-9a-f]{{32}}|[0-9a-f-]{{36}})$"
)
KMS_KEY_ID = re.compile(r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$")


@dataclass(frozen=True)
class Reference:
    """One environment value read from AWS at cold start: ``kind`` is ``ssm`` or
    ``secret``, ``name`` the parameter's or secret's name or ARN as written."""

    kind: str
    name: str
    key: str | None = None
    """A field of the secret's JSON value; ``None``: the whole value."""
    kms_key: str | None = None
    """The customer managed key's ARN (built from an id); ``None``: an AWS managed key."""
    where: str = ""

    @property
    def what(self) -> str:
        """``SSM parameter /a/b``, ``field password of secret prod/db``: for messages."""
        if self.kind == "ssm":
            return f"SSM parameter {self.name}"
        field = f"field '{self.key}' of " if self.key is not None else ""
        return f"{field}Secrets Manager secret {self.name}"

    def payload(self) -> dict[str, str]:
        """What the runtime reads (``runtime/configuration.py``): the key is the kind."""
        found = {self.kind: self.name}
        if self.key is not None:
            found["key"] = self.key
        return found

    def resource(self) -> str:
        """The ARN IAM allows the read on: the one given, or built in the stack's own
        partition, region and account (``Fn::Sub`` in the CDK layer)."""
        if self.name.startswith("arn:"):
            return self.name
        if self.kind == "secret":
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{self.name}-??????"
        # A parameter's ARN names it without its leading '/'; AWS's public ones have no
        # account in their ARN.
        account = "" if self.name.startswith(PUBLIC_PARAMETERS) else ACCOUNT
        return f"arn:{PARTITION}:ssm:{REGION}:{account}:parameter/{self.name.lstrip('/')}"


def payloads(references: Mapping[str, Reference]) -> dict[str, dict[str, str]]:
    """Variable -> its reference, as the function's environment carries them."""
    return {variable: reference.payload() for variable, reference in references.items()}


def statements(references: Iterable[Reference]) -> tuple[GrantStatement, ...]:
    """The IAM statements a function needs to read ``references``: one per action, on
    exactly the resources referenced (each once, in a stable order)."""
    chosen = list(references)
    found: list[GrantStatement] = []
    for actions, resources in (
        (SSM_READ, [r.resource() for r in chosen if r.kind == "ssm"]),
        (SECRET_READ, [r.resource() for r in chosen if r.kind == "secret"]),
        (KMS_DECRYPT, [r.kms_key for r in chosen if r.kms_key is not None]),
    ):
        if resources:
            found.append(GrantStatement(actions, tuple(sorted(set(resources)))))
    return tuple(found)


def in_words(references: Mapping[str, Reference]) -> list[str]:
    """Each variable and what it is read from, for ``attak synth``'s review."""
    words = []
    for variable, reference in references.items():
        kms_key = reference.kms_key or ""
        # A key given by id is shown by id, not as the ARN the stack builds around it.
        shown_key = kms_key.rpartition("/")[2] if PARTITION in kms_key else kms_key
        key = f" (decrypted with KMS key {shown_key})" if kms_key else ""
        words.append(f"{variable} from {reference.what}{key}")
    return words


def read_reference(
    value: Mapping[Any, Any], path: str, issue: Callable[[str, str, str], None]
) -> Reference | None:
    """An environment value written as a mapping, at ``path``: a reference, or ``None``
    and every problem reported through ``issue(code, path, message)``."""
    kinds = [kind for kind in KINDS if kind in value]
    if len(kinds) != 1:
        issue(
            "invalid-reference",
            path,
            "an environment value is text, a number, {ssm: /parameter/name} or "
            f"{{secret: name, key: field}} (given {shown(dict(value))})",
        )
        return None
    kind = kinds[0]
    ok = True
    for key in value:
        if key not in REFERENCE_KEYS[kind]:
            allowed = REFERENCE_KEYS[kind]
            issue(
                "invalid-reference",
                f"{path}.{key}",
                f"unknown key '{key}'{did_you_mean(str(key), allowed)} "
                f"(allowed with {kind}: {', '.join(allowed)})",
            )
            ok = False
    name = value[kind]
    problem = parameter_problem(name) if kind == "ssm" else secret_problem(name)
    if problem:
        issue("invalid-reference", f"{path}.{kind}", problem)
        ok = False
    key = value.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        issue("invalid-reference", f"{path}.key", f"must be a field name (given {shown(key)})")
        ok = False
    kms_key = value.get("kms_key")
    if kms_key is not None:
        kms_key = kms_key_arn(kms_key)
        if kms_key is None:
            issue(
                "invalid-reference",
                f"{path}.kms_key",
                "must be a KMS key's ARN or id, e.g. arn:aws:kms:us-east-1:123456789012:key/"
                f"1234abcd-12ab-34cd-56ef-1234567890ab (given {shown(value['kms_key'])}); "
                "an alias cannot be granted, and the AWS managed key needs no kms_key",
            )
            ok = False
    if not ok:
        return None
    return Reference(kind, str(name), key, kms_key, path)


def parameter_problem(name: object) -> str | None:
    """What AWS would refuse in ``name`` as an SSM parameter's name or ARN, or ``None``."""
    example = "e.g. ssm: /clickstream/api-url"
    if not isinstance(name, str) or not name:
        return f"must name an SSM parameter, {example} (given {shown(name)})"
    if name.startswith("arn:"):
        match = PARAMETER_ARN.match(name)
        if match is None:
            return (
                "not the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) "
                f"(given {shown(name)})"
            )
        name = "/" + match.group("name")
    if len(name) > MAX_PARAMETER_NAME:
        return f"a parameter name has at most {MAX_PARAMETER_NAME} characters (given {len(name)})"
    if not PARAMETER_NAME.match(name):
        return (
            "a parameter name holds only letters, digits and _ . - / "
            f"(given {shown(name)}), {example}"
        )
    if "/" in name and not name.startswith("/"):
        return f"a parameter name in a hierarchy starts with '/' (given {shown(name)}), {example}"
    levels = name.strip("/").split("/")
    if "" in levels or name.endswith("/"):
        return (
            f"{shown(name)} is a path, not a parameter name: name one parameter "
            "(no empty level, no trailing '/'); grant a path with grants: [ssm: /path/]"
        )
    if len(levels) > MAX_PARAMETER_LEVELS:
        return (
            f"a parameter hierarchy has at most {MAX_PARAMETER_LEVELS} levels (given {len(levels)})"
        )
    if levels[0].lower().startswith(("aws", "ssm")) and not name.startswith(PUBLIC_PARAMETERS):
        return (
            f"a parameter name cannot start with 'aws' or 'ssm' (given {shown(name)}); "
            f"AWS's public parameters are under {PUBLIC_PARAMETERS}"
        )
    return None


def secret_problem(name: object) -> str | None:
    """What AWS would refuse in ``name`` as a secret's name or complete ARN, or ``None``."""
    if not isinstance(name, str) or not name:
        return f"must name a secret, e.g. secret: prod/clickstream/db (given {shown(name)})"
    if name.startswith("arn:"):
        if SECRET_ARN.match(name) is None:
            return (
                "not the complete ARN of a secret (arn:aws:secretsmanager:REGION:ACCOUNT:"
                f"secret:NAME-abcdef, with the six characters AWS adds) (given {shown(name)}); "
                "or give the secret's name"
            )
        return None
    # https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
    if not SECRET.match(name):
        return f"a secret name has 1 to 512 letters, digits and / _ + = . @ - (given {shown(name)})"
    return None


def kms_key_arn(value: object) -> str | None:
    """A customer managed key given by ARN or id, as an ARN (in the stack's own partition,
    region and account for an id); ``None`` if it is neither."""
    if not isinstance(value, str):
        return None
    if KMS_KEY_ARN.match(value):
        return value
    if KMS_KEY_ID.match(value):
        return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{value}"
    return None
