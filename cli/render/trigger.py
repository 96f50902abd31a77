"""``attak trigger``: each input event as it is sent, a progress bar when there are many,
then how many were sent and how to follow one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from .console import out, plural, preview

if TYPE_CHECKING:
    from rich.progress import Progress

    from attak_cdk.live.trigger import Delivery

PROGRESS_FROM = 20
"""Events from which trigger shows a progress bar (on a terminal)."""


def _delivery_text(delivery: Delivery) -> str:
    """One line for one input event sent by ``attak trigger``."""
    event = delivery.event
    head = f"[cyan]{escape(event.processor)}[/] ← {escape(preview(event.data))}"
    trace = f"trace [bold]{escape(delivery.trace)}[/]"
    if not delivery.sent:
        return f"[red]✗[/] {head}  {trace}  [red]not sent: {escape(delivery.error or '')}[/]"
    if delivery.error is not None:
        return f"[red]✗[/] {head}  {trace}  [red]{escape(delivery.error)}[/]"
    if delivery.via == "stream":
        how = "[dim]into its ingest stream[/]"
    elif delivery.via == "url":
        how = "[dim]done through its HTTPS endpoint[/]"
    elif delivery.result is not None:
        how = f"[dim]returned[/] {escape(preview(delivery.result))}"
    else:
        how = "[dim]invoked[/]"
    return f"[green]●[/] {head}  {trace}  {how}"


class TriggerProgress:
    """Prints each event as it is sent; a progress bar below when there are many."""

    def __init__(self, total: int, *, show: bool = True) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.show = show
        self.progress: Progress | None = None
        if show and total >= PROGRESS_FROM and out.is_terminal:
            self.progress = Progress(
                TextColumn("sending"), BarColumn(), MofNCompleteColumn(), console=out
            )
            self.task = self.progress.add_task("events", total=total)

    def __enter__(self) -> TriggerProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, delivery: Delivery) -> None:
        if self.show:
            out.print(_delivery_text(delivery))
        if self.progress is not None:
            self.progress.advance(self.task)


def trigger_header(name: str, stacks: tuple[str, ...], events: int, wait: bool) -> None:
    """The line before the events: how many go to which stacks."""
    how = ", waiting for each result" if wait else ""
    out.print(
        f"[bold]{escape(name)}[/]: sending {plural(events, 'input event')} to stack "
        f"{escape(', '.join(stacks))}{how}\n"
    )


def trigger_summary(deliveries: list[Delivery], seconds: float, path: Path) -> None:
    """How many events were sent, invoked or streamed, and the command following one."""
    unsent = [d for d in deliveries if not d.sent]
    failed = [d for d in deliveries if d.sent and d.error is not None]
    streamed = sum(1 for d in deliveries if d.sent and d.via == "stream")
    invoked = sum(1 for d in deliveries if d.sent and d.via == "invoke")
    posted = sum(1 for d in deliveries if d.sent and d.via == "url")
    through = f", {posted} through HTTPS endpoints" if posted else ""
    sent = f"{plural(streamed + invoked + posted, 'event')} sent ({invoked} invoked, "
    sent += f"{streamed} into ingest streams{through}) in {seconds:.2f} s"
    out.print()
    if unsent:
        out.print(f"[bold red]✗ {len(unsent)} of {len(deliveries)} events not sent;[/] {sent}")
    elif failed:
        out.print(f"[bold red]✗ {len(failed)} of {len(deliveries)} events failed;[/] {sent}")
    else:
        out.print(f"[bold green]✓ {sent}[/]")
    if deliveries and len(unsent) < len(deliveries):
        example = next(d for d in deliveries if d.sent).trace
        out.print(f"  one event's path: [bold]attak logs {escape(str(path))} --trace {example}[/]")


def trigger_document(
    name: str, stacks: tuple[str, ...], deliveries: list[Delivery]
) -> dict[str, object]:
    """``attak trigger --json``: the topology, its stacks, and what became of each event."""
    return {
        "topology": name,
        "stacks": list(stacks),
        "ok": not any(d.failed for d in deliveries),
        "events": [d.as_dict() for d in deliveries],
    }
