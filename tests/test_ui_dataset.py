"""The dataset picker in AppTest: every source updates the shared choice; failures keep the previous dataset."""

import dataclasses
import gzip
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import data
from tests.mirror import MNIST_10K, SHA256
from tests.test_page_jacobian import decode


def picker_app():
    import streamlit as st

    from ui.dataset import dataset_picker, dataset_summary

    if st.session_state.get("other_page"):  # stands in for a page that does not draw the picker (Home)
        st.stop()
    ds = dataset_picker()
    st.write(f"loaded: {ds.name} | {len(ds.y_train)} | {len(ds.y_val)} | {len(ds.y_test)}")
    dataset_summary(ds)


@pytest.fixture
def mirrors(mirror, monkeypatch):
    """MNIST from /good/, Fashion-MNIST from /missing/ (404), both checked against the README's sha256."""
    files = tuple(data.RemoteFile(n, SHA256[n], (MNIST_10K / n).stat().st_size) for n in SHA256)
    for source, route in (("mnist", "good"), ("fashion-mnist", "missing")):
        remote = dataclasses.replace(data.REMOTE_SOURCES[source], mirrors=(f"{mirror.url}/{route}/",), files=files)
        monkeypatch.setitem(data.REMOTE_SOURCES, source, remote)
    return mirror


@pytest.fixture
def at(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    app = AppTest.from_function(picker_app, default_timeout=30)
    app.run()
    assert not app.exception
    return app


def loaded(at) -> list[str]:
    """The dataset the app reports using: [name, train, val, test]."""
    text = next(m.value for m in at.markdown if m.value.startswith("loaded: "))
    return [part.strip() for part in text.removeprefix("loaded: ").split("|")]


def choice(at):
    return at.session_state["dataset_choice"]


def test_default_is_the_bundled_digits_with_their_statistics(at):
    assert choice(at).source == "digits"
    assert loaded(at) == ["Bundled digits (8x8)", "1293", "144", "360"]
    assert not at.error
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    counts = {trace["name"]: decode(trace["y"]) for trace in specs[0]["data"]}
    ds = data.load_digits()
    for name, y in (("train", ds.y_train), ("validation", ds.y_val), ("test", ds.y_test)):
        np.testing.assert_array_equal(counts[name], [np.sum(y == k) for k in range(10)])
    samples = decode(specs[1]["data"][0]["z"])
    assert samples.shape == (8, 10 * 9 - 1)
    for k in range(10):  # the first training image of class k, drawn in slot k
        first = ds.X_train[list(ds.y_train).index(k)].reshape(8, 8)
        np.testing.assert_allclose(samples[:, 9 * k : 9 * k + 8], first, rtol=1e-6)
    means = decode(specs[2]["data"][0]["z"])
    np.testing.assert_allclose(means[:, :8], ds.X_train[ds.y_train == 0].mean(axis=0).reshape(8, 8), rtol=1e-5)


def test_picking_each_source_updates_the_shared_choice(at, mirrors, tmp_path):
    at.selectbox(key="dataset_source").set_value("mnist").run()
    assert not at.exception and not at.error
    assert choice(at).source == "mnist" and loaded(at) == ["MNIST", "7200", "800", "2000"]
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(SHA256)

    at.selectbox(key="dataset_subset").set_value(1_000).run()
    at.slider(key="dataset_val").set_value(0.2).run()
    assert choice(at).subset == 1_000 and choice(at).val_fraction == pytest.approx(0.2)
    assert loaded(at) == ["MNIST", "800", "200", "2000"]

    at.selectbox(key="dataset_source").set_value("folder").run()
    assert choice(at).source == "mnist"  # nothing to load until a path is entered
    at.text_input(key="dataset_folder").set_value(str(MNIST_10K)).run()
    assert choice(at).source == "folder" and choice(at).folder == str(MNIST_10K)
    assert loaded(at) == ["mnist-10k", "800", "200", "2000"]

    at.selectbox(key="dataset_source").set_value("upload").run()
    uploads = [(f"{n}", (MNIST_10K / n).read_bytes(), "application/gzip") for n in SHA256]
    at.file_uploader(key="dataset_upload").set_value(uploads).run()
    assert not at.exception and not at.error
    assert choice(at).source == "upload" and loaded(at)[1:] == ["800", "200", "2000"]

    at.selectbox(key="dataset_source").set_value("digits").run()
    assert choice(at).source == "digits" and loaded(at) == ["Bundled digits (8x8)", "800", "200", "360"]
    assert mirrors.log.count("/good/train-images-idx3-ubyte.gz") == 1  # MNIST was fetched once, then cached


def test_the_choice_survives_a_page_without_the_picker(at):
    at.selectbox(key="dataset_source").set_value("folder").run()
    at.text_input(key="dataset_folder").set_value(str(MNIST_10K)).run()
    at.slider(key="dataset_val").set_value(0.25).run()
    at.session_state["other_page"] = True
    at.run()
    assert not at.selectbox  # the widgets were not drawn, so Streamlit dropped their state
    at.session_state["other_page"] = False
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="dataset_source").value == "folder" and at.slider(key="dataset_val").value == 0.25
    assert at.text_input(key="dataset_folder").value == str(MNIST_10K)
    assert loaded(at) == ["mnist-10k", "6000", "2000", "2000"]


