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
from hypothesis import HealthCheck, assume, currently_in_test_context, given, note, settings
from hypothesis import strategies as st

from attak_cdk.errors import AttakError, InputError, TopologyError
from attak_cdk.inputs import read_inputs
from attak_cdk.loader import MAX_ALIAS_NODES, TOP_LEVEL_KEYS, read_topology
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


# --- YAML aliases: however they nest, a short refusal, never a hang -----------------------

ALIAS_PLACES = ["lol: {}\n", "processors: {}\n", "max_hops: {}\n", "streams: {}\n"]


def _alias_document(width: int, depth: int, as_map: bool, place: str) -> str:
    def body(item: str) -> str:
        if as_map:
            return "{" + ", ".join(f"k{i}: {item}" for i in range(width)) + "}"
        return "[" + ", ".join([item] * width) + "]"

    lines = ["name: fuzz", "anchors:", f"  a0: &a0 {body('x')}"]
    lines += [f"  a{d}: &a{d} {body(f'*a{d - 1}')}" for d in range(1, depth)]
    return "\n".join(lines) + "\n" + place.format(f"*a{depth - 1}")


@FUZZ
@given(
    width=st.integers(1, 12),
    depth=st.integers(1, 12),
    as_map=st.booleans(),
    place=st.sampled_from(ALIAS_PLACES),
)
def test_aliases_expanding_past_the_limit_are_refused_in_short(
    workdir: Path, width: int, depth: int, as_map: bool, place: str
) -> None:
    """Aliases of aliases: a TopologyError with one short issue past the limit, whatever
    the shape, and the same reading as before below it."""
    text = _alias_document(width, depth, as_map, place)
    file = _folder(workdir, "yaml-alias") / "topology.yml"
    file.write_text(text, encoding="utf-8")
    # Nodes of each anchor written out: a list holds `width` copies of the level below; a
    # map as many keys (one node each) and copies. The document holds every anchor once
    # and the deepest once more; it has fewer than 400 nodes of its own.
    sizes = [1 + width * (2 if as_map else 1)]
    for _ in range(1, depth):
        sizes.append(1 + width * ((1 if as_map else 0) + sizes[-1]))
    expanded = sum(sizes) + sizes[-1] + depth + 6
    try:
        read_topology(file)
    except TopologyError as exc:
        assert all(len(issue.message) < 1000 for issue in exc.issues), str(exc)[:2000]
        refused = [i.code for i in exc.issues] == ["alias-expansion"]
        if expanded - 400 > MAX_ALIAS_NODES:
            assert refused, str(exc)[:2000]
            assert f"more than {MAX_ALIAS_NODES:,} nodes" in exc.issues[0].message
        elif expanded <= MAX_ALIAS_NODES:
            assert not refused
    else:
        assert expanded <= MAX_ALIAS_NODES + 400


# --- duplicate keys in input files: the file, the line and the key --------------------------


def _with_duplicate(value: Any, target: int) -> tuple[str, int, str] | None:
    """``value`` as JSON text, one key per line, with the ``target``-th object (in reading
    order) naming its first key again last: the text, that line and the key (or None if
    there are not that many non-empty objects)."""
    parts: list[str] = []
    found: list[tuple[int, str]] = []
    seen = [0]

    def write(item: Any) -> None:
        if isinstance(item, dict):
            pairs = list(item.items())
            if seen[0] == target and pairs and not found:
                pairs.append(pairs[0])
                found.append((-1, pairs[0][0]))
            seen[0] += 1
            parts.append("{")
            for index, (key, child) in enumerate(pairs):
                parts.append(",\n" if index else "\n")
                last = index == len(pairs) - 1 and index > 0
                if found and found[0][0] == -1 and last and key == found[0][1]:
                    found[0] = ("".join(parts).count("\n") + 1, key)
                parts.append(json.dumps(key) + ": ")
                write(child)
            parts.append("}")
        elif isinstance(item, list):
            parts.append("[")
            for index, child in enumerate(item):
                parts.append(", " if index else "")
                write(child)
            parts.append("]")
        else:
            parts.append(json.dumps(item))

    write(value)
    if not found or found[0][0] == -1:
        return None
    return "".join(parts), found[0][0], found[0][1]


@FUZZ
@given(data=json_values, target=st.integers(0, 6), as_lines=st.booleans())
def test_a_key_named_twice_in_input_is_refused_with_file_line_and_key(
    workdir: Path, data: Any, target: int, as_lines: bool
) -> None:
    """One object anywhere in input.json (or a JSON Lines line) naming a key twice is an
    InputError naming the file, the line of the second key, and the key."""
    document = {"processor": "reverse", "data": data} if as_lines else {"reverse": data}
    written = _with_duplicate(document, target)
    assume(written is not None)
    assert written is not None
    text, line, key = written
    assume("Infinity" not in text and "NaN" not in text)  # refused first, for what they are
    folder = _folder(workdir, "input-duplicates")
    if as_lines:
        file = folder / "events.jsonl"
        line, text = 2, '{"processor": "reverse", "data": 1}\n' + text.replace("\n", " ") + "\n"
    else:
        file = folder / "input.json"
    file.write_text(text, encoding="utf-8")
    note(text)
    with pytest.raises(InputError) as error:
        read_inputs(file, ["reverse"])
    assert f"{file}:{line}: key {key[:80]!r} appears twice in one object" in str(error.value)
