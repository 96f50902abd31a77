"""The topology file's JSON Schema, for editors: built from the tables attak itself reads.

Editors that read JSON Schema (VS Code's YAML extension and the other clients of Red Hat's
yaml-language-server, JetBrains IDEs) then complete keys, show each setting's meaning,
range and default, and flag a misspelt key, a wrong type, a value out of range or a bad
choice as the file is typed. Nothing here is written twice: the keys and what they hold
come from ``loader``'s key tables, types, ranges, choices and defaults from ``settings``,
names from ``validate``'s patterns and plan quantities from ``plan.quantities``' units.
A key the loader accepts and this module has no form for fails the build (``LookupError``).

What a schema cannot see stays with ``attak validate``: whether the processors a stream
names exist, whether a handler file imports, duplicate streams, names that clash once made
AWS ids, loops. A document this schema refuses attak refuses too, and attak's shape, type
and range errors are refused here too (``tests/functional/test_topology_schema.py``).

JSON Schema draft-07: yaml-language-server "supports JSON Schema 7 and below" (its README,
https://github.com/redhat-developer/yaml-language-server#yaml-language-server); drafts
2019-09 and 2020-12 arrived only in its 1.20.0 (CHANGELOG), and older editors would
ignore what they do not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from .endpoint import AUTH as HTTP_AUTH
from .endpoint import KEYS as HTTP_KEYS
from .endpoint import MAX_ORIGINS, ORIGIN
from .errors import OutputError
from .function_settings import (
    LAYER_ARN,
    MAX_LAYER_ARN,
    MAX_LAYERS,
    MAX_SECURITY_GROUPS,
    MAX_SUBNETS,
    SECURITY_GROUP_ID,
    SUBNET_ID,
    VPC_KEYS,
)
from .grants import ACCESS, GRANT_KINDS, SSM_PATH
from .loader import (
    DEFAULT_KEYS,
    ENVIRONMENT_VALUE_TYPES,
    PLAN_KEYS,
    PLAN_PROCESSOR_KEYS,
    PROCESSOR_KEYS,
    STREAM_ENDS,
    STREAM_KEYS,
    STREAM_LIST,
    TOP_LEVEL_KEYS,
    Keys,
)
from .output import check_writable_folder
from .plan.quantities import (
    BYTE_UNITS,
    COUNT_WORDS,
    DURATION_HELP,
    DURATION_UNITS,
    EMITS_HELP,
    MAX_COMPRESSION,
    MAX_DURATION_SECONDS,
    MAX_RECORD_BYTES,
    NUMBER_PATTERN,
    PER_SECOND,
    RATE_HELP,
    SIZE_HELP,
)
from .references import REFERENCE_KEYS
from .settings import (
    EMAIL,
    PROCESSOR_SETTINGS,
    SNS_TOPIC_ARN,
    STREAM_SETTINGS,
    TOPOLOGY_SETTINGS,
    Setting,
)
from .validate import IDENTIFIER, MAX_TOPIC, PROCESSOR_NAME, RESERVED_ENV, STACK_NAME

Json = dict[str, object]
"""A JSON Schema (or part of one), as plain data."""

DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILENAME = "topology.schema.json"
"""The schema's file name: in this package, and beside the topology ``attak init`` writes."""
PACKAGED_SCHEMA = Path(__file__).with_name(SCHEMA_FILENAME)
"""The schema shipped in the package; a test keeps it equal to ``schema_text()``."""

