"""`attak ui` read at a glance, in a real browser (Debian's headless Chromium, Playwright).

What a person sees without reading the code: text readable on a fitted graph, labels that
do not overlap, a view that stays where it was put, one row per failing record, errors
shown whole, an input never lost, loops drawn as the README says, and bad input explained
in the page. Each test measures the real page at 1400x900.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import SAMPLE, WriteProject
from tests.functional.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, served, wait_for_text

MIN_TEXT_PX = 11


@pytest.fixture
def page() -> Iterator[Page]:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: `make test` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def _project(write_project: WriteProject, topology: str, handlers: dict[str, str]) -> Path:
    return write_project({"topology.yml": topology, **handlers})


def _scale(page: Page) -> float:
    """Screen pixels per unit of the graph."""
    scale: float = page.evaluate(
        """() => {
            const graph = document.getElementById('graph');
            const [, , w, h] = graph.getAttribute('viewBox').split(' ').map(Number);
            const box = graph.getBoundingClientRect();
            return Math.min(box.width / w, box.height / h);
        }"""
    )
    return scale


def _text_sizes(page: Page, selector: str) -> list[tuple[str, float, str]]:
    """Each shown text matching ``selector``: its text, its size on screen in pixels
    (its computed font size times the graph's scale) and its display."""
    scale = _scale(page)
    found: list[tuple[str, float, str]] = page.evaluate(
        """selector => [...document.querySelectorAll(selector)].map(text => {
            const style = getComputedStyle(text);
            return [text.textContent, parseFloat(style.fontSize), style.display];
        })""",
        selector,
    )
    return [(text, size * scale, display) for text, size, display in found]


def _boxes(page: Page, selector: str) -> list[dict[str, float]]:
    boxes: list[dict[str, float]] = page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
            .filter(e => getComputedStyle(e.closest('g')).display !== 'none')
            .map(e => { const b = e.getBoundingClientRect();
                        return {x: b.x, y: b.y, width: b.width, height: b.height}; })""",
        selector,
    )
    return boxes


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


WIDE = """
name: wide
processors:
{processors}
streams:
{streams}
"""


def _wide_topology() -> str:
    """24 processors: four sources, each feeding a chain of five stages that cross over."""
    stages = ["ingest", "parse_event", "enrich_geo", "sessionize", "score_fraud", "archive"]
    handlers = {"enrich_geo": "./cross.py", "archive": "./end.py"}
    names = [[f"{stage}_{lane}" for stage in stages] for lane in range(4)]
    processors = "\n".join(
        f"  {n}: {handlers.get(n.rsplit('_', 1)[0], './pass.py')}" for lane in names for n in lane
    )
    streams = []
    for lane, chain in enumerate(names):
        streams += [f"  - [{a}, {b}, records]" for a, b in pairwise(chain)]
        streams.append(f"  - [{chain[2]}, {names[(lane + 1) % 4][3]}, crossed]")
    return WIDE.format(processors=processors, streams="\n".join(streams))


WIDE_HANDLERS = {
    "pass.py": "def handler(event, context):\n    context.emit('records', event)\n",
    "cross.py": "def handler(event, context):\n"
    "    context.emit('records', event)\n    context.emit('crossed', event)\n",
    "end.py": "def handler(event, context):\n    pass\n",
}


def test_text_on_a_fitted_graph_of_24_processors_is_never_under_11_px(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(write_project, _wide_topology(), WIDE_HANDLERS)
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("g.node.processor")).to_have_count(24)
        page.wait_for_timeout(100)  # the labels are placed on the next frame
        assert _scale(page) < 1  # fitted, the graph is drawn smaller than 1:1
        names = _text_sizes(page, "g.node .name")
        assert names and all(size >= MIN_TEXT_PX - 0.01 for _, size, _ in names), names
        # The names are simplified (cut, their whole text in the tooltip), never drawn
        # past their node; the counts, which no longer fit, are not drawn at all.
        for node in page.locator("g.node.processor").all():
            rect, name = node.locator("rect").bounding_box(), node.locator(".name").bounding_box()
            assert rect and name
            assert rect["x"] <= name["x"] and name["x"] + name["width"] <= rect["x"] + rect["width"]
        assert {display for _, _, display in _text_sizes(page, "g.node .counts")} == {"none"}
        labels = _text_sizes(page, "g.edge .label text")
        assert labels and all(size >= MIN_TEXT_PX - 0.01 for _, size, _ in labels), labels

        page.locator("#input").fill('{"ingest_0": "hello"}')
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("every record processed")
        # The counts are still there: in the tooltip, and in the panel a click opens.
        title = page.locator("g.node[data-node=enrich_geo_0] > title")
        expect(title).to_contain_text("1 invocation, 0 errors")
        page.locator("g.node[data-node=enrich_geo_0]").click()
        expect(page.locator("#detail")).to_contain_text("invocations1")

        # Zoomed in to 1:1 or closer, the text has its own size and the counts are back.
        while _scale(page) < 1:
            page.locator("#zoom-in").click()
        counts = _text_sizes(page, "g.node[data-node=enrich_geo_0] .counts")
        assert counts[0][0] == "1 inv · 0 err · 2 out" and counts[0][2] != "none"
        assert counts[0][1] >= MIN_TEXT_PX - 0.01


PARALLEL = """
name: parallel
processors:
  clicks: ./emit.py
  sessions: ./take.py
streams:
  - [clicks, sessions, page views]
  - [clicks, sessions, purchases]
  - [clicks, sessions, add to cart]
  - [sessions, clicks, replays]
"""

EMIT_ALL = """
def handler(event, context):
    for topic in ("page views", "purchases", "add to cart"):
        context.emit(topic, event)
"""


def test_labels_of_parallel_streams_do_not_overlap(page: Page, write_project: WriteProject) -> None:
    folder = _project(
        write_project,
        PARALLEL,
        {"emit.py": EMIT_ALL, "take.py": "def handler(event, context):\n    pass\n"},
    )
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("g.edge .label")).to_have_count(4)
        page.wait_for_timeout(100)

        def assert_apart(when: str) -> None:
            boxes = _boxes(page, "g.edge .label rect")
            assert len(boxes) == 4, when
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not _overlap(a, b), f"{when}: labels overlap: {a} {b}"

        assert_apart("fitted")
        page.locator("#input").fill('{"clicks": "home"}')
        page.locator("#run").click()  # the counts make each label longer
        expect(page.locator("#verdict")).to_contain_text("every record processed")
        page.wait_for_timeout(100)
        expect(page.locator("g.edge .label .count").first).to_have_text(" \u00d71")
        assert_apart("after a run")
        for _ in range(6):  # zoomed far out, the labels keep their size on screen
            page.locator("#zoom-out").click()
        page.wait_for_timeout(100)
        assert_apart("zoomed out")


def _node_box(page: Page, node: str) -> dict[str, float]:
    """Where a node's box is on screen, its outline's width left out (it changes with
    selection)."""
    box: dict[str, float] = page.evaluate(
        """node => {
            const rect = document.querySelector(`g.node[data-node=${node}] rect`);
            const b = rect.getBBox(), m = rect.getScreenCTM();
            return {x: m.e + b.x * m.a, y: m.f + b.y * m.d, width: b.width * m.a,
                    height: b.height * m.d};
        }""",
        node,
    )
    return box


def test_a_zoom_and_pan_survive_reload_replay_history_and_a_page_reload(
    page: Page, sample_url_1400: str
) -> None:
    page.goto(sample_url_1400)
    expect(page.locator("g.node.processor")).to_have_count(2)
    graph = page.locator("#graph").bounding_box()
    assert graph is not None
    page.mouse.move(graph["x"] + 60, graph["y"] + graph["height"] - 60)
    page.mouse.wheel(0, -300)  # zoom in about the pointer
    page.mouse.down()
    page.mouse.move(graph["x"] + 160, graph["y"] + graph["height"] - 140, steps=5)
    page.mouse.up()
    chosen = _node_box(page, "reverse")

    def assert_kept(when: str) -> None:
        page.wait_for_timeout(150)
        now = _node_box(page, "reverse")
        for key in ("x", "y", "width", "height"):
            assert now[key] == pytest.approx(chosen[key], abs=1), f"{when}: {now} != {chosen}"

    page.locator("#reload").click()
    expect(page.locator("#status")).to_have_text("✓ valid")
    assert_kept("after Reload topology")
    page.locator("#run").click()
    expect(page.locator("#verdict")).to_contain_text("2 invocations")
    page.locator("#invocations li[data-processor=reverse]").click()
    assert_kept("with the detail drawer open")
    page.locator("#detail button.replay").click()
    expect(page.locator("#verdict")).to_contain_text("1 invocation,")
    assert_kept("after Replay")
    page.locator("#history").select_option(index=1)
    expect(page.locator("#verdict")).to_contain_text("2 invocations")
    assert_kept("after showing an earlier run")
    page.reload()
    expect(page.locator("g.node.processor")).to_have_count(2)
    assert_kept("after reloading the page")
    page.locator("#fit").click()  # Fit forgets the chosen view, on reload too
    fitted = _node_box(page, "reverse")
    page.reload()
    expect(page.locator("g.node.processor")).to_have_count(2)
    page.wait_for_timeout(150)
    assert _node_box(page, "reverse")["x"] == pytest.approx(fitted["x"], abs=1)


@pytest.fixture
def sample_url_1400() -> Iterator[str]:
    with served(str(SAMPLE)) as url:
        yield url


LOOPS = """
name: loops
processors:
  start: ./p.py
  refine: ./p.py
  check: ./p.py
  retry_self: ./p.py
  done: ./p.py
streams:
  - [start, refine]
  - [refine, check]
  - [check, refine, again]
  - [check, retry_self]
  - [retry_self, retry_self, later]
  - [retry_self, done]
"""


def test_every_stream_on_a_loop_is_dashed_self_loops_included(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(write_project, LOOPS, {"p.py": "def handler(event, context):\n    pass\n"})
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("g.node.processor")).to_have_count(5)
        dashes: dict[str, str] = page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('g.edge.stream')].map(
                g => [g.querySelector('title').textContent.split('\\n')[0],
                      getComputedStyle(g.querySelector('path')).strokeDasharray]))"""
        )
    solid = {"start->refine", "check->retry_self", "retry_self->done"}
    assert {name for name, dash in dashes.items() if dash == "none"} == solid, dashes
    assert len(dashes) == 6


