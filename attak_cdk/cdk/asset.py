"""Builds each processor's Lambda asset: its handler and what it imports, the data files
beside it, attak's runtime, its routes, and its requirements.

One asset per processor, so that editing one handler changes that function's code and no
other's (new code is a new deployment, and cold starts, for every function it reaches).
From the processor's folder (the one holding its handler file) the asset takes:

- Python: the handler's module and the local modules it reaches through its imports,
  followed with ``ast`` (``import x``, ``from x import y``, ``importlib.import_module("x")``,
  anywhere in the code, module after module). A module file at the top of the folder ships
  when something imports it; a folder of modules (a package, or a namespace folder) ships
  whole once any of it is imported. Imports are followed rather than the folder copied
  because processors often share one folder (``processors: ./processors``): each would
  ship the others' handlers, and an edit to one would redeploy them all. Helper modules
  shared by several handlers keep working: each processor importing one gets it. A module
  imported only by a computed name cannot be seen: import it by name, or keep it in a
  package the handler imports.
- Data a handler reads: every other file at the top of the folder or in a folder holding
  no Python (``templates/``); one in a folder of modules ships with that folder.
- Never: ``ALWAYS_EXCLUDED`` (``.env*``, ``tests/``, ``topology.*``, ``input.json`` and
  ``*.jsonl`` inputs, ``requirements.txt``, caches, VCS folders, ``cdk.out``, virtualenvs,
  ``node_modules``), nor what the folder's ``.attakignore`` lists (``IgnoreRules``).

Beside them: ``attak_runtime/`` (the Lambda entry point), the processor's routes file
(``config.ROUTES_FILE``), and, when the folder has a ``requirements.txt``, its packages
installed once per folder with the local pip for the Lambda platform (wheels only, never
Docker). Same inputs, same files: the CDK's content hash of each asset, and so the
template, stay identical between runs.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import AttakError
from ..graph import handler_module
from ..model import Processor
from ..runtime import config
from ..settings import DEFAULT_ARCHITECTURE, DEFAULT_PYTHON

RUNTIME_PACKAGE = "attak_runtime"
"""The name attak's runtime has inside every asset."""
LAMBDA_ENTRY = f"{RUNTIME_PACKAGE}.handler.lambda_handler"
RUNTIME_SOURCE = Path(__file__).resolve().parent.parent / "runtime"
IGNORE_FILE = ".attakignore"
"""The file in a processor's folder listing, gitignore-style, what its asset leaves out."""
ALWAYS_EXCLUDED = (
    # Secrets and what is only for people and tests: never in a function's code.
    ".env*",
    "tests/",
    "topology.*",
    "input.json",
    "*.jsonl",
    "requirements.txt",  # installed into the asset instead
    IGNORE_FILE,
    # Caches, version control, build output, virtualenvs, Node packages.
    "__pycache__/",
    "*.pyc",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".git/",
    ".hg/",
    ".svn/",
    "cdk.out/",
    ".venv/",
    "venv/",
    "node_modules/",
)
"""Patterns (``IgnoreRules``' syntax) no asset ever holds."""
_RUNTIME_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


class BundlingError(AttakError):
    """A processor's asset could not be made: its requirements could not be installed for
    the Lambda platform, or its ``.attakignore`` has a line attak does not read."""


def source_folder(processor: Processor) -> Path:
    """The folder the asset's files come from (a package's parent for __init__.py)."""
    file = processor.file
    return file.parent.parent if file.name == "__init__.py" else file.parent


@dataclass(frozen=True)
class IgnoreRules:
    """What an asset leaves out: ``ALWAYS_EXCLUDED``, then the folder's ``.attakignore``.

    The file's syntax is gitignore's, without negation: one pattern a line, ``#`` starts
    a comment; ``*``, ``?`` and ``[...]`` match within a name; a pattern ending in ``/``
    matches folders only (and so everything in them); a pattern holding a ``/`` other than
    a last one matches the path from the folder (``data/big.csv``, ``/notes.md``), any
    other the name at any depth (``*.parquet``); ``**/`` at the start matches any depth.
    """

    patterns: tuple[str, ...]

    @classmethod
    def of(cls, folder: Path) -> IgnoreRules:
        """The rules for ``folder``: the fixed ones and its ``.attakignore``, if any."""
        listed: list[str] = []
        file = folder / IGNORE_FILE
        if file.is_file():
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                pattern = line.strip()
                if not pattern or pattern.startswith("#"):
                    continue
                if pattern.startswith("!"):
                    raise BundlingError(
                        f"{file}:{number}: '{pattern}': negated patterns are not supported; "
                        "list only what to leave out"
                    )
                listed.append(pattern)
        return cls((*ALWAYS_EXCLUDED, *listed))

    def ignored(self, relative: str, is_dir: bool) -> bool:
        """Whether the file or folder at ``relative`` (``/``-separated) is left out."""
        name = relative.rpartition("/")[2]
        for pattern in self.patterns:
            folder_only = pattern.endswith("/")
            if folder_only and not is_dir:
                continue
            pattern = pattern.rstrip("/").removeprefix("**/")
            if "/" in pattern:
                if fnmatch.fnmatchcase(relative, pattern.lstrip("/")):
                    return True
            elif fnmatch.fnmatchcase(name, pattern):
                return True
        return False


