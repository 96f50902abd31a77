"""``attak dead-letters``: the queues as a table, one letter in full, each replay as it goes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from rich.markup import escape

from .console import out, plural, preview
from .tables import table

if TYPE_CHECKING:
    from attak_cdk.live.dead_letters import FetchedRecords, QueueContents, Replay
    from attak_cdk.live.letters import Letter


def moment(seconds: float | None) -> str:
    """An epoch time as local time to the second, the way a person reads a log."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds).astimezone().isoformat(sep=" ", timespec="seconds")


def queues_table(name: str, queues: list[QueueContents]) -> None:
    """Per processor: how many letters, the oldest and the newest; ``≈`` where a count is
    SQS's approximate one, with why under the table."""
    total = sum(q.count for q in queues)
    approximate = [q for q in queues if not q.exact]
    out.print(f"[bold]{escape(name)}[/]: {plural(total, 'dead letter')}\n")
    rows = [
        [
            escape(q.processor),
            f"{'' if q.exact else '≈'}{q.count}",
            moment(q.oldest),
            moment(q.newest),
        ]
        for q in queues
    ]
    listing = table("processor", "letters", "oldest", "newest", left=("oldest", "newest"))
    for row in rows:
        listing.add_row(*row)
    out.print(listing)
    for q in approximate:
        why = []
        if not q.complete:
            why.append(f"{len(q.letters)} read (--limit)")
        if q.held:
            why.append(f"{q.held} held by another reader (a replay running?)")
        out.print(
            f"[yellow]≈ {escape(q.processor)}: counted by SQS, approximately; "
            f"{'; '.join(why)}; oldest and newest are of the letters read[/]"
        )
    if total:
        out.print(
            "\n  one in full: [bold]attak dead-letters show PATH ID[/] (ids: --json); "
            "send back: [bold]attak dead-letters replay PATH --processor NAME[/]"
        )


def letters_table(letters: list[Letter]) -> None:
    """The letters read, one line each: id, processor, when, trace, error."""
    if not letters:
        return
    rows = [
        [
            escape(letter.id),
            escape(letter.processor),
            moment(letter.sent),
            escape(letter.trace or "-"),
            escape(preview(letter.error)),
        ]
        for letter in letters
    ]
    listing = table(
        "id", "processor", "when", "trace", "error", left=("processor", "when", "trace", "error")
    )
    for row in rows:
        listing.add_row(*row)
    out.print()
    out.print(listing)


def letter_in_full(letter: Letter, records: FetchedRecords | None) -> None:
    """Everything a letter says: where and when, its data, its error and traceback; a
    Lambda batch record's shard and sequence range and the records still in the stream."""
    out.print(f"[bold]{escape(letter.id)}[/]  [cyan]{escape(letter.processor)}[/]")
    kinds = {
        "event": "an event the runtime dead-lettered",
        "batch": "Kinesis records Lambda gave up on (whole records failed: a timeout, "
        "emits not written)",
        "invoke": "a direct invocation Lambda gave up on",
        "unknown": "a message attak does not know",
    }
    fields = [
        ("what", kinds[letter.kind]),
        ("when", moment(letter.sent)),
        ("stream", letter.stream or "- (direct invocation)"),
        ("trace", letter.trace or "-"),
        ("attempts", "-" if letter.attempts is None else str(letter.attempts)),
        ("read", plural(letter.receives, "time")),
    ]
    for label, value in fields:
        out.print(f"  {label + ':':10}{escape(value)}")
    out.print(f"  {'error:':10}[red]{escape(letter.error)}[/]")
    for line in letter.traceback.rstrip().splitlines():
        out.print(f"    [dim]{escape(line)}[/]")
    batch = letter.batch
    if batch is not None:
        out.print(
            f"  {'records:':10}{batch.size} in shard {escape(batch.shard)}, sequence numbers "
            f"{escape(batch.start)} to {escape(batch.end)}"
        )
        if records is not None and records.missing:
            out.print(f"  [yellow]{escape(records.missing)}[/]")
        for record in records.records if records is not None else []:
            data = bytes(record["Data"])
            text = data.decode("utf-8", "replace") if data.isascii() else repr(data[:200])
            out.print(f"    {escape(record['SequenceNumber'])}  {escape(preview(text))}")
    elif letter.has_data:
        data = letter.data
        shown = (
            repr(data)
            if isinstance(data, bytes)
            else json.dumps(data, indent=2, ensure_ascii=False)
        )
        out.print(f"  {'data:':10}")
        for line in shown.splitlines():
            out.print(f"    {escape(line)}")


def replay_line(item: Replay, dry_run: bool) -> None:
    """One letter sent back (or, dry, where it would go)."""
    letter = item.letter
    trace = escape(letter.trace or "-")
    head = f"[cyan]{escape(letter.processor)}[/] {escape(letter.id)}  trace {trace}"
    where = "into stream" if item.via == "stream" else "invoke"
    if item.via == "skip":
        out.print(f"[yellow]-[/] {head}  [yellow]not replayed: {escape(item.error or '')}[/]")
    elif dry_run:
        out.print(f"[dim]○[/] {head}  would {where} {escape(item.target)}")
    elif item.error is not None:
        mark = "[yellow]![/]" if item.accepted else "[red]✗[/]"
        out.print(f"{mark} {head}  [red]{escape(item.error)}[/]")
    else:
        out.print(f"[green]●[/] {head}  {where} {escape(item.target)}, removed from its queue")


def replay_summary(items: list[Replay], dry_run: bool, path: str) -> None:
    """How many went back, how many stayed, and what to run next."""
    skipped = [i for i in items if i.via == "skip"]
    if dry_run:
        going = len(items) - len(skipped)
        out.print(
            f"\n[bold]dry run:[/] {plural(going, 'letter')} would be replayed"
            f"{f', {len(skipped)} not' if skipped else ''}; nothing was sent or removed"
        )
        return
    done = [i for i in items if i.deleted]
    unsent = [i for i in items if not i.accepted]
    twice = [i for i in items if i.accepted and not i.deleted]
    out.print()
    if not unsent and not twice:
        out.print(f"[bold green]✓ {plural(len(done), 'letter')} replayed and removed[/]")
    else:
        out.print(
            f"[bold red]✗ {len(done)} of {len(items)} letters replayed and removed; "
            f"{len(unsent)} not replayed (still in their queues)"
            f"{f', {len(twice)} replayed but still queued' if twice else ''}[/]"
        )
    followed = done[0].letter.trace if done else None
    if followed:
        out.print(f"  follow one: [bold]attak logs {escape(path)} --trace {escape(followed)}[/]")
