"""Which part of attak may import which: DESIGN.md's layers, checked on the source.

Every module under ``attak_cdk/`` and ``cli/`` is parsed with ``ast``; every import in it
(at the top, inside a function, under ``TYPE_CHECKING``; relative ones resolved against the
module's package) is checked against ``LAYERS``. A module may import its own group (the
modules of ``simulate/`` one another) and any layer below its own; an import of a higher
layer (upward) or of another group of the same layer (sideways) is reported with the
importing file, the line and the imported module. A module that no group claims is
reported too: a new module is placed here deliberately, with the reason.

DESIGN.md's order is ``model <- graph <- validate <- loader <- {simulate, cdk, live, plan,
ui} <- cli``. Placed around it:

- ``runtime/`` is shipped into every Lambda: it imports nothing from attak, and anything
  may read its wire format (the simulators, the planner's envelope sizes, trigger).
- ``attak_cdk/__init__`` holds the version, and ``Topology`` imported only on first use,
  so importing the package stays light.
- ``errors`` and ``settings`` are leaves the model is made of and every layer reports with.
- ``grants`` turns a processor's ``grants:`` into IAM statements as plain data: the model
  holds them, the CDK layer adds them, the review words them; it sits just below the model.
  ``endpoint`` does the same for a processor's ``http:`` (its function URL), beside it.
- ``schedules`` reads a processor's ``schedule:`` and says when it fires, as plain data,
  beside ``grants``: the model holds it, the CDK layer, simulate and plan read it.
- ``function_settings`` reads a processor's ``layers:`` and ``vpc:`` and words a VPC's
  network-interface statements as grants do: above ``grants``, below the model.
- ``references`` reads environment values kept in SSM or Secrets Manager, and makes the
  IAM statements (``grants``' type) and the words that read them need: the model holds
  them, so it sits between ``grants`` and the model.
- ``handlers`` imports a processor's handler file: validation checks that it imports, the
  loader runs Python topologies with it, the simulators call the handlers.
- ``inputs`` reads ``input.json`` beside the topology, a reader beside the loader.
- ``output`` checks a folder before attak writes into it (synth's assembly, init's
  project): the writer's counterpart of the readers beside it.
- ``manifest`` is the schema of what a deployed stack says it holds: ``cdk`` writes it,
  ``live`` reads it, so it sits below both, beside the loader.
- ``stacks`` decides how a topology is spread over CloudFormation stacks: ``cdk`` builds
  that layout, ``plan`` prices its dashboards and validation checks the stacks' names, so
  it sits below all three, just above ``graph``, without the CDK.
- ``limits`` holds AWS's limits on what attak derives and the sizes of attak's own
  derivations: validation reports a topology past one, so it sits below validation.
- ``review`` summarizes a synthesized template: a feature beside ``cdk``, read by the CLI.
- ``project`` puts the loader, the plan (``shards: auto``) and validation together: above
  the features, since it uses ``plan``, and below every place that loads a topology.
- ``schema`` describes the topology file to editors from the loader's key tables, the
  settings, validation's name patterns and the plan's quantities: beside ``project``, above
  ``plan``.
- ``ui``, ``testing``, ``toolchain`` and ``cdk/app.py`` are entry points, like the CLI:
  the UI serves simulations (``simulate``) and deployments (``live``); ``testing`` runs
  the simulator for users' tests; ``toolchain`` runs the cdk CLI and reads deployments
  (``live``); ``cdk/app.py`` is ``cdk.json``'s app and loads the topology through
  ``project``. They use features, so they sit above them.

Three rules stand beside the order: ``runtime/`` imports only the standard library and
boto3; only ``attak_cdk/cdk/`` imports ``aws_cdk``, ``constructs`` or ``cdk_nag`` (jsii
starts a Node process: ``attak simulate`` must not pay for it); ``attak_cdk`` never imports
``cli``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("attak_cdk", "cli")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("attak_cdk.runtime",),
    ("attak_cdk",),
    ("attak_cdk.errors",),
    ("attak_cdk.settings",),
    ("attak_cdk.grants", "attak_cdk.endpoint", "attak_cdk.schedules"),
    ("attak_cdk.references",),
    ("attak_cdk.function_settings",),
    ("attak_cdk.model",),
    ("attak_cdk.graph",),
    ("attak_cdk.stacks",),
    ("attak_cdk.limits",),
    ("attak_cdk.handlers",),
    ("attak_cdk.validate",),
    (
        "attak_cdk.loader",
        "attak_cdk.inputs",
        "attak_cdk.manifest",
        "attak_cdk.output",
    ),
    (
        "attak_cdk.simulate",
        "attak_cdk.cdk",
        "attak_cdk.live",
        "attak_cdk.plan",
        "attak_cdk.review",
        "attak_cdk.cdk_output",
    ),
    ("attak_cdk.project", "attak_cdk.schema"),
    ("attak_cdk.ui", "attak_cdk.testing", "attak_cdk.toolchain", "attak_cdk.cdk.app"),
    ("cli",),
)
"""Groups by layer, lowest first; a module belongs to the group that names the most of it."""

ALLOWED: Mapping[tuple[str, str], str] = {
    ("attak_cdk", "attak_cdk.cdk"): "`attak_cdk.Topology`, the construct for users' own CDK "
    "apps, is the package's one re-exported name; it is imported on first use (PEP 562 "
    "`__getattr__`), so importing the package still loads no CDK",
    ("attak_cdk.cdk", "attak_cdk.project"): "the `Topology` construct takes a topology's "
    "path as every command does, and reads it as they do: through `project`, which does "
    "not import the CDK layer, so no cycle",
}
"""(importing group, imported group) -> why this sideways or upward import is right.