def test_a_failed_download_shows_the_way_out_and_keeps_the_dataset(at, mirrors, tmp_path):
    at.selectbox(key="dataset_source").set_value("fashion-mnist").run()
    assert not at.exception
    assert len(at.error) == 1 and "HTTP 404" in at.error[0].value and "Local folder" in at.error[0].value
    assert choice(at).source == "digits" and loaded(at)[0] == "Bundled digits (8x8)"
    assert not list((tmp_path / "cache").rglob("*.part"))
    requests = len(mirrors.log)
    at.slider(key="dataset_val").set_value(0.2).run()  # another widget: the failure is not retried
    at.slider(key="dataset_val").set_value(0.1).run()
    assert len(mirrors.log) == requests and len(at.error) == 1
    at.button(key="dataset_retry").click().run()
    assert len(mirrors.log) == requests + 1 and len(at.error) == 1


def four_files_one_truncated() -> list[tuple[str, bytes, str]]:
    files = [(n, (MNIST_10K / n).read_bytes(), "application/gzip") for n in SHA256]
    files[0] = (files[0][0], files[0][1][:20_000], files[0][2])
    return files


@pytest.mark.parametrize(
    ("files", "match"),
    [
        (four_files_one_truncated(), "train-images-idx3-ubyte.gz: the gzip data is truncated or corrupt"),
        ([("t10k-labels-idx1-ubyte", b"\x00\x00\x08\x01", "application/octet-stream")], "missing train-images"),
        ([("digits.npz", b"PK junk", "application/zip")], "not a readable"),
        ([("cat.png", b"\x89PNG", "image/png")], "cat.png"),
    ],
)
def test_a_bad_upload_shows_an_error_and_keeps_the_previous_dataset(at, files, match):
    at.selectbox(key="dataset_source").set_value("folder").run()
    at.text_input(key="dataset_folder").set_value(str(MNIST_10K)).run()
    before = choice(at)
    at.selectbox(key="dataset_source").set_value("upload").run()
    at.file_uploader(key="dataset_upload").set_value(files).run()
    assert not at.exception
    assert len(at.error) == 1 and match in at.error[0].value
    assert choice(at) == before and loaded(at) == ["mnist-10k", "7200", "800", "2000"]


def test_an_npz_upload_loads(at):
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    np.savez(
        buf,
        x_train=rng.integers(0, 256, (40, 6, 6), dtype=np.uint8),
        y_train=np.arange(40) % 10,
        x_test=rng.integers(0, 256, (10, 6, 6), dtype=np.uint8),
        y_test=np.arange(10),
    )
    at.selectbox(key="dataset_source").set_value("upload").run()
    at.file_uploader(key="dataset_upload").set_value([("mine.npz", buf.getvalue(), "application/zip")]).run()
    assert not at.exception and not at.error
    assert loaded(at) == ["Upload (mine.npz)", "36", "4", "10"]


def test_a_folder_that_is_not_mnist_format_is_an_error(at, tmp_path):
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x03"))
    at.selectbox(key="dataset_source").set_value("folder").run()
    at.text_input(key="dataset_folder").set_value(str(folder)).run()
    assert not at.exception and "missing train-images-idx3-ubyte" in at.error[0].value
    assert choice(at).source == "digits"


PICKER_SCRIPT = """
import dataclasses, json, os
import streamlit as st
from core import data
from ui.dataset import dataset_picker

mirror = json.loads(os.environ["PICKER_TEST_MIRROR"])
files = tuple(data.RemoteFile(*f) for f in mirror["files"])
data.REMOTE_SOURCES["mnist"] = dataclasses.replace(data.REMOTE_SOURCES["mnist"], mirrors=(mirror["url"],), files=files)
ds = dataset_picker()
st.write(f"loaded: {ds.name}")
"""


@pytest.mark.e2e
def test_cancel_in_the_browser_stops_the_download_and_keeps_no_partial_file(tmp_path, mirror, browser):
    """Streamlit in a real process, Chromium clicking Cancel while /slow/ trickles MNIST in."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.e2e.browser import ROOT, free_port, wait_for_app

    script, cache = tmp_path / "picker_app.py", tmp_path / "cache"
    script.write_text(PICKER_SCRIPT)
    files = [[n, SHA256[n], (MNIST_10K / n).stat().st_size] for n in SHA256]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        data.CACHE_ENV: str(cache),
        "PICKER_TEST_MIRROR": json.dumps({"url": f"{mirror.url}/slow/", "files": files}),
    }
    port = free_port()
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true"]  # fmt: skip
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    parts = lambda: list(cache.rglob("*.part"))  # noqa: E731
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        pg = browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            pg.goto(f"http://127.0.0.1:{port}/")
            wait_for_app(pg)
            pg.get_by_text("loaded: Bundled digits (8x8)").wait_for()
            sidebar = pg.locator('[data-testid="stSidebar"]')
            sidebar.locator('[data-testid="stSelectbox"]').first.click()
            pg.get_by_role("option", name="MNIST (download)", exact=True).click()
            pg.get_by_text("Downloading MNIST:").wait_for(timeout=20_000)
            pg.wait_for_timeout(500)
            assert parts(), "the download should be streaming into a .part file"
            pg.get_by_role("button", name="Cancel download").click()
            pg.get_by_text("Download cancelled").wait_for(timeout=20_000)
            # Streamlit starts the rerun at once (fast reruns); the interrupted run removes its .part file at its
            # next progress update, within one chunk of the trickle.
            deadline = time.monotonic() + 10
            while parts() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not parts() and not (cache / "mnist" / "train-images-idx3-ubyte.gz").exists()
            assert pg.get_by_text("loaded: Bundled digits (8x8)").is_visible()
            assert pg.locator('[data-testid="stException"]').count() == 0

            sidebar.locator('[data-testid="stSelectbox"]').first.click()
            pg.get_by_role("option", name="MNIST (download)", exact=True).click()
            pg.get_by_text("loaded: MNIST").wait_for(timeout=60_000)
            assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(SHA256)
        finally:
            pg.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
