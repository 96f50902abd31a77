"""Each processor's Lambda asset holds its own handler, what it imports, data files, the
runtime and its routes, and nothing a function never needs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from attak_cdk.cdk.app import build_app
from attak_cdk.cdk.asset import BundlingError, IgnoreRules, imported_modules

TOPOLOGY = """
    name: assets
    processors:
      spout: spout.py
      sink: sink.py
      lonely: lonely.py
    streams: [[spout, sink]]
"""
FILES = {
    "topology.yml": TOPOLOGY,
    "spout.py": """
        import _helpers
        from lib.fmt import shout

        def handler(event, context):
            context.emit("out", shout(_helpers.GREETING))
    """,
    "sink.py": """
        def handler(event, context):
            from _helpers import GREETING
            return GREETING
    """,
    "lonely.py": "def handler(event, context):\n    pass\n",
    "_helpers.py": "GREETING = 'hi'\n",
    "lib/__init__.py": "",
    "lib/fmt.py": "def shout(text):\n    return text.upper()\n",
    "lib/words.txt": "hello\n",
    "scripts/tool.py": "print('a script no handler imports')\n",
    "greeting.txt": "hello\n",
    "templates/mail.txt": "Dear {name}\n",
    "big.csv": "a,b\n",
    ".attakignore": "# data the functions never read\nbig.csv\n",
    ".env": "SECRET=1\n",
    ".env.local": "SECRET=2\n",
    "tests/test_spout.py": "def test_nothing():\n    pass\n",
    "input.json": '["hello"]\n',
    "events.jsonl": '"hello"\n',
    ".venv/pyvenv.cfg": "home = /usr\n",
    "env2/pyvenv.cfg": "home = /usr\n",
    "env2/lib/site.py": "",
    ".git/config": "",
    "__pycache__/spout.cpython-313.pyc": "",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def synth(project: Path, outdir: Path) -> dict[str, Path]:
    """Each processor's asset folder in a fresh synthesis, by processor."""
    directory = Path(build_app(project, outdir).synth().directory)
    template = json.loads((directory / "assets.template.json").read_text())
    assets: dict[str, Path] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            props = resource["Properties"]
            key = props["Code"]["S3Key"].removesuffix(".zip")
            assets[props["Environment"]["Variables"]["ATTAK_PROCESSOR"]] = (
                directory / f"asset.{key}"
            )
    return assets


def files(asset: Path) -> list[str]:
    """The asset's files, the runtime's aside."""
    return sorted(
        p.relative_to(asset).as_posix()
        for p in asset.rglob("*")
        if p.is_file() and not p.relative_to(asset).as_posix().startswith("attak_runtime/")
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("project"), FILES)


@pytest.fixture(scope="module")
def assets(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return synth(project, tmp_path_factory.mktemp("out"))


def test_each_asset_holds_its_handler_what_it_imports_data_and_its_routes(
    assets: dict[str, Path],
) -> None:
    data = ["greeting.txt", "lib/words.txt", "templates/mail.txt"]
    assert files(assets["spout"]) == sorted(
        ["_helpers.py", "attak_routes.json", "lib/__init__.py", "lib/fmt.py", "spout.py", *data]
    )
    # An import inside a function is followed too; the package this handler does not
    # import stays out, data and all.
    assert files(assets["sink"]) == sorted(
        ["_helpers.py", "attak_routes.json", "sink.py", "greeting.txt", "templates/mail.txt"]
    )
    assert files(assets["lonely"]) == [
        "attak_routes.json",
        "greeting.txt",
        "lonely.py",
        "templates/mail.txt",
    ]
    for asset in assets.values():
        assert (asset / "attak_runtime" / "handler.py").is_file()


def test_secrets_tests_inputs_caches_venvs_and_ignored_files_never_ship(
    assets: dict[str, Path],
) -> None:
    for processor, asset in assets.items():
        shipped = [p.relative_to(asset).as_posix() for p in asset.rglob("*")]
        for never in (".env", ".env.local", "tests", "topology.yml", "input.json",
                      "events.jsonl", ".attakignore", "big.csv", ".venv", "env2", ".git",
                      "__pycache__", "scripts"):  # fmt: skip
            assert never not in shipped, (processor, never)
        assert not any(p.endswith(".pyc") for p in shipped), processor


def test_editing_one_handler_changes_only_its_functions_code(
    project: Path, assets: dict[str, Path], tmp_path: Path
) -> None:
    edited = write(tmp_path / "edited", FILES)
    (edited / "spout.py").write_text((project / "spout.py").read_text() + "# edited\n")
    after = synth(edited, tmp_path / "out")
    assert after["spout"].name != assets["spout"].name
    assert after["sink"].name == assets["sink"].name
    assert after["lonely"].name == assets["lonely"].name
    # A shared helper belongs to every function importing it, and to those only.
    (edited / "_helpers.py").write_text("GREETING = 'hello'\n")
    helper = synth(edited, tmp_path / "out-helper")
    assert helper["spout"].name != after["spout"].name
    assert helper["sink"].name != after["sink"].name
    assert helper["lonely"].name == after["lonely"].name


def test_ignore_rules_read_gitignore_patterns(tmp_path: Path) -> None:
    (tmp_path / ".attakignore").write_text(
        "# comment\n\n*.parquet\ndata/raw/\n/notes.md\nfixtures/*.json\n**/scratch\n"
    )
    rules = IgnoreRules.of(tmp_path)
    ignored: dict[tuple[str, bool], bool] = {
        ("a.parquet", False): True,
        ("deep/b.parquet", False): True,
        ("data/raw", True): True,
        ("data/raw", False): False,  # a folder pattern: a file of that name stays
        ("data/clean", True): False,
        ("notes.md", False): True,
        ("docs/notes.md", False): False,  # anchored to the folder
        ("fixtures/x.json", False): True,
        ("other/fixtures/x.json", False): False,
        ("a/b/scratch", True): True,
        ("handler.py", False): False,
        (".env.production", False): True,  # always excluded
        ("topology.yaml", False): True,
    }
    for (relative, is_dir), expected in ignored.items():
        assert rules.ignored(relative, is_dir) is expected, relative


def test_a_negated_ignore_pattern_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / ".attakignore").write_text("*.csv\n!keep.csv\n")
    with pytest.raises(BundlingError, match=r"\.attakignore:2: '!keep\.csv'"):
        IgnoreRules.of(tmp_path)


def test_imports_are_found_at_any_depth_and_by_literal_name() -> None:
    source = """
import a.b, c
from d.e import f
from . import sibling
def handler(event, context):
    import g
    importlib.import_module("h.i")
    __import__("j")
    importlib.import_module(name)
"""
    assert imported_modules(source) == {"a", "c", "d", "g", "h", "j"}
