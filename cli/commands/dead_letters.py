"""``attak dead-letters list | show | replay``: a deployed topology's dead letters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..group import AttakGroup
from ..options import (
    EndpointOption,
    JsonOption,
    PathArgument,
    ProfileOption,
    RegionOption,
    StackNameOption,
    aws_connection,
)
from ..render.console import print_json

if TYPE_CHECKING:
    from attak_cdk.live.dead_letters import Queues

CONFIRM_OVER = 10
"""Letters a replay sends without asking (more asks, unless --yes)."""

app = typer.Typer(
    cls=AttakGroup,
    help="List, show and replay the dead letters of a deployed topology.\n\n"
    "Every processor has a dead-letter queue (kept 14 days): events that failed every "
    "retry, with their data, error and trace. Fix the handler, deploy, then replay them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ProcessorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--processor",
        "-p",
        help="Only this processor's letters (repeat for more).",
        show_default=False,
    ),
]
LimitOption = Annotated[
    int,
    typer.Option(
        min=1, help="Letters read per queue at most; counts beyond are SQS's approximate ones."
    ),
]


def _queues(
    path: Path,
    stack_name: str | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> tuple[str, Queues, Any]:
    """The topology's name, its dead-letter queues, and the connection to its account."""
    from attak_cdk.live.dead_letters import Queues
    from attak_cdk.live.deployment import find_deployment
    from attak_cdk.project import load_topology

    topology = load_topology(path)
    connection = aws_connection(region, profile, endpoint_url)
    deployment = find_deployment(connection, topology.name, stack_name)
    return topology.name, Queues(deployment, connection.client("sqs")), connection


@app.command("list")
def list_command(
    path: PathArgument = Path(),
    processor: ProcessorOption = None,
    letters: Annotated[
        bool, typer.Option("--letters", help="Also one line per letter read.")
    ] = False,
    limit: LimitOption = 1000,
    as_json: JsonOption = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Count each processor's dead letters, with the oldest and newest; nothing is taken out.

    Example: attak dead-letters list sample_topology --letters
    """
    from attak_cdk.live.dead_letters import list_queues

    from ..render.dead_letters import letters_table, queues_table

    name, queues, connection = _queues(path, stack_name, region, profile, endpoint_url)
    with connection.errors("reading the dead-letter queues"):
        found = list_queues(queues, processor or (), limit)
    if as_json:
        print_json(
            {
                "topology": name,
                "queues": [q.as_dict() for q in found],
                "letters": [letter.as_dict() for q in found for letter in q.letters],
            }
        )
        return
    queues_table(name, found)
    if letters:
        letters_table([letter for q in found for letter in q.letters])


@app.command()
def show(
    path: PathArgument = Path(),
    letter_id: Annotated[
        str, typer.Argument(metavar="ID", help="The letter's id (`list --letters`), or a trace id.")
    ] = "",
    processor: ProcessorOption = None,
    as_json: JsonOption = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Show one dead letter in full: data, error and traceback, trace, attempts, when.

    For Kinesis records Lambda gave up on (a timeout, say), the records are read back
    from the stream while its retention keeps them.

    Example: attak dead-letters show sample_topology 1f2e3d4c5b6a7980
    """
    from attak_cdk.errors import UsageError
    from attak_cdk.live.dead_letters import fetch_records, find_letter

    from ..render.dead_letters import letter_in_full

    if not letter_id:
        raise UsageError(
            "give the letter's ID (or a trace id): `attak dead-letters list --letters` shows them"
        )
    _, queues, connection = _queues(path, stack_name, region, profile, endpoint_url)
    with connection.errors("reading the dead-letter queues"):
        letter = find_letter(queues, letter_id, processor or ())
        records = (
            fetch_records(connection.client("kinesis"), letter) if letter.kind == "batch" else None
        )
    if as_json:
        document = letter.as_dict()
        if records is not None:
            document["records"] = [
                {
                    "sequence": r["SequenceNumber"],
                    "key": r["PartitionKey"],
                    "data_base64": _b64(r["Data"]),
                }
                for r in records.records
            ]
            document["records_missing"] = records.missing
        print_json(document)
        return
    letter_in_full(letter, records)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(bytes(data)).decode()


@app.command()
def replay(
    path: PathArgument = Path(),
    processor: ProcessorOption = None,
    trace: Annotated[str | None, typer.Option(help="Only the letter of this trace id.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only letters since: 30m, 2h, 1d ago, or a time (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only letters until: 30m, 2h, 1d ago, or a time (ISO 8601).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every letter of every processor.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be replayed; send and remove nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help=f"Do not ask before replaying more than {CONFIRM_OVER}."),
    ] = False,
    limit: LimitOption = 1000,
    as_json: JsonOption = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Send dead letters back into their processor's input, removing each once accepted.

    A letter read from a stream goes back into that stream (its envelope as it was, trace
    kept); a direct invocation is invoked again. A letter leaves its queue only once its
    replay was accepted: if the replay stops, the rest are still there. Say which letters
    (--processor, --trace, --since/--until, or --all). Exits 1 when a letter was not
    replayed.

    Example: attak dead-letters replay sample_topology --processor reverse --since 2h --dry-run
    """
    from attak_cdk.errors import UsageError
    from attak_cdk.live import dead_letters
    from attak_cdk.live.letters import Selection
    from attak_cdk.live.logs import parse_since

    from ..render.dead_letters import replay_line, replay_summary

    filtered = bool(processor or trace or since or until)
    if not filtered and not every:
        raise UsageError(
            "say which letters to replay: --processor NAME, --trace ID, --since/--until, "
            "or --all for every one (`attak dead-letters list` shows what is there)"
        )
    if filtered and every:
        raise UsageError(
            "--all replays every letter: leave it out to use --processor, --trace, "
            "--since or --until"
        )
    selection = Selection(
        processors=tuple(processor or ()),
        trace=trace,
        since=parse_since(since, option="--since") / 1000 if since else None,
        until=parse_since(until, option="--until") / 1000 if until else None,
    )
    name, queues, connection = _queues(path, stack_name, region, profile, endpoint_url)
    with connection.errors("reading the dead-letter queues"):
        chosen, _ = dead_letters.select(queues, selection, limit)
    items = dead_letters.plan(queues.deployment, chosen)
    try:
        if not chosen:
            if as_json:
                print_json({"topology": name, "dry_run": dry_run, "letters": []})
            else:
                typer.echo(f"{name}: no dead letters to replay")
            return
        if dry_run:
            if as_json:
                print_json(
                    {"topology": name, "dry_run": True, "letters": [i.as_dict() for i in items]}
                )
            else:
                for item in items:
                    replay_line(item, dry_run=True)
                replay_summary(items, True, str(path))
            return
        if len(chosen) > CONFIRM_OVER and not yes:
            typer.confirm(
                f"replay {len(chosen)} dead letters of {name} into their processors' inputs?",
                abort=True,
                err=True,
            )
        with connection.errors("replaying the dead letters"):
            dead_letters.replay(
                items,
                queues,
                connection.client("kinesis", attempts=1),
                connection.client("lambda", attempts=1),
                on_replay=None if as_json else lambda item: replay_line(item, dry_run=False),
            )
    finally:
        queues.release([i.letter for i in items if not i.deleted])
    if as_json:
        print_json({"topology": name, "dry_run": False, "letters": [i.as_dict() for i in items]})
    else:
        replay_summary(items, False, str(path))
    if any(i.failed for i in items):
        raise typer.Exit(1)
