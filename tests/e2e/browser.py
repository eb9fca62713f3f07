"""Real-browser helpers: a `streamlit run app.py` server on a free port and headless Debian Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
README_PICTURES = ROOT / "docs" / "screenshots"
# The screenshots the README shows (UPDATE_SCREENSHOTS=1 python -m pytest -m e2e regenerates them).
README_NAMES = {
    "backprop_calculator",
    "jacobian_explorer_huge",
    "optimizer_race_running",
    "optimization_geometry",
    "weight_templates_racer",  # not "weight_templates": the page-opening test saves that one, with no model
    "confusion_matrix_uploaded",
}
# A signature of what the charts show: the last x of every trace (x = epochs, so it moves while training runs;
# counting points would not, as long curves are thinned to a fixed number of drawn points).
CHART_SIGNATURE = """() => JSON.stringify([...document.querySelectorAll('.js-plotly-plot')]
    .map(div => (div.calcdata || []).map(trace => trace.length ? trace[trace.length - 1].x : null)))"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Several sessions in one browser keep their timers running (see STREAMLIT-NOTES.md).
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` on 127.0.0.1, started and stopped by its process id."""

    def __init__(self, extra_env: dict[str, str] | None = None, extra_args: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(ROOT / "test-artifacts" / f"streamlit-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(self.port), "--server.headless", "true", *(extra_args or [])],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(extra_env or {})},
        )  # fmt: skip
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode() == "ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy within {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` to run the browser suite"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def start_server() -> StreamlitServer:
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    return StreamlitServer()


def wait_for_app(pg, timeout: float = 30_000) -> None:
    """Wait until the page shows content and Streamlit has finished running the script and redrawing."""
    pg.wait_for_function(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')?.innerText.trim()"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=timeout,
    )
    pg.wait_for_timeout(500)


def assert_healthy(pg) -> None:
    """No exception box, no error message on the page."""
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator(
        '[data-testid="stException"]'
    ).first.inner_text()
    assert pg.locator('[data-testid="stAlertContentError"]').count() == 0, pg.locator(
        '[data-testid="stAlertContentError"]'
    ).first.inner_text()


_SAVED: set[str] = set()
"""Screenshot names saved by this test run: a second one under the same name would silently replace the first."""


def screenshot(pg, name: str) -> Path:
    """Save a full-page screenshot as a test artefact; with UPDATE_SCREENSHOTS=1 the README's pictures too."""
    assert name not in _SAVED, f"two screenshots named {name!r} in one run: the later would replace the earlier"
    _SAVED.add(name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its own main area, so full_page alone captures one screen: grow the viewport.
    size = pg.viewport_size
    height = pg.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 0")
    pg.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size(size)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" and name in README_NAMES:
        README_PICTURES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, README_PICTURES / path.name)
    return path