_JSON_TYPES: Mapping[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


def modeline(schema_path: str) -> str:
    """The first-lines comment that points yaml-language-server at a schema file, relative
    to the YAML file (its README: "it is possible to use relative path in a modeline")."""
    return f"# yaml-language-server: $schema={schema_path}"


def schema_text() -> str:
    """The schema as ``attak schema`` prints it and the package ships it."""
    return json.dumps(topology_schema(), indent=2, ensure_ascii=False) + "\n"


def topology_schema() -> Json:
    """The JSON Schema of a topology file (YAML or JSON)."""
    processor = _object(
        PROCESSOR_KEYS,
        PROCESSOR_SETTINGS,
        {
            "handler": _HANDLER,
            "environment": _ENVIRONMENT,
            "grants": _GRANTS,
            "schedule": _SCHEDULE,
            "layers": _LAYERS,
            "vpc": _VPC,
            "http": _HTTP,
        },
    )
    processor["required"] = ["handler"]
    stream = _object(
        STREAM_KEYS,
        STREAM_SETTINGS,
        {"from": _PROCESSOR_REF, "to": _PROCESSOR_REF, "topic": _TOPIC},
    )
    stream["required"] = list(STREAM_ENDS)
    ends = len(STREAM_ENDS)
    stream_list: Json = {
        "type": "array",
        "description": f"[{', '.join(STREAM_ENDS)}] or [{', '.join(STREAM_LIST)}]",
        "items": [
            {**(_TOPIC if key == "topic" else _PROCESSOR_REF), "description": STREAM_KEYS[key]}
            for key in STREAM_LIST
        ],
        "minItems": ends,
        "maxItems": len(STREAM_LIST),
    }
    defaults = _object(
        DEFAULT_KEYS,
        {**PROCESSOR_SETTINGS, **STREAM_SETTINGS},
        {"environment": _ENVIRONMENT, "grants": _GRANTS, "layers": _LAYERS, "vpc": _VPC},
    )
    top = _object(
        TOP_LEVEL_KEYS,
        TOPOLOGY_SETTINGS,
        {
            "name": {"type": "string", "pattern": STACK_NAME.pattern},
            "description": {},  # free text; attak does not read it
            "processors": {
                "anyOf": [
                    {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": _PROCESSOR_NAME,
                        "additionalProperties": {
                            "anyOf": [
                                {**_HANDLER, "description": _sentence(PROCESSOR_KEYS["handler"])},
                                processor,
                            ]
                        },
                    },
                    {"type": "string", "description": "a folder: each *.py file is a processor"},
                ]
            },
            "streams": {
                "type": ["array", "null"],
                "items": {"anyOf": [stream, stream_list]},
            },
            "defaults": {**defaults, "type": ["object", "null"]},
            "plan": _plan(),
            "alerts": _alerts(),
        },
    )
    return {
        "$schema": DIALECT,
        "title": "attak topology",
        "description": "Processors (Python handlers) joined by streams. Generated by "
        "`attak schema` from the tables attak validates with: do not edit by hand.",
        **top,
        "required": ["name", "processors"],
    }


def _object(keys: Keys, settings: Mapping[str, Setting], forms: Mapping[str, Json]) -> Json:
    """A mapping accepting exactly ``keys``: a setting's form from its table, any other
    key's from ``forms``, each described in the loader's words."""
    properties: Json = {}
    for key, meaning in keys.items():
        if key in settings:
            properties[key] = _setting(settings[key])
        elif key in forms:
            properties[key] = {"description": _sentence(meaning), **forms[key]}
        else:
            raise LookupError(f"the topology schema has no form for the key '{key}'")
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _setting(setting: Setting) -> Json:
    """A setting's type and range (or choices), its words, help and default."""
    value: Json
    if setting.choices:
        value = {"enum": list(setting.choices)}
    else:
        value = {"type": _JSON_TYPES[setting.kind]}
        if setting.minimum is not None:
            value["minimum"] = setting.minimum
        if setting.maximum is not None:
            value["maximum"] = setting.maximum
    if setting.also:  # values AWS allows outside the range, such as -1 for no limit
        value = {"anyOf": [value, {"enum": list(setting.also)}]}
    words = [word for word, _ in setting.words]
    allowed = setting.allowed() + "".join(f", or {word}" for word in words)
    described = f"{setting.help}: {allowed}"
    if setting.default is not None:
        described += f" (default: {_literal(setting.default)})"
    schema: Json = {"description": _sentence(described)}
    schema.update({"anyOf": [value, {"enum": words}]} if words else value)
    if setting.default is not None:
        schema["default"] = setting.default
    return schema


def _plan() -> Json:
    """The ``plan:`` section: its keys from the loader, its quantities' forms from ``plan``."""
    rate = _quantity(RATE_HELP, 0, None, _RATE_PATTERN, ["1000/s", "5 MB/s", "1 TB/day"])
    size = _quantity(SIZE_HELP, 1, MAX_RECORD_BYTES, _SIZE_PATTERN, ["1 KB", "512 B"])
    # A bare number is milliseconds.
    duration = _quantity(
        DURATION_HELP, 0, MAX_DURATION_SECONDS * 1000, _DURATION_PATTERN, ["20 ms", "1.5 s"]
    )
    emits = _quantity(EMITS_HELP, 0, None, None, [1, 0.5])
    per_processor = _object(
        PLAN_PROCESSOR_KEYS,
        {},
        {
            "emits": {"anyOf": [emits, {"type": "object", "additionalProperties": emits}]},
            "duration": duration,
            "size": size,
            # Printed bytes may be none at all, unlike an event's size.
            "log": _quantity(SIZE_HELP, 0, MAX_RECORD_BYTES, _SIZE_PATTERN, ["100 B"]),
        },
    )
    plan = _object(
        PLAN_KEYS,
        {},
        {
            "rate": _per_processor(rate),
            "size": _per_processor(size),
            "duration": duration,
            "dead_letters": _quantity("a share such as 0.1% or 0.001", 0, 1, None, ["0.1%"]),
            "compression": _quantity(
                f"from 1x (none) to {MAX_COMPRESSION}x", 1, MAX_COMPRESSION, None, ["4x"]
            ),
            "region": {"type": ["string", "null"], "examples": ["us-east-1"]},
            "processors": {
                "type": ["object", "null"],
                "propertyNames": _PROCESSOR_NAME,
                "additionalProperties": per_processor,
            },
        },
    )
    plan["type"] = ["object", "null"]
    return plan


def _alerts() -> Json:
    """``alerts:``: an email address or an SNS topic ARN, or a non-empty list of them;
    unset is no one."""
    one: Json = {
        "type": "string",
        "anyOf": [{"pattern": EMAIL.pattern}, {"pattern": SNS_TOPIC_ARN.pattern}],
        "examples": ["oncall@example.com", "arn:aws:sns:us-east-1:123456789012:oncall"],
    }
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}, {"type": "null"}]}


