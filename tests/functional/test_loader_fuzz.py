"""Fuzz the topology loader: whatever the file holds, only attak's own error escapes.

``load_topology`` and ``read_topology`` must either return a ``Topology`` or raise a
``TopologyError`` whose every issue names the file and says something; any other
exception (a ``KeyError``, ``RecursionError``, ``OSError``...) is a bug that the CLI would
show as a traceback. Handler paths in generated documents point at files that do not
exist, so no user code is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, currently_in_test_context, given, note, settings
from hypothesis import strategies as st

from attak_cdk.errors import AttakError, TopologyError
from attak_cdk.loader import TOP_LEVEL_KEYS, read_topology
from attak_cdk.model import Topology
from attak_cdk.project import load_topology
from attak_cdk.settings import PROCESSOR_SETTINGS, STREAM_SETTINGS

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- documents of any shape -----------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
)
keys = st.one_of(st.text(max_size=12), st.integers(-3, 3), st.booleans(), st.none())


def _nested(key_strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(key_strategy, children, max_size=5),
        ),
        max_leaves=25,
    )


yaml_values = _nested(keys)
json_values = _nested(st.text(max_size=12))

# --- documents shaped like a topology -----------------------------------------------------

NAMES = ["hello", "reverse", "hello_world", "hello-world", "9lives", "has space", "x" * 70]
SETTING_NAMES = [*PROCESSOR_SETTINGS, *STREAM_SETTINGS, "max_hops", "trace_sampling"]

names = st.one_of(st.sampled_from(NAMES), st.text(max_size=12))
setting_values = st.one_of(
    st.integers(-2, 20_000),
    st.sampled_from(["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", "on-demand", "direct", "stream"]),
    st.sampled_from(["100", "yes", "", " "]),
    st.booleans(),
    st.none(),
    st.floats(),
    json_values,
)
settings_maps = st.dictionaries(
    st.one_of(st.sampled_from(SETTING_NAMES), st.text(max_size=10)), setting_values, max_size=4
)
# Path parts, biased toward what file systems refuse: NUL bytes and over-long names.
path_parts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["a\x00b", "\x00", "\ud800", "n" * 300, "..", "", " ", "dir/", "c:"]),
)
# A handler that never exists: a missing folder, optionally with ':function'.
handler_specs = st.builds(
    lambda stem, function: f"./no-such-dir/{stem}.py{function}",
    path_parts,
    st.one_of(st.just(""), st.text(max_size=8).map(lambda f: f":{f}")),
)
environments = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(["GREETING", "AWS_REGION", "9BAD", "A B"]), st.text(max_size=8)),
        st.one_of(scalars, json_values),
        max_size=3,
    ),
    json_values,
)
processor_objects = st.builds(
    lambda handler, options, environment, extra: {
        **({"handler": handler} if handler is not None else {}),
        **options,
        **({"environment": environment} if environment is not None else {}),
        **extra,
    },
    st.one_of(handler_specs, st.none(), json_values),
    settings_maps,
    st.one_of(st.none(), environments),
    st.dictionaries(st.sampled_from(["memroy", "handlr", "env"]), scalars, max_size=1),
)
processor_specs = st.one_of(handler_specs, processor_objects, json_values)
processors = st.one_of(
    st.dictionaries(names, processor_specs, max_size=5),
    path_parts.map(lambda part: f"./no-such-processors-folder/{part}"),
    json_values,
)
stream_lists = st.lists(st.one_of(names, json_values), min_size=0, max_size=5)
stream_objects = st.builds(
    lambda ends, options: {**ends, **options},
    st.fixed_dictionaries(
        {},
        optional={"from": names, "to": names, "topic": st.one_of(st.text(max_size=10), scalars)},
    ),
    settings_maps,
)
streams = st.one_of(
    st.lists(st.one_of(stream_lists, stream_objects, scalars), max_size=6),
    json_values,
)
shaped_documents = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.sampled_from(["attak-example", "9_bad name", ""]), json_values),
        "description": json_values,
        "processors": processors,
        "streams": streams,
        "defaults": st.one_of(settings_maps, json_values),
        "max_hops": setting_values,
        "trace_sampling": setting_values,
    },
).flatmap(
    # Sometimes a misspelt or unknown top-level key as well.
    lambda doc: st.dictionaries(
        st.sampled_from(["stream", "processor", "nmae", "extra", *TOP_LEVEL_KEYS]),
        json_values,
        max_size=1,
    ).map(lambda extra: {**extra, **doc})
)

# --- text that looks like YAML or JSON --------------------------------------------------------

YAML_TOKENS = [
    "name:",
    "processors:",
    "streams:",
    "defaults:",
    "max_hops:",
    "handler:",
    "memory:",
    " ",
    "  ",
    "\n",
    "\t",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "? ",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object:os.system ",
    "!!binary ",
    "!!int ",
    "'",
    '"',
    "#",
    "---\n",
    "...\n",
    "hello",
    "reverse",
    "./processors/x.py",
    "1",
    "-1",
    "1e400",
    ".nan",
    "~",
    "yes",
    "\\0",
]
JSON_TOKENS = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    '"name"',
    '"processors"',
    '"streams"',
    '"hello"',
    '"./no-such-dir/x.py"',
    "1",
    "-0",
    "1e999",
    "NaN",
    "Infinity",
    "true",
    "null",
    " ",
    "\n",
    '"\\u0000"',
    '"\\ud800"',
    '"',
]
yaml_texts = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)
json_texts = st.lists(st.sampled_from(JSON_TOKENS), max_size=40).map("".join)

# --- the property ---------------------------------------------------------------------------

Loader = Callable[[Path], Topology]


def _assert_only_attak_errors(file: Path, load: Loader) -> None:
    """``load(file)`` returns a Topology or raises a TopologyError naming ``file``."""
    try:
        topology = load(file)
    except TopologyError as exc:
        assert isinstance(exc, AttakError)
        assert exc.issues, "a TopologyError must carry at least one issue"
        assert str(exc).strip()
        for issue in exc.issues:
            assert issue.message.strip(), f"issue without a message: {issue!r}"
            assert issue.file, f"issue without the file: {issue!r}"
            assert Path(issue.file).resolve() == file.resolve(), (
                f"issue names {issue.file!r}, not the topology file {file}"
            )
    else:
        assert isinstance(topology, Topology)


def _check(folder: Path, file_name: str, content: str | bytes) -> None:
    if currently_in_test_context():
        note(f"{file_name}: {content!r}")
    file = folder / file_name
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    _assert_only_attak_errors(file, read_topology)
    _assert_only_attak_errors(file, load_topology)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the topology files written by the fuzz (no *.py anywhere)."""
    return tmp_path_factory.mktemp("loader-fuzz")