FAILING = """
name: clicks
processors:
  spout: ./spout.py
  count: ./count.py
streams:
  - {from: spout, to: count, retry_attempts: 2}
"""

SPOUT = "def handler(event, context):\n    context.emit('clicks', event)\n"

COUNT = """
tried = set()

def handler(event, context):
    if event.get("flaky") and event["n"] not in tried:
        tried.add(event["n"])
        raise TimeoutError("the session store did not answer in time")
    if "user" not in event:
        raise KeyError(
            "user: this click carries no user id; every click must name the signed-in "
            "user, as the tracker's schema says (clicks.schema.json, field user_id)"
        )
"""

TAIL = "as the tracker's schema says (clicks.schema.json, field user_id)"


def _failing_input() -> str:
    """12 clicks without a user (each dead-lettered after 3 attempts), one that fails once."""
    events = [{"n": n, "user": "u1"} for n in range(3)]
    events += [{"n": n, "page": "/home"} for n in range(3, 15)]
    events.append({"n": 15, "user": "u2", "flaky": True})
    return "".join(json.dumps({"processor": "spout", "data": e}) + "\n" for e in events)


def test_failures_only_lists_each_record_once_and_errors_are_never_cut(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(write_project, FAILING, {"spout.py": SPOUT, "count.py": COUNT})
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("#run")).to_be_enabled()
        page.locator("#input").fill(_failing_input())
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("12 dead letters")

        # The error of a failed row is shown whole, wrapped inside the list.
        why = page.locator("#invocations li.failed .why").first
        expect(why).to_contain_text(TAIL)
        assert why.evaluate("e => e.scrollWidth <= e.clientWidth")
        side = page.locator("#invocations").bounding_box()
        box = why.bounding_box()
        assert side and box and box["x"] + box["width"] <= side["x"] + side["width"] + 0.5

        # Dead letters: numbered in full (12 needs two digits), the error whole.
        letters = page.locator("#dead-letters > li")
        expect(letters).to_have_count(12)
        expect(letters.last.locator(".n")).to_have_text("12.")
        pane = page.locator("#dead-letters").bounding_box()
        for letter in (letters.first, letters.last):
            letter.scroll_into_view_if_needed()
            number, error = letter.locator(".n"), letter.locator(".error")
            assert number.evaluate("e => e.scrollWidth <= e.clientWidth")
            n_box = number.bounding_box()
            assert pane and n_box and n_box["x"] >= pane["x"]
            expect(error).to_contain_text(TAIL)
            assert error.evaluate("e => e.scrollWidth <= e.clientWidth")

        # Failures only: one row per record that failed, each opening onto its attempts.
        page.locator("#failures-only").check()
        rows = page.locator("#invocations > li:not(.hidden)")
        expect(rows).to_have_count(13)
        total = page.locator("#invocations > li").count()
        expect(page.locator("#invocation-count")).to_have_text(f"(13 of {total})")
        dead = rows.filter(has_text="page")
        expect(dead).to_have_count(12)
        first = dead.first
        expect(first.locator(".attempts summary")).to_have_text("✗ 3 attempts, all failed")
        first.locator(".attempts summary").click()
        attempts = first.locator(".attempts li")
        expect(attempts).to_have_count(3)
        expect(attempts.nth(0)).to_contain_text("attempt 1")
        expect(attempts.nth(0)).to_contain_text("first try")
        expect(attempts.nth(0)).to_contain_text(TAIL)
        expect(attempts.nth(1)).to_contain_text("attempt 2")
        expect(attempts.nth(1)).to_contain_text("retry 1 · same error")
        expect(attempts.nth(2)).to_contain_text("retry 2 · same error")
        attempts.nth(0).click()  # each attempt is a click away
        expect(page.locator("#detail")).to_contain_text("attempt 1")
        flaky = rows.filter(has_text="flaky")
        expect(flaky.locator(".attempts summary")).to_have_text("✓ processed on attempt 2")
        flaky.locator(".attempts summary").click()
        expect(flaky.locator(".attempts li").nth(0)).to_contain_text("TimeoutError")
        expect(flaky.locator(".attempts li").nth(1)).to_contain_text("✓ processed")
        page.locator("#find").fill("session store")  # a text found in any attempt
        expect(rows).to_have_count(1)
        page.locator("#find").fill("")
        page.locator("#failures-only").uncheck()
        expect(page.locator("#invocation-count")).to_have_text(f"({total})")

        # Replaying the dead letters is a run of its own in the history, named so, and
        # leaves the editor's input alone.
        typed = page.locator("#input").input_value()
        page.locator("#replay-dead-letters").click()
        expect(page.locator("#history option").first).to_contain_text("↻ 12 dead letters")
        expect(page.locator("#verdict")).to_contain_text("12 dead letters")
        assert page.locator("#input").input_value() == typed


