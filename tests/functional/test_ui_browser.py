"""`attak ui` in a real browser: Debian's headless Chromium driven by Playwright.

The browser is the system's (`/usr/bin/chromium`, installed by `make test`), never one that
Playwright downloads. Without it this test fails rather than skips: the page is only
known to work once a browser has run it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import REPO, SAMPLE, WriteProject
from tests.functional.test_ui_cli import start_ui

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "docs" / "ui.png"


@contextmanager
def served(*args: str) -> Iterator[str]:
    """`attak ui` with ``args`` running in a process of its own; its URL."""
    process, url = start_ui(*args)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture
def sample_url() -> Iterator[str]:
    with served(str(SAMPLE)) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Page]:
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: install Debian's chromium "
        "(apt-get install -y --no-install-recommends chromium; `make test` does)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 820})
        finally:
            browser.close()


def test_the_page_shows_the_sample_runs_it_and_shows_a_trace(
    page: Page, sample_url: str, tmp_path: Path
) -> None:
    problems: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda request: requested.append(request.url))

    page.goto(sample_url)
    expect(page.locator("#topology-name")).to_have_text("attak-example")
    expect(page.locator("#status")).to_have_text("✓ valid")
    processors = page.locator("g.node.processor")
    expect(processors).to_have_count(2)
    shown = {processors.nth(i).get_attribute("data-node") for i in range(2)}
    assert shown == {"hello_world_spout", "reverse"}
    expect(page.locator("g.node.sink")).to_contain_text("reversed strings")
    expect(page.locator("#input")).to_have_value('{"hello_world_spout": "hello world"}\n')

    page.locator("#run").click()
    expect(page.locator("#verdict")).to_contain_text(
        "every record processed: 2 invocations, 2 emits, 0 dead letters"
    )
    reverse_row = page.locator("#invocations li[data-processor=reverse]")
    expect(reverse_row).to_contain_text('"dlrow olleh"')
    expect(page.locator("g.node[data-node=reverse] .counts")).to_have_text("1 inv · 0 err · 1 out")

    reverse_row.click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text("#2 reverse")
    expect(detail).to_contain_text("from #1 hello_world_spout via hello_world_spout->reverse")
    trace = detail.locator(".trace li")
    expect(trace).to_have_count(3)
    expect(trace.nth(0)).to_contain_text("#1 hello_world_spout")
    expect(trace.nth(0)).to_contain_text("parent")
    expect(trace.nth(1)).to_contain_text("#2 reverse")
    expect(trace.nth(2)).to_contain_text("'reversed strings' sink  \"dlrow olleh\"")
    in_trace = re.compile(r"\bin-trace\b")
    expect(page.locator("g.node[data-node=hello_world_spout]")).to_have_class(in_trace)
    page.wait_for_timeout(800)  # let the records' dots finish travelling before the picture
    page.screenshot(path=tmp_path / "ui.png")
    assert (tmp_path / "ui.png").stat().st_size > 10_000  # a real picture, not a blank page
    if os.environ.get("ATTAK_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        page.screenshot(path=SCREENSHOT)

    # Clicking the parent in the trace moves to it: the trace is navigable.
    trace.nth(0).click()
    expect(detail).to_contain_text("#1 hello_world_spout")
    expect(detail).to_contain_text("hello world")  # what the spout printed: its logs

    # The list can be narrowed to what a text finds (in emits, too) or to failures.
    rows = page.locator("#invocations li:not(.hidden)")
    page.locator("#find").fill("OLLEH")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-processor", "reverse")
    expect(page.locator("#invocation-count")).to_have_text("(1 of 2)")
    page.locator("#find").fill("")
    page.locator("#failures-only").check()
    expect(rows).to_have_count(0)
    page.locator("#failures-only").uncheck()
    expect(page.locator("#invocation-count")).to_have_text("(2)")

    # Replay runs one record again, alone, at the processor that received it.
    page.locator("#invocations li[data-processor=reverse]").click()
    detail.locator("button.replay").click()
    expect(page.locator("#input")).to_have_value('{\n  "reverse": "hello world"\n}\n')
    expect(page.locator("#verdict")).to_contain_text(
        "every record processed: 1 invocation, 1 emit, 0 dead letters"
    )
    # The earlier run is one choice away, input and all.
    runs = page.locator("#history option")
    expect(runs).to_have_count(2)
    expect(runs.nth(0)).to_contain_text("✓ 1 invocation, 0 dead letters")
    page.locator("#history").select_option(index=1)
    expect(page.locator("#verdict")).to_contain_text("2 invocations, 2 emits, 0 dead letters")
    expect(page.locator("#input")).to_have_value('{"hello_world_spout": "hello world"}\n')
    expect(page.locator("#invocations li")).to_have_count(2)

    assert problems == []
    # A bad input is explained beside the editor (the browser also logs the 400 itself).
    page.locator("#input").fill('{"nope": 1}')
    page.locator("#run").click()
    expect(page.locator("#input-error")).to_contain_text("unknown processor 'nope'")
    assert all(url.startswith((sample_url, "data:")) for url in requested), requested


def test_a_run_that_hangs_is_stopped_from_the_page_and_the_next_run_works(
    page: Page, write_project: WriteProject
) -> None:
    folder = write_project(
        {
            "topology.yml": "name: hangs\nprocessors:\n  waits: ./waits.py\n",
            "waits.py": """
                import time

                def handler(event, context):
                    if event == "hang":
                        time.sleep(3600)  # a call to something that never answers
                    return event
                """,
            "input.json": '{"waits": "hang"}\n',
        }
    )
    with served(str(folder)) as url:
        page.goto(url)
        run = page.locator("#run")
        run.click()
        expect(run).to_have_text("Stop ■")
        expect(page.locator("#run-state")).to_contain_text("running 1 input event")
        run.click()
        expect(page.locator("#verdict")).to_contain_text("stopped by you after 0 invocations")
        expect(page.locator("#run-state")).to_contain_text("stopped after")
        expect(run).to_have_text("Run ▶")

        page.locator("#input").fill('{"processor": "waits", "data": "go"}\n')  # JSON Lines
        run.click()
        expect(page.locator("#verdict")).to_contain_text(
            "every record processed: 1 invocation, 0 emits, 0 dead letters"
        )


def test_a_run_of_5000_invocations_is_shown_and_answers_clicks_within_seconds(
    page: Page, write_project: WriteProject
) -> None:
    # The page once laid itself out again for every invocation: 3,500 took a minute. Drawn
    # in batches, 10,000 take about 2 s on a 2-core machine; 15 s leaves room for a busy one.
    folder = write_project(
        {
            "topology.yml": """
                name: many
                processors:
                  spout: ./spout.py
                  reverse: ./reverse.py
                  sink: ./sink.py
                streams:
                  - [spout, reverse]
                  - [reverse, sink]
                """,
            "spout.py": "def handler(event, context):\n    context.emit('lines', event)\n",
            "reverse.py": "def handler(event, context):\n    context.emit('out', event[::-1])\n",
            "sink.py": "def handler(event, context):\n    pass\n",
        }
    )
    text = "".join(f'{{"processor": "spout", "data": "line {i:05d}"}}\n' for i in range(1667))
    with served(str(folder)) as url:
        # Timed twice at most, the best kept, as a benchmark is: a one-off stall of the
        # browser (seen once in a whole suite's run, at 17.8 s where 1-2 s is usual) is
        # not a regression, and a regression is slow both times.
        times = [run_5001(page, url, text)]
        if times[0][0] >= 15 or times[0][1] >= 10:
            times.append(run_5001(page, url, text))
    shown, clicked = min(t[0] for t in times), min(t[1] for t in times)
    tried = ", ".join(f"{s:.1f} s and {c:.1f} s" for s, c in times)
    assert shown < 15, f"5,001 invocations took {shown:.1f} s to show ({tried})"
    assert clicked < 10, f"selecting an invocation of 5,001 took {clicked:.1f} s ({tried})"


def wait_for_text(page: Page, selector: str, text: str, seconds: float) -> None:
    """Wait for ``text`` in ``selector`` by asking the page once a second.

    Playwright's own waiting asks at every frame; during a long run that starves the
    page's reading of the run (seen: 763 invocations read in two minutes, where a page
    left alone reads 100,000 in twenty seconds; and a 5,000-invocation run left at
    "running..." for a minute on a loaded machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in (page.locator(selector).text_content() or ""):
            return
        time.sleep(1)
    expect(page.locator(selector)).to_contain_text(text, timeout=1)


