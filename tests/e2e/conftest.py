"""Fixtures for the real-browser suite (helpers live in tests/e2e/browser.py; `browser` is in tests/conftest.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import StreamlitServer, start_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def server() -> Iterator[StreamlitServer]:
    """One server shared by the journeys (like a classroom's laptop)."""
    srv = start_server()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