def test_replay_keeps_what_was_typed_in_the_editor_one_click_away(
    page: Page, sample_url_1400: str
) -> None:
    page.goto(sample_url_1400)
    editor, restore = page.locator("#input"), page.locator("#restore-input")
    expect(page.locator("#run")).to_be_enabled()
    editor.fill('{"hello_world_spout": "typed and run"}')
    page.locator("#run").click()
    expect(page.locator("#verdict")).to_contain_text("2 invocations")
    editor.fill('{"hello_world_spout": "a draft not run yet"}')
    page.locator("#invocations li[data-processor=reverse]").click()
    page.locator("#detail button.replay").click()
    expect(page.locator("#verdict")).to_contain_text("1 invocation,")
    expect(editor).to_have_value('{\n  "reverse": "typed and run"\n}\n')
    expect(restore).to_be_visible()
    restore.click()
    expect(editor).to_have_value('{"hello_world_spout": "a draft not run yet"}')
    expect(restore).to_be_hidden()

    # Each run in the history shows its own input; the draft is kept again meanwhile.
    page.locator("#history").select_option(index=1)
    expect(editor).to_have_value('{"hello_world_spout": "typed and run"}')
    page.locator("#history").select_option(index=0)
    expect(editor).to_have_value('{\n  "reverse": "typed and run"\n}\n')
    restore.click()
    expect(editor).to_have_value('{"hello_world_spout": "a draft not run yet"}')


