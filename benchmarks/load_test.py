"""A bounded classroom load test: N students race at once against one local server.

    python -m benchmarks.load_test --sessions 10 20 --seconds 30

For each N it starts `streamlit run app.py` on 127.0.0.1, opens N browser sessions (contexts of one headless
Chromium) on the Optimizer Race, clicks Start in each, lets them race on the bundled digits for a fixed time,
and reports: page load time (median and worst), chart refreshes per second per session, the server's resident
memory, and whether every session stayed healthy (no exception, still running, its curves grew). Only
loopback traffic; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from tests.e2e.browser import CHART_SIGNATURE, CHROMIUM, CHROMIUM_ARGS, ROOT, StreamlitServer, wait_for_app

# Count chart refreshes: a sampler in the page notes each time the signature changes.
COUNT_REFRESHES = f"""() => {{
  const signature = {CHART_SIGNATURE};
  window.__refreshes = 0; let last = signature();
  window.__sampler = setInterval(() => {{
    const now = signature(); if (now !== last) {{ window.__refreshes++; last = now; }}
  }}, 25);
}}"""


TIMEOUT_MS = 120_000
"""How long a student waits for the page (or the race to start) before counting as unable to join."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

    server = StreamlitServer()
    try:
        idle_mib = resident_mib(server.process.pid)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            pages, load_times, failed = [], [], 0
            for _ in range(n_sessions):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                started = time.perf_counter()
                try:
                    page.goto(f"{server.url}/optimizer_race", timeout=TIMEOUT_MS)
                    wait_for_app(page, timeout=TIMEOUT_MS)
                    load_times.append(time.perf_counter() - started)
                    limit = page.get_by_label("Stop after (epochs)")  # long races: all still run at the end
                    limit.fill("1000")
                    limit.press("Enter")
                    wait_for_app(page, timeout=TIMEOUT_MS)
                    page.get_by_role("button", name="Start").click()
                    page.wait_for_selector("button:has-text('Pause')", timeout=TIMEOUT_MS)
                    page.evaluate(COUNT_REFRESHES)
                    pages.append(page)
                except PlaywrightTimeoutError:  # a student who could not join counts as unhealthy
                    failed += 1
            start_signatures = [page.evaluate(CHART_SIGNATURE) for page in pages]
            cpu_before = cpu_seconds(server.process.pid)
            time.sleep(seconds)
            server_cores = (cpu_seconds(server.process.pid) - cpu_before) / seconds
            redraws = [page.evaluate("() => window.__refreshes") / seconds for page in pages]
            healthy = [
                page.locator('[data-testid="stException"]').count() == 0
                and page.get_by_role("button", name="Pause").count() == 1
                and page.evaluate(CHART_SIGNATURE) != before
                for page, before in zip(pages, start_signatures, strict=True)
            ]
            peak_mib = resident_mib(server.process.pid)
            browser.close()
    finally:
        server.stop()
    return {
        "sessions": n_sessions,
        "seconds": seconds,
        "load_s_median": round(statistics.median(load_times), 2) if load_times else None,
        "load_s_worst": round(max(load_times), 2) if len(load_times) == n_sessions else f"> {TIMEOUT_MS / 1000:g}",
        "refreshes_per_s_median": round(statistics.median(redraws), 2) if redraws else 0.0,
        "refreshes_per_s_worst": round(min(redraws), 2) if len(redraws) == n_sessions else 0.0,
        "server_cpu_cores": round(server_cores, 2),
        "server_rss_mib_idle": round(idle_mib),
        "server_rss_mib_racing": round(peak_mib),
        "healthy": f"{sum(healthy)}/{n_sessions}",
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