Every other feature reads the layers below it and nothing beside it. An entry here is a
decision, so it says why."""

RUNTIME_MAY_IMPORT = frozenset(sys.stdlib_module_names) | {"boto3", "botocore"}
JSII_PACKAGES = ("aws_cdk", "constructs", "cdk_nag")


@dataclass(frozen=True)
class Module:
    """A module's source, and where it is (for messages and for relative imports)."""

    name: str
    file: str
    source: str
    is_package: bool = False


@dataclass(frozen=True)
class Import:
    module: Module
    line: int
    imported: str

    def __str__(self) -> str:
        return f"{self.module.file}:{self.line}: {self.module.name} imports {self.imported}"


def source_modules() -> list[Module]:
    """Every module of attak_cdk/ and cli/, read from the working tree."""
    modules = []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = file.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            relative = str(file.relative_to(ROOT))
            modules.append(Module(name, relative, file.read_text(encoding="utf-8"), is_package))
    return modules


def imports(module: Module, known: frozenset[str]) -> Iterator[Import]:
    """Every import in the module, anywhere in it, as absolute module names.

    ``from . import graph`` names the module ``graph`` when there is one, else the package.
    """
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(ast.parse(module.source, module.file)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            named = (f"{base}.{alias.name}" for alias in node.names)
            for imported in dict.fromkeys(n if n in known else base for n in named):
                yield Import(module, node.lineno, imported)


def group_of(name: str) -> tuple[int, str] | None:
    """The layer and group a module belongs to: the group naming the most of it.

    The group ``attak_cdk`` is the package's ``__init__`` alone, not the modules in it.
    """
    best: tuple[int, str] | None = None
    for layer, groups in enumerate(LAYERS):
        for group in groups:
            within = name.startswith(group + ".") and group != "attak_cdk"
            if (name == group or within) and (best is None or len(group) > len(best[1])):
                best = (layer, group)
    return best


def violations(modules: list[Module]) -> list[str]:
    """Every import that breaks the layering, and every module no group claims."""
    known = frozenset(m.name for m in modules)
    found: list[str] = []
    for module in modules:
        mine = group_of(module.name)
        if mine is None:
            found.append(f"{module.file}: {module.name} is in no layer: place it in LAYERS")
            continue
        for item in imports(module, known):
            found.extend(_problems(item, mine))
    return found


def _problems(item: Import, mine: tuple[int, str]) -> Iterator[str]:
    top = item.imported.split(".")[0]
    name = item.module.name
    if name.startswith("attak_cdk.runtime") and not (
        top in RUNTIME_MAY_IMPORT or item.imported.startswith("attak_cdk.runtime")
    ):
        yield f"{item}: runtime/ may import only the standard library and boto3"
    if top in JSII_PACKAGES and not name.startswith("attak_cdk.cdk"):
        yield f"{item}: only attak_cdk/cdk/ may import {top} (it starts jsii)"
    if name.startswith("attak_cdk") and top == "cli":
        yield f"{item}: attak_cdk never imports cli"
    if top not in PACKAGES:
        return
    theirs = group_of(item.imported)
    if theirs is None or theirs[1] == mine[1] or (mine[1], theirs[1]) in ALLOWED:
        return
    if theirs[0] > mine[0]:
        yield f"{item}: upward, {mine[1]} (layer {mine[0]}) is below {theirs[1]} ({theirs[0]})"
    elif theirs[0] == mine[0]:
        yield f"{item}: sideways, {mine[1]} and {theirs[1]} share layer {mine[0]}"


def test_every_import_follows_the_layers() -> None:
    modules = source_modules()
    assert len(modules) > 50  # the walk found the package, not an empty folder
    assert violations(modules) == []


def _with(name: str, source: str, is_package: bool = False) -> list[Module]:
    """A small tree holding one synthetic module beside a few real names."""
    others = ["attak_cdk.model", "attak_cdk.plan.load", "attak_cdk.live.logs", "cli.render"]
    tree = [Module(other, other.replace(".", "/") + ".py", "") for other in others]
    return [*tree, Module(name, name.replace(".", "/") + ".py", source, is_package)]


def layer(name: str) -> int:
    """The number of the layer that names ``name`` (so adding a layer moves no test)."""
    return next(number for number, group in enumerate(LAYERS) if name in group)


def test_an_upward_import_inside_a_function_is_reported_with_its_line() -> None:
    source = "from __future__ import annotations\n\ndef f():\n    from .plan import load\n"
    assert violations(_with("attak_cdk.graph", source)) == [
        "attak_cdk/graph.py:4: attak_cdk.graph imports attak_cdk.plan.load: upward, "
        f"attak_cdk.graph (layer {layer('attak_cdk.graph')}) is below attak_cdk.plan "
        f"({layer('attak_cdk.plan')})"
    ]


def test_a_sideways_import_between_features_is_reported() -> None:
    source = "from ..live import logs\n"
    (problem,) = violations(_with("attak_cdk.plan.cost", source))
    assert problem.startswith("attak_cdk/plan/cost.py:1: attak_cdk.plan.cost imports ")
    assert "attak_cdk.live.logs: sideways, attak_cdk.plan and attak_cdk.live" in problem


def test_runtime_jsii_and_cli_imports_are_reported() -> None:
    runtime = violations(_with("attak_cdk.runtime.handler", "import yaml\nfrom .. import model\n"))
    assert [p.split(": ", 2)[-1] for p in runtime] == [
        "runtime/ may import only the standard library and boto3",
        "runtime/ may import only the standard library and boto3",
        f"upward, attak_cdk.runtime (layer 0) is below attak_cdk.model ({layer('attak_cdk.model')})",
    ]
    (jsii,) = violations(_with("attak_cdk.simulate.memory", "import aws_cdk as cdk\n"))
    assert jsii.endswith("only attak_cdk/cdk/ may import aws_cdk (it starts jsii)")
    problems = violations(_with("attak_cdk.plan", "from cli import render\n", is_package=True))
    assert (
        "attak_cdk/plan.py:1: attak_cdk.plan imports cli.render: attak_cdk never imports cli"
        in (problems)
    )


def test_a_module_in_no_layer_is_reported() -> None:
    assert violations(_with("attak_cdk.newthing", "")) == [
        "attak_cdk/newthing.py: attak_cdk.newthing is in no layer: place it in LAYERS"
    ]