def run_5001(page: Page, url: str, text: str) -> tuple[float, float]:
    """Run ``text`` (1,667 events: 5,001 invocations) on a freshly loaded page; return the
    seconds from the stream's last byte to the page free after the verdict, and those to
    show the last invocation's trace once clicked."""
    page.goto(url)
    expect(page.locator("#run")).to_be_enabled()
    page.wait_for_load_state("networkidle")  # the page has filled in its own input
    page.evaluate("text => { document.getElementById('input').value = text; }", text)
    assert page.evaluate("document.getElementById('input').value.length") == len(text)
    page.locator("#run").click()
    wait_for_text(
        page, "#verdict", "every record processed: 5001 invocations, 3334 emits, 0 dead letters", 90
    )
    # From the stream's last byte (Resource Timing) to the first frame after the verdict
    # with the page free to answer: the page's own share, whatever the server took.
    shown: float = page.evaluate(
        """new Promise(r => requestAnimationFrame(() => setTimeout(() => {
            const run = performance.getEntriesByType("resource")
                .filter(e => e.name.endsWith("/api/run")).pop();
            r((performance.now() - run.responseEnd) / 1000);
        })))"""
    )
    expect(page.locator("#invocation-count")).to_have_text("(5001)")
    # "0 err" does not fit on the node beside four-digit counts: it is left to the tooltip.
    expect(page.locator("g.node[data-node=reverse] .counts")).to_have_text("1667 inv · 1667 out")
    expect(page.locator("g.edge[data-edge] .label .count")).to_have_text(
        [" \u00d71667"] * 2
    )  # the count of records each stream carried
    started = time.perf_counter()
    page.locator("#invocations li").last.click()
    expect(page.locator("#detail .trace li")).to_have_count(3)
    return shown, time.perf_counter() - started


