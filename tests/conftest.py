"""Shared fixtures. Keep this small; add fixtures by appending."""

import shutil

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.mirror import MNIST_10K, Server


def pytest_configure(config):
    """Stop at once, with the reason, when the real MNIST files the tests read are not beside the repository."""
    if not MNIST_10K.is_dir():
        raise pytest.UsageError(
            f"the tests read real MNIST files from {MNIST_10K}, which is missing: check out this repository beside "
            "the project's shared/ folder (as CI has it: ../shared/data/mnist-10k)"
        )


@pytest.fixture(scope="session")
def mnist_10k_dataset():
    """The real 10,000-digit MNIST-format folder as a core.data.Dataset (7,200 train / 800 val / 2,000 test)."""
    from core.data import load_mnist_folder

    return load_mnist_folder(MNIST_10K)


@pytest.fixture(scope="session")
def mnist_10k(mnist_10k_dataset):
    """``(X_train, y_train, X_val, y_val)`` of the 10,000-digit folder: float32 pixels in [0, 1], int64 labels."""
    d = mnist_10k_dataset
    return d.X_train, d.y_train, d.X_val, d.y_val


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP mirror serving a copy of the mnist-10k files (see tests/mirror.py)."""
    root = tmp_path / "mirror"
    shutil.copytree(MNIST_10K, root)
    srv = Server(root)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run (Playwright's sync API allows one at a time)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Each test starts with the server's throttle as a fresh server has it. The test process plays the server
    for every AppTest, so sessions left by earlier tests, and CPU they spent, would otherwise stretch the live
    refresh interval (``ui.throttle``) and with it how far a race moves per run."""
    from ui.throttle import fair_share, refresh_cost

    fair_share.clear()
    refresh_cost.clear()
