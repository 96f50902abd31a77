"""Each processor's environment in a local run, the values kept in AWS included.

In AWS the runtime reads a reference (``{ssm: ...}``, ``{secret: ...}``: ``references.py``)
at cold start. A local run (``attak simulate``, ``attak ui``, ``attak_cdk.testing``) never
calls AWS: a referenced variable takes its value from the process environment (a variable
of the same name wins), else from a dotenv file (``--env-file``, by default ``.env`` beside
the topology when there is one). A reference with neither stops the run before it starts,
naming the processor, the variable, what it references and both ways to give it a value.

The dotenv format: one ``NAME=value`` a line (``export NAME=value`` too), blank lines and
``#`` comments, a value in single quotes kept as written, in double quotes with ``\\n``,
``\\"`` and ``\\\\`` escapes; an unquoted value ends at `` #``. Standard library only:
``attak simulate`` imports neither boto3 nor aws_cdk for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import AttakError, display_path
from ..model import Topology

ENV_FILE = ".env"
"""The dotenv file read beside the topology when no ``--env-file`` is given."""

_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class ConfigurationError(AttakError):
    """A local run lacks a referenced value, or its dotenv file cannot be read."""


def read_env_file(file: Path) -> dict[str, str]:
    """The variables of a dotenv file; a line it cannot read is an error naming its line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the env file {display_path(file)}: {exc}") from exc
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        value = _value(match.group("value")) if match else None
        if match is None or value is None:
            raise ConfigurationError(
                f"{display_path(file)}, line {number}: not NAME=value (a name is letters, "
                "digits and _; a quoted value ends with its quote)"
            )
        variables[match.group("name")] = value
    return variables


def _value(written: str) -> str | None:
    """A dotenv value as written after ``=``; ``None`` when a quote is left open."""
    if written[:1] in ("'", '"'):
        quote = written[0]
        end = written.find(quote, 1)
        if quote == '"':
            end = 1
            while end < len(written) and written[end] != '"':
                end += 2 if written[end] == "\\" else 1
        if end >= len(written) or end < 1:
            return None
        rest = written[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            return None
        inner = written[1:end]
        if quote == "'":
            return inner
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), inner)
    return re.split(r"\s+#", written, maxsplit=1)[0].strip()


def default_env_file(topology: Topology) -> Path | None:
    """``.env`` beside the topology file, when there is one."""
    file = topology.root / ENV_FILE
    return file if file.is_file() else None


def local_environments(
    topology: Topology,
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Processor -> its variables in a local run: its plain values, and each reference's
    value from ``environ`` (the process environment by default) or ``env_file`` (by
    default ``default_env_file``). Raises ``ConfigurationError`` naming every reference
    without a local value."""
    environ = os.environ if environ is None else environ
    file = env_file if env_file is not None else default_env_file(topology)
    from_file = read_env_file(file) if file is not None else {}
    missing: list[str] = []
    topology_file = display_path(topology.file)
    environments: dict[str, dict[str, str]] = {}
    for name, processor in topology.processors.items():
        variables = dict(processor.environment)
        for variable, reference in processor.references.items():
            value = environ.get(variable, from_file.get(variable))
            if value is None:
                missing.append(
                    f"  {topology_file}: {reference.where}: processor '{name}': "
                    f"{variable} references {reference.what}"
                )
            else:
                variables[variable] = value
        environments[name] = variables
    if missing:
        shown = display_path(file) if file is not None else display_path(topology.root / ENV_FILE)
        lines = "\n".join(dict.fromkeys(missing))
        raise ConfigurationError(
            "a local run never reads SSM or Secrets Manager, and these values have no local "
            f"value:\n{lines}\ngive each one in the process environment (NAME=value attak "
            f"simulate ...) or as a NAME=value line in {shown}"
            + ("" if env_file is not None else " (or the file --env-file names)")
        )
    return environments