ONE = """
name: one
processors:
  count: ./count.py
"""


def test_bad_input_and_a_topology_broken_while_open_are_explained_in_the_page(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(
        write_project, ONE, {"count.py": "def handler(event, context):\n    return event\n"}
    )
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("#run")).to_be_enabled()
        editor, error = page.locator("#input"), page.locator("#input-error")
        editor.fill('{"count": 1}')
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("1 invocation,")

        editor.fill("count this please")
        page.locator("#run").click()
        expect(error).to_have_text("input: invalid JSON at line 1, column 1: Expecting value")
        editor.fill(
            '{"processor": "count", "data": 1}\n{"processor": "count", "data": 2}\n{count\n'
        )
        page.locator("#run").click()
        expect(error).to_contain_text("input:3: invalid JSON at column 2")
        # Refused runs stay in the history with their input, the good run too.
        runs = page.locator("#history option")
        expect(runs).to_have_count(3)
        expect(runs.nth(0)).to_contain_text("could not run")
        page.locator("#history").select_option(index=2)
        expect(page.locator("#verdict")).to_contain_text("1 invocation,")
        expect(editor).to_have_value('{"count": 1}')

        # The file is edited into an invalid one while the page is open.
        (folder / "topology.yml").write_text("name: one\nprocessors:\n  count: [./count.py\n")
        page.locator("#run").click()
        expect(error).to_contain_text("invalid YAML at line 4")
        expect(page.locator("#status")).to_have_text("✗ 1 error")  # read again by itself
        expect(page.locator("#issues-pane")).to_contain_text("invalid YAML at line 4")
        expect(page.locator("#run")).to_be_disabled()
        expect(runs).to_have_count(4)  # no run lost
        page.locator("#history").select_option(index=3)
        expect(page.locator("#verdict")).to_contain_text("1 invocation,")

        # The server is still up: fixed, the topology runs again.
        (folder / "topology.yml").write_text(ONE)
        page.locator("#reload").click()
        expect(page.locator("#status")).to_have_text("✓ valid")
        editor.fill('{"count": 2}')
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("every record processed: 1 invocation")