def shipped_files(folder: Path, rules: IgnoreRules) -> list[str]:
    """Every file under ``folder`` the rules keep, as sorted ``/``-separated paths; a
    folder holding a ``pyvenv.cfg`` is a virtualenv, whatever its name, and is skipped."""
    found: list[str] = []
    for directory, folders, files in os.walk(folder):
        base = Path(directory).relative_to(folder).as_posix()
        prefix = "" if base == "." else f"{base}/"
        folders[:] = sorted(
            f
            for f in folders
            if not rules.ignored(prefix + f, is_dir=True)
            and not (Path(directory) / f / "pyvenv.cfg").is_file()
        )
        found.extend(prefix + f for f in sorted(files) if not rules.ignored(prefix + f, False))
    return sorted(found)


def imported_modules(source: str) -> set[str]:
    """The top-level names of the modules ``source`` imports absolutely, at any depth of
    its code (``import a.b`` -> ``a``; ``importlib.import_module("c")`` -> ``c``);
    relative imports stay inside their package, which ships whole."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()  # validation reports it; the asset cannot guess
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
        elif isinstance(node, ast.Call) and (literal := _literal_import(node)) is not None:
            names.add(literal.partition(".")[0])
    return names


def _literal_import(call: ast.Call) -> str | None:
    """The module an ``import_module("x")`` or ``__import__("x")`` call names literally."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def reached_modules(folder: Path, processor: Processor, files: list[str]) -> set[str]:
    """The top-level modules of ``folder`` (a ``.py`` file's stem, or a folder holding
    Python files) that the processor's handler reaches: its own, those it imports, those
    they import, and so on. ``files``: the files under ``folder`` the rules keep."""
    by_top: dict[str, list[str]] = {}
    for file in files:
        if file.endswith(".py"):
            by_top.setdefault(_top(file), []).append(file)
    reached: set[str] = set()
    todo = [handler_module(processor).partition(":")[0]]
    while todo:
        top = todo.pop()
        if top in reached or top not in by_top:
            continue  # the standard library, boto3, a requirement: not this folder's
        reached.add(top)
        for file in by_top[top]:
            todo.extend(imported_modules((folder / file).read_text(encoding="utf-8")))
    return reached


def _top(file: str) -> str:
    """The top-level name a file belongs to: its folder's, or a module file's stem."""
    first, slash, _ = file.partition("/")
    return first if slash else file.removesuffix(".py")


def asset_files(folder: Path, processor: Processor) -> list[str]:
    """What the processor's asset takes from ``folder`` (see the module docstring): the
    modules its handler reaches, whole folders of modules included, then every data file
    at the top or in a folder holding no Python."""
    files = shipped_files(folder, IgnoreRules.of(folder))
    python_tops = {_top(f) for f in files if f.endswith(".py")}
    reached = reached_modules(folder, processor, files)
    return [
        f
        for f in files
        if _top(f) in reached
        or ("/" in f and _top(f) not in python_tops)
        or ("/" not in f and not f.endswith(".py"))
    ]


class AssetStager:
    """Stages one folder per processor, in a temporary directory that lives as long as the
    synthesis (the CDK copies each into cdk.out by content hash)."""

    def __init__(
        self, architecture: str = DEFAULT_ARCHITECTURE, python_version: str = DEFAULT_PYTHON
    ) -> None:
        self.architecture = architecture
        self.python_version = python_version
        self._root = Path(tempfile.mkdtemp(prefix="attak-assets-"))
        self._installed: dict[tuple[Path, str, str], Path] = {}

    def stage(
        self,
        processor: Processor,
        routes: str,
        *,
        architecture: str | None = None,
        python: str | None = None,
    ) -> Path:
        """The processor's asset folder, with ``routes`` (``ResolvedTopology.runtime_routes``)
        as its routes file, and its requirements built for ``architecture`` and ``python``
        (default: the stager's)."""
        folder = source_folder(processor)
        digest = hashlib.sha256(f"{processor.file}:{processor.name}".encode()).hexdigest()[:12]
        staged = self._root / digest
        staged.mkdir()
        for file in asset_files(folder, processor):
            target = staged / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / file, target)
        shutil.copytree(RUNTIME_SOURCE, staged / RUNTIME_PACKAGE, ignore=_RUNTIME_IGNORED)
        (staged / config.ROUTES_FILE).write_text(routes, encoding="utf-8")
        requirements = folder / "requirements.txt"
        if requirements.is_file():
            built = (
                requirements,
                architecture or self.architecture,
                python or self.python_version,
            )
            shutil.copytree(self._requirements(built), staged, dirs_exist_ok=True)
        return staged

    def _requirements(self, built: tuple[Path, str, str]) -> Path:
        """The requirements installed for Lambda, once per folder, architecture and Python
        however many processors share them."""
        installed = self._installed.get(built)
        if installed is None:
            digest = hashlib.sha256(repr(tuple(map(str, built))).encode()).hexdigest()[:12]
            installed = self._root / f"requirements-{digest}"
            self._install(*built, installed)
            self._installed[built] = installed
        return installed

    def _install(self, requirements: Path, architecture: str, python: str, target: Path) -> None:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--requirement", str(requirements), "--target", str(target),
            "--platform", PLATFORMS[architecture], "--implementation", "cp",
            "--python-version", python, "--only-binary=:all:", "--no-compile",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BundlingError(
                f"{requirements}: installing the requirements for Lambda "
                f"({PLATFORMS[architecture]}, Python {python}) failed: "
                + " / ".join(detail)
                + "; every package needs a wheel for that platform (no source builds)"
            )

    def cleanup(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)
