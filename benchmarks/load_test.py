"""A bounded classroom load test: N students race at once against one local server.

    python -m benchmarks.load_test --sessions 10 20 --seconds 30

For each N it starts `streamlit run app.py` on 127.0.0.1 with the classroom settings of deploy/classroom.toml
(all but its address and port), opens N browser sessions (contexts of one headless Chromium) one after another
on the Optimizer Race, clicks Start in each (1,000 epochs at the slowest pace), lets them race on the bundled
digits for a fixed time, and reports: page load time (median and worst), chart refreshes drawn per second per
session, the server's CPU and resident memory, the load generator's Chromium CPU, and whether every session
stayed healthy (no exception, still running, its curves grew; which session failed and why). On one machine the
load generator's browser renders every session's charts, and a fragment's timer runs in the browser, so the
refresh rate measures that browser as much as the server: the two CPU figures say which of them was the busy
one. Only loopback traffic; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

from tests.e2e.browser import CHART_SIGNATURE, CHROMIUM, CHROMIUM_ARGS, ROOT, StreamlitServer, wait_for_app

# Count chart refreshes: a sampler in the page keeps, for every curve (by its name), the furthest x it has reached,
# and counts a refresh each time some curve gets further. Keyed by name, because while Streamlit replaces a chart
# the page can briefly hold the old and the new one, or neither, which comparing snapshots would miscount.
COUNT_REFRESHES = """() => {
  const furthest = {};
  const advanced = () => {
    let moved = false;
    for (const div of document.querySelectorAll('.js-plotly-plot')) {
      for (const trace of div.calcdata || []) {
        const name = trace.length && trace[0].trace ? trace[0].trace.name : '';
        const x = trace.length ? Number(trace[trace.length - 1].x) : NaN;
        if (name && Number.isFinite(x) && !(x <= furthest[name])) { moved ||= name in furthest; furthest[name] = x; }
      }
    }
    return moved;
  };
  advanced();
  window.__refreshes = 0;
  window.__sampler = setInterval(() => { if (advanced()) window.__refreshes++; }, 100);
}"""


TIMEOUT_MS = 120_000
"""How long a student waits for the page (or the race to start) before counting as unable to join."""


CLASSROOM = ROOT / "deploy" / "classroom.toml"


def classroom_flags(path: Path = CLASSROOM) -> list[str]:
    """The settings of a Streamlit config file as command-line flags, except where the server listens."""
    flags = []
    for section, table in tomllib.loads(path.read_text()).items():
        for name, value in table.items():
            if f"{section}.{name}" not in ("server.address", "server.port"):
                flags += [f"--{section}.{name}", str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def session_problems(page, signature_before: str) -> list[str]:
    """What is wrong with a racing session's page (an empty list: healthy)."""
    problems = []
    if page.locator('[data-testid="stException"]').count():
        problems.append("exception shown")
    if page.get_by_role("button", name="Pause").count() != 1:
        problems.append("race not running")
    if page.evaluate(CHART_SIGNATURE) == signature_before:
        problems.append("charts did not grow")
    return problems


def _stat(pid: int | str) -> tuple[str, list[str]]:
    """A process's name and the fields after it in /proc/<pid>/stat (the name may hold spaces and parentheses)."""
    head, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    return head.split("(", 1)[1], rest.split()


def _cpu(fields: list[str]) -> float:
    """User + system CPU seconds from a stat line's fields after the name."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, in seconds."""
    return _cpu(_stat(pid)[1])