def test_an_input_of_100000_events_runs_and_says_what_is_shown(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(
        write_project, ONE, {"count.py": "def handler(event, context):\n    return event\n"}
    )
    events = folder / "events.jsonl"
    events.write_text("".join(f'{{"processor": "count", "data": {n}}}\n' for n in range(100_000)))
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("#run")).to_be_enabled()
        page.locator("#input-file").set_input_files(events)
        # Held by the page, not drawn in the text area (which would take seconds a change).
        held = page.locator("#held-input")
        expect(held).to_contain_text("events.jsonl: 100000 lines, 3.6 MB")
        expect(page.locator("#input")).to_be_hidden()
        page.locator("#run").click()
        verdict = page.locator("#verdict")
        wait_for_text(page, "#verdict", "every record processed: 100000 invocations", 120)
        expect(verdict).to_contain_text(
            "showing the first 10000; attak simulate --json lists all 100000"
        )
        expect(page.locator("#invocation-count")).to_have_text("(10000)")

        held.locator("button").click()  # back to the editor, to type a small input
        expect(page.locator("#input")).to_be_visible()
        page.locator("#input").fill('{"count": 1}')
        page.locator("#run").click()  # the page and the server go on
        expect(verdict).to_contain_text("every record processed: 1 invocation,")
        runs = page.locator("#history option")
        expect(runs).to_have_count(2)
        page.locator("#history").select_option(index=1)  # the large run, input and all
        expect(held).to_contain_text("100000 lines")
        expect(verdict).to_contain_text("100000 invocations")
        page.locator("#restore-input").click()
        expect(page.locator("#input")).to_have_value('{"count": 1}')


BISECTED = """
name: bisected
processors:
  spout: ./spout.py
  slow: {handler: ./slow.py, timeout: 1}
streams:
  - {from: spout, to: slow, retry_attempts: 1, bisect_batch_on_error: true}
"""

SLOW = """
import time

def handler(event, context):
    if event == 3:
        time.sleep(5)  # past the function's timeout: the whole batch fails
"""


def test_the_attempts_of_a_bisected_record_name_its_splits(
    page: Page, write_project: WriteProject
) -> None:
    folder = _project(write_project, BISECTED, {"spout.py": SPOUT, "slow.py": SLOW})
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("#run")).to_be_enabled()
        page.locator("#input").fill(
            "".join(f'{{"processor": "spout", "data": {n}}}\n' for n in range(4))
        )
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("1 dead letter", timeout=30_000)
        page.locator("#failures-only").check()
        rows = page.locator("#invocations > li:not(.hidden)")
        expect(rows).to_have_count(1)  # the records that shared its batch never failed
        rows.locator(".attempts summary").click()
        attempts = rows.locator(".attempts li")
        expect(attempts).to_have_count(4)
        expect(attempts.nth(0)).to_contain_text("attempt 1")
        expect(attempts.nth(0)).to_contain_text("bisect split: its batch was halved")
        expect(attempts.nth(1)).to_contain_text("bisect split")
        expect(attempts.nth(2)).to_contain_text("first try alone")
        expect(attempts.nth(3)).to_contain_text("retry 1 · same error")


def test_a_node_s_counts_never_run_past_its_edge(page: Page, write_project: WriteProject) -> None:
    folder = _project(write_project, FAILING, {"spout.py": SPOUT, "count.py": COUNT})
    with served(str(folder)) as url:
        page.goto(url)
        expect(page.locator("#run")).to_be_enabled()
        page.locator("#input").fill(_failing_input())
        page.locator("#run").click()
        expect(page.locator("#verdict")).to_contain_text("12 dead letters")
        node = page.locator("g.node[data-node=count]")
        # Errors and dead letters stay on the node; what does not fit is in its tooltip.
        expect(node.locator(".counts")).to_have_text("41 inv · 37 err · 12 dead")
        expect(node.locator("> title")).to_contain_text("41 invocations, 37 errors")
        rect, counts = node.locator("rect").bounding_box(), node.locator(".counts").bounding_box()
        assert rect and counts and counts["x"] + counts["width"] <= rect["x"] + rect["width"]