def test_the_first_view_fits_the_graph_and_a_zoom_survives_reload_and_replay(
    page: Page, sample_url: str
) -> None:
    page.goto(sample_url)
    expect(page.locator("g.node.processor")).to_have_count(2)
    graph = page.locator("#graph").bounding_box()
    assert graph is not None
    for node in page.locator("g.node").all():  # every node inside the graph's pane
        box = node.bounding_box()
        assert box is not None
        assert graph["x"] <= box["x"] and box["x"] + box["width"] <= graph["x"] + graph["width"]
        assert graph["y"] <= box["y"] and box["y"] + box["height"] <= graph["y"] + graph["height"]

    page.locator("#zoom-in").click()
    page.locator("#zoom-in").click()
    zoomed = page.locator("#graph").get_attribute("viewBox")
    page.locator("#reload").click()
    expect(page.locator("#status")).to_have_text("✓ valid")
    page.wait_for_timeout(200)
    assert page.locator("#graph").get_attribute("viewBox") == zoomed

    page.locator("#run").click()
    expect(page.locator("#verdict")).to_contain_text("2 invocations")
    page.locator("#invocations li[data-processor=reverse]").click()
    before = _scale(page)
    page.locator("#detail button.replay").click()  # the drawer closes: the pane grows
    expect(page.locator("#verdict")).to_contain_text("1 invocation,")
    assert _scale(page) == pytest.approx(before, rel=0.01)


def _scale(page: Page) -> float:
    """Screen pixels per unit of the graph: what a zoom changes."""
    width = page.evaluate("document.getElementById('graph').getBoundingClientRect().width")
    view_box = page.locator("#graph").get_attribute("viewBox")
    assert view_box is not None
    return float(width) / float(view_box.split()[2])