def _quantity(
    forms: str, low: int, high: int | None, pattern: str | None, examples: list[object]
) -> Json:
    """A plan quantity: a number within [low, high], or text (matching ``pattern``)."""
    number: Json = {"type": "number", "minimum": low}
    if high is not None:
        number["maximum"] = high
    text: Json = {"type": "string"} if pattern is None else {"type": "string", "pattern": pattern}
    return {"description": _sentence(forms), "anyOf": [number, text], "examples": examples}


def _per_processor(quantity: Json) -> Json:
    """One quantity for every entry processor, or one per processor; unset is none."""
    by_name: Json = {
        "type": "object",
        "propertyNames": _PROCESSOR_NAME,
        "additionalProperties": quantity,
    }
    return {"anyOf": [quantity, by_name, {"type": "null"}]}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _literal(value: object) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _json_types(types: Iterable[type]) -> list[str]:
    """JSON Schema's names for Python types; its "number" holds the integers already."""
    names = {_JSON_TYPES[t] for t in types}
    return sorted(names - {"integer"} if "number" in names else names)


def _inner(pattern: re.Pattern[str]) -> str:
    """A whole-string pattern without its anchors, to use inside another."""
    return pattern.pattern.removeprefix("^").removesuffix("$")


def _any_case(words: Iterable[str]) -> str:
    """An alternation of ``words`` in any letter case: JSON Schema patterns have no flags,
    and ``plan`` lower-cases what it reads."""
    spelt = (
        "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)
        for word in sorted((w for w in words if w), key=len, reverse=True)
    )
    return "(?:" + "|".join(spelt) + ")"


# Quantities as ``plan.quantities`` reads them (after trimming and lower-casing the text).
_N = f"(?:{NUMBER_PATTERN})"
_RATE_PATTERN = (
    rf"^\s*{_N}\s*(?:{_any_case(COUNT_WORDS)}?\s*(?:/\s*{_any_case(PER_SECOND)})?"
    rf"|{_any_case(BYTE_UNITS)}\s*/\s*{_any_case(PER_SECOND)})\s*$"
)
_SIZE_PATTERN = rf"^\s*{_N}\s*{_any_case(BYTE_UNITS)}?\s*$"
_DURATION_PATTERN = rf"^\s*{_N}\s*{_any_case(DURATION_UNITS)}?\s*$"

_PROCESSOR_NAME: Json = {"pattern": PROCESSOR_NAME.pattern}
# A stream's end names a processor, so it is a processor name (or the stream is refused).
_PROCESSOR_REF: Json = {"type": "string", "pattern": PROCESSOR_NAME.pattern}
# Trimmed, a topic holds 1 to MAX_TOPIC characters.
_TOPIC: Json = {
    "type": ["string", "null"],
    "pattern": rf"^\s*(?:\S|\S[\s\S]{{0,{MAX_TOPIC - 2}}}\S)\s*$",
}
# A file path, optionally ':function' (a Python name, or nothing for `handler`).
_HANDLER: Json = {
    "type": "string",
    "pattern": rf"^(?=[\s\S]*\S)[^:]*(?::\s*(?:{_inner(IDENTIFIER)})?\s*)?$",
}
_REFERENCE_NAME: Json = {"type": "string", "minLength": 1}
_ENVIRONMENT: Json = {
    "type": ["object", "null"],
    "propertyNames": {
        "pattern": IDENTIFIER.pattern,
        "not": {"pattern": "^(?:" + "|".join(re.escape(p) for p in RESERVED_ENV) + ")"},
    },
    "additionalProperties": {
        "anyOf": [
            {"type": _json_types(ENVIRONMENT_VALUE_TYPES)},
            # A value read at cold start (references.py checks the names' shapes).
            *(
                {
                    "type": "object",
                    "description": f"read from {where} at cold start",
                    "properties": dict.fromkeys(REFERENCE_KEYS[kind], _REFERENCE_NAME),
                    "required": [kind],
                    "additionalProperties": False,
                }
                for kind, where in (
                    ("ssm", "SSM Parameter Store"),
                    ("secret", "Secrets Manager (key: one field of its JSON value)"),
                )
            ),
        ]
    },
}