def _folder(workdir: Path, name: str) -> Path:
    folder = workdir / name
    folder.mkdir(exist_ok=True)
    return folder


@FUZZ
@given(document=yaml_values)
def test_any_yaml_document_loads_or_raises_topology_error(workdir: Path, document: Any) -> None:
    """Arbitrary YAML data of any shape: a Topology or a TopologyError, nothing else."""
    text = yaml.safe_dump(document, allow_unicode=True)
    _check(_folder(workdir, "yaml-any"), "topology.yml", text)


@FUZZ
@given(document=json_values)
def test_any_json_document_loads_or_raises_topology_error(workdir: Path, document: Any) -> None:
    """Arbitrary JSON data of any shape: a Topology or a TopologyError, nothing else."""
    text = json.dumps(document)
    _check(_folder(workdir, "json-any"), "topology.json", text)


@FUZZ
@given(document=shaped_documents, as_json=st.booleans())
def test_topology_shaped_document_loads_or_raises_topology_error(
    workdir: Path, document: dict[str, Any], as_json: bool
) -> None:
    """Documents with the real keys and random values reach every reader path safely."""
    if as_json:
        text = json.dumps(document, default=str)
        _check(_folder(workdir, "json-shaped"), "topology.json", text)
    else:
        text = yaml.safe_dump(document, allow_unicode=True)
        _check(_folder(workdir, "yaml-shaped"), "topology.yml", text)


@FUZZ
@given(text=st.one_of(yaml_texts, st.text(max_size=200)))
def test_arbitrary_yaml_text_loads_or_raises_topology_error(workdir: Path, text: str) -> None:
    """Broken YAML syntax (tags, aliases, tabs, several documents) is a TopologyError."""
    _check(_folder(workdir, "yaml-text"), "topology.yml", text)


@FUZZ
@given(text=st.one_of(json_texts, st.text(max_size=200)))
def test_arbitrary_json_text_loads_or_raises_topology_error(workdir: Path, text: str) -> None:
    """Broken JSON syntax is a TopologyError."""
    _check(_folder(workdir, "json-text"), "topology.json", text)


@FUZZ
@given(content=st.binary(max_size=200), as_json=st.booleans())
def test_arbitrary_bytes_load_or_raise_topology_error(
    workdir: Path, content: bytes, as_json: bool
) -> None:
    """Bytes that may not even be UTF-8 are a TopologyError, not a UnicodeDecodeError."""
    name = "topology.json" if as_json else "topology.yml"
    _check(_folder(workdir, "bytes"), name, content)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "yaml"])
@pytest.mark.parametrize("depth", [1, 100, 900, 3000])
def test_deeply_nested_document_loads_or_raises_topology_error(
    workdir: Path, depth: int, as_json: bool
) -> None:
    """A document nested thousands of levels deep is a TopologyError, not a RecursionError."""
    nested = "[" * depth + "]" * depth
    if as_json:
        _check(_folder(workdir, "json-deep"), "topology.json", f'{{"processors": {nested}}}')
    else:
        _check(_folder(workdir, "yaml-deep"), "topology.yml", f"processors: {nested}\n")
