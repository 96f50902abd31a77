"""The `attak ui` page at scale: time from Run to the verdict in headless Chromium.

Drives the real page (the server `attak ui` starts, Debian's `/usr/bin/chromium` through
Playwright) on `spout -> reverse -> sink` (bench/pipeline/), with n/3 input events, so n
invocations stream to the page. For each size it records:

- server: the server alone, `POST /api/run` read to its end from Python (no browser);
- verdict: from the click on Run to the verdict shown;
- interactive: from the click to the first frame after the verdict with the page's main
  thread free (a click is answered from then on);
- after server: interactive minus the moment the browser received the stream's last byte
  (the request's `responseEnd`): the time the page itself adds once the server is done;
- select: clicking the last invocation until its detail and trace are shown.

`--before PATH` runs the same measures first against the page of another checkout (a
`git worktree` of the commit to compare with), served by that checkout's code, so the two
are side by side on one machine at one time.

    python bench/ui_scale.py [--sizes 1000 3000 10000] [--before /tmp/attak-ui-before]
                             [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

HERE = Path(__file__).resolve().parent
PIPELINE = HERE / "pipeline"
CHROMIUM = "/usr/bin/chromium"
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

# The first frame after the verdict in which the page's main thread is free.
_INTERACTIVE = "new Promise(r => requestAnimationFrame(() => setTimeout(() => r(Date.now()))))"


_RECEIVED = """(() => {
  const runs = performance.getEntriesByType("resource").filter(e => e.name.endsWith("/api/run"));
  return runs.length ? performance.timeOrigin + runs[runs.length - 1].responseEnd : null;
})()"""


@dataclass
class Measure:
    invocations: int
    server: float
    verdict: float | None  # None: not shown within the timeout
    interactive: float | None
    after_server: float | None
    select: float | None


def editor_input(invocations: int) -> str:
    """JSON Lines for the spout: each event makes three invocations."""
    return "".join(
        json.dumps({"processor": "spout", "data": f"hello world {i:06d}"}) + "\n"
        for i in range(invocations // 3)
    )


def start_server(tree: Path) -> tuple[subprocess.Popen[str], str]:
    """`attak ui` on the bench pipeline, served by the code of ``tree``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "ui", str(PIPELINE), "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tree,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("attak ui: http://"):
        process.kill()
        raise SystemExit(f"attak ui did not start in {tree}: {line!r}")
    return process, line.split()[2]


def server_time(url: str, text: str) -> float:
    """Seconds for the server alone to answer the run, read to its last byte."""
    body = json.dumps({"input": text}).encode()
    request = urllib.request.Request(
        url + "api/run", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        while response.read(1 << 16):
            pass
    return time.perf_counter() - started


def measure(browser: Browser, url: str, invocations: int, timeout: float) -> Measure:
    text = editor_input(invocations)
    server = server_time(url, text)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    stuck = False
    try:
        finished: list[float] = []

        def on_finished(request) -> None:  # type: ignore[no-untyped-def]
            if request.url.endswith("/api/run"):
                timing = request.timing
                finished.append(timing["startTime"] + timing["responseEnd"])

        page.on("requestfinished", on_finished)
        page.goto(url)
        page.wait_for_function("document.getElementById('run').disabled === false")
        # Set, not typed: the editor's content is the input, not what is measured.
        page.evaluate("text => { document.getElementById('input').value = text; }", text)
        clicked = page.evaluate("Date.now()")
        page.locator("#run").click()
        try:
            verdict_at = page.wait_for_function(
                "!document.getElementById('verdict').hidden && Date.now()",
                timeout=timeout * 1000,
            ).json_value()
        except PlaywrightTimeout:
            stuck = True  # a page this busy is not closed but its browser ended
            return Measure(invocations, server, None, None, None, None)
        interactive_at = page.evaluate(_INTERACTIVE)
        # When the stream's last byte arrived, by the page's own clock (Resource Timing).
        received = page.evaluate(_RECEIVED)
        if received:
            finished.insert(0, received)
        last = page.locator("#invocations li").last
        started = page.evaluate("Date.now()")
        last.click()
        page.wait_for_function("!document.getElementById('detail').hidden")
        selected_at = page.evaluate(_INTERACTIVE)
        after = (interactive_at - finished[0]) / 1000 if finished else None
        return Measure(
            invocations,
            server,
            (verdict_at - clicked) / 1000,
            (interactive_at - clicked) / 1000,
            after,
            (selected_at - started) / 1000,
        )
    finally:
        if not stuck:
            page.close()


def seconds(value: float | None, timeout: float) -> str:
    return f"> {timeout:.0f} s" if value is None else f"{value:.2f} s"


def after_server(result: Measure, timeout: float) -> str:
    if result.after_server is None:
        return "-" if result.verdict is not None else f"> {timeout - result.server:.0f} s"
    return f"{result.after_server:.2f} s"


def run_tree(name: str, tree: Path, sizes: list[int], timeout: float) -> list[Measure]:
    process, url = start_server(tree)
    results = []
    try:
        with sync_playwright() as playwright:
            for size in sizes:
                # A browser per size: a page stuck past the timeout must not slow the next.
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    result = measure(browser, url, size, timeout)
                finally:
                    browser.close()
                results.append(result)
                print(
                    f"{name:>6} {size:>6,} invocations: server {result.server:.2f} s, "
                    f"verdict {seconds(result.verdict, timeout)}, "
                    f"interactive {seconds(result.interactive, timeout)}, "
                    f"after server {after_server(result, timeout)}, "
                    f"select {seconds(result.select, timeout)}",
                    flush=True,
                )
    finally:
        process.terminate()
        process.communicate(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--before", type=Path, help="a checkout whose page to measure first")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for a verdict"
    )
    args = parser.parse_args()

    trees = [("before", args.before.resolve())] if args.before else []
    trees.append(("now", HERE.parent))
    table = {name: run_tree(name, tree, args.sizes, args.timeout) for name, tree in trees}

    print()
    print(
        "| invocations | " + " | ".join(f"{name}: verdict / after server" for name in table) + " |"
    )
    print("| ---: |" + " ---: |" * len(table))
    for index, size in enumerate(args.sizes):
        cells = [
            f"{seconds(rows[index].verdict, args.timeout)} / "
            f"{after_server(rows[index], args.timeout)}"
            for rows in table.values()
        ]
        print(f"| {size:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