# A grant names one resource by name or ARN: the loader checks each service's shapes.
_NAME: Json = {"type": "string", "minLength": 1}
_ACCESS: Json = {"enum": list(ACCESS), "default": "read"}


def _grant_object(properties: Json, *required: str) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_GRANT_FORMS: Json = {
    "s3": _grant_object(
        {"bucket": _NAME, "prefix": {"type": "string", "pattern": r"^[^*?]*$"}, "access": _ACCESS},
        "bucket",
    ),
    "dynamodb": _grant_object({"table": _NAME, "access": _ACCESS}, "table"),
    "sqs": _grant_object({"queue": _NAME}, "queue"),
    "sns": _grant_object({"topic": _NAME}, "topic"),
    "secret": _NAME,
    "ssm": {"type": "string", "pattern": SSM_PATH.pattern},
    "kms": {"type": "string", "pattern": "^arn:"},
    "lambda": _NAME,
    "events": _NAME,
    "statement": _grant_object(
        {
            "actions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "resources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "reason": {"type": "string"},
        },
        "actions",
        "resources",
    ),
}
if set(_GRANT_FORMS) != set(GRANT_KINDS):  # as _object does for keys: no grant without a form
    raise LookupError(
        f"the topology schema has no form for a grant of {set(GRANT_KINDS) - set(_GRANT_FORMS)}"
    )
_GRANTS: Json = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": _GRANT_FORMS,
        "additionalProperties": False,
    },
}

# A schedule: the loader checks each expression as EventBridge does (``schedules.py``).
_EXPRESSION: Json = {"type": "string", "pattern": r"^\s*(rate|cron)\(.*\)\s*$"}
_SCHEDULE: Json = {
    "anyOf": [
        _EXPRESSION,
        {
            "type": "object",
            "properties": {"every": _EXPRESSION, "event": {}},
            "required": ["every"],
            "additionalProperties": False,
        },
    ],
}
_LAYERS: Json = {
    "type": ["array", "null"],
    "items": {"type": "string", "pattern": LAYER_ARN.pattern, "maxLength": MAX_LAYER_ARN},
    "maxItems": MAX_LAYERS,
    "uniqueItems": True,
}
_VPC: Json = {
    "type": "object",
    "properties": {
        key: {
            "description": _sentence(meaning),
            "type": "array",
            "items": {"type": "string", "pattern": pattern.pattern},
            "minItems": 1,
            "maxItems": most,
        }
        for (key, meaning), pattern, most in zip(
            VPC_KEYS.items(),
            (SUBNET_ID, SECURITY_GROUP_ID),
            (MAX_SUBNETS, MAX_SECURITY_GROUPS),
            strict=True,
        )
    },
    "required": list(VPC_KEYS),
    "additionalProperties": False,
}


# ``http: true``, or its mapping; a public endpoint needs a reason (as the loader says).
_HTTP: Json = {
    "anyOf": [
        {"type": ["boolean", "null"]},
        {
            "type": "object",
            "properties": {
                "auth": {"description": _sentence(HTTP_KEYS["auth"]), "enum": list(HTTP_AUTH)},
                "cors": {
                    "description": _sentence(HTTP_KEYS["cors"]),
                    "anyOf": [
                        {"type": "string", "pattern": ORIGIN.pattern},
                        {
                            "type": "array",
                            "items": {"type": "string", "pattern": ORIGIN.pattern},
                            "minItems": 1,
                            "maxItems": MAX_ORIGINS,
                        },
                    ],
                },
                "reason": {"description": _sentence(HTTP_KEYS["reason"]), "type": "string"},
            },
            "additionalProperties": False,
            "if": {"properties": {"auth": {"const": "none"}}, "required": ["auth"]},
            "then": {"required": ["reason"]},
        },
    ]
}


def write_schema(file: Path) -> None:
    """Write the schema to ``file`` (``attak schema -o``), or raise ``OutputError`` saying why
    it cannot be written there."""
    fix = "pass a file path with -o, e.g. -o topology.schema.json"
    if file.is_dir():
        raise OutputError(f"{file} is a folder; {fix}")
    check_writable_folder(file.parent, "the schema's folder (--output)", fix)
    try:
        file.write_text(schema_text(), encoding="utf-8")
    except OSError as exc:  # checked above: only a race or a full disk gets here
        raise OutputError(f"{file}: cannot write the schema: {exc.strerror or exc}") from None