def browser_cpu_seconds() -> float:
    """CPU time used so far by the Chromium processes this process started (through Playwright's driver)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = _stat(entry.name)
            except OSError:  # the process has just ended
                continue
    parents = {pid: int(fields[1]) for pid, (_, fields) in stats.items()}
    total = 0.0
    for pid, (name, fields) in stats.items():
        ancestor = parents.get(pid)
        while ancestor and ancestor != os.getpid():
            ancestor = parents.get(ancestor)
        if ancestor and name.startswith("chrom"):
            total += _cpu(fields)
    return total


def resident_mib(pid: int) -> float:
    """The process's resident set size (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(n_sessions: int, seconds: float) -> dict:
    """Race in ``n_sessions`` browser sessions for ``seconds``; return the figures."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    server = StreamlitServer(extra_args=classroom_flags())
    try:
        idle_mib = resident_mib(server.process.pid)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            pages, load_times, failed = [], [], 0
            join_started = time.perf_counter()
            for _ in range(n_sessions):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                started = time.perf_counter()
                try:
                    page.goto(f"{server.url}/optimizer_race", timeout=TIMEOUT_MS)
                    wait_for_app(page, timeout=TIMEOUT_MS)
                    load_times.append(time.perf_counter() - started)
                    # Long races, so every one still runs when the last student has joined: 1,000 epochs at the
                    # slowest pace (0.25 epoch/s) last over an hour; joining 20 sessions here can take 15 minutes.
                    limit = page.get_by_label("Stop after (epochs)")
                    limit.fill("1000")
                    limit.press("Enter")
                    wait_for_app(page, timeout=TIMEOUT_MS)
                    pace = page.get_by_role("slider", name="Pace")
                    pace.press("Home")
                    wait_for_app(page, timeout=TIMEOUT_MS)
                    assert pace.get_attribute("aria-valuetext") == "0.25 epoch/s", pace.get_attribute("aria-valuetext")
                    page.get_by_role("button", name="Start").click()
                    page.wait_for_selector("button:has-text('Pause')", timeout=TIMEOUT_MS)
                    page.evaluate(COUNT_REFRESHES)
                    pages.append(page)
                except PlaywrightTimeoutError:  # a student who could not join counts as unhealthy
                    failed += 1
            joined_s = time.perf_counter() - join_started
            start_signatures = [page.evaluate(CHART_SIGNATURE) for page in pages]
            for page in pages:
                page.evaluate("() => { window.__refreshes = 0; }")
            cpu_before, browser_before = cpu_seconds(server.process.pid), browser_cpu_seconds()
            time.sleep(seconds)
            server_cores = (cpu_seconds(server.process.pid) - cpu_before) / seconds
            browser_cores = (browser_cpu_seconds() - browser_before) / seconds
            redraws = [page.evaluate("() => window.__refreshes") / seconds for page in pages]
            problems = [session_problems(page, before) for page, before in zip(pages, start_signatures, strict=True)]
            healthy = [not p for p in problems]
            unhealthy = [i for i, ok in enumerate(healthy) if not ok]
            if unhealthy:  # the first unhealthy session's charts, for a look (in one step: each refresh remounts them)
                page = pages[unhealthy[0]]
                page.evaluate("() => document.querySelector('.js-plotly-plot')?.scrollIntoView()")
                page.screenshot(path=str(ROOT / "test-artifacts" / "load_test_unhealthy.png"))
            peak_mib = resident_mib(server.process.pid)
            browser.close()
    finally:
        server.stop()
    return {
        "sessions": n_sessions,
        "seconds": seconds,
        "all_joined_after_s": round(joined_s),
        "load_s_median": round(statistics.median(load_times), 2) if load_times else None,
        "load_s_worst": round(max(load_times), 2) if len(load_times) == n_sessions else f"> {TIMEOUT_MS / 1000:g}",
        "refreshes_per_s_median": round(statistics.median(redraws), 2) if redraws else 0.0,
        "refreshes_per_s_worst": round(min(redraws), 2) if len(redraws) == n_sessions else 0.0,
        "server_cpu_cores": round(server_cores, 2),
        "browser_cpu_cores": round(browser_cores, 2),
        "cores": os.cpu_count(),
        "server_rss_mib_idle": round(idle_mib),
        "server_rss_mib_racing": round(peak_mib),
        "healthy": f"{sum(healthy)}/{n_sessions}",
        "unhealthy_sessions": {i + 1: problems[i] for i in unhealthy},
        "problems": dict(Counter(p for session in problems for p in session) + Counter({"could not join": failed})),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20], help="session counts to try in turn")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each load lasts (at most 300)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "load_test.json")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 300 or not all(1 <= n <= 40 for n in args.sessions):
        parser.error("--seconds must be 1..300 and each --sessions 1..40")
    rows = []
    for n in args.sessions:
        rows.append(run(n, args.seconds))
        print(" | ".join(f"{k} {v}" for k, v in rows[-1].items()), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["healthy"].split("/")[0] == r["healthy"].split("/")[1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
