"""Downloads against a local HTTP server on 127.0.0.1 serving copies of ../shared/data/mnist-10k.

Routes: /good/<file> serves the file, /missing/ answers 404, /wrong/ sends a different body of the same
length, /drop/ promises the full length and closes the connection half-way, /slow/ trickles the file
(16 KiB every 50 ms, for the browser test of Cancel).
"""

import io
import shutil
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from core import data

MNIST_10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-10k"
# The sha256 values published in ../shared/data/README.md (not computed by the code under test).
SHA256 = {
    "train-images-idx3-ubyte.gz": "c2386f10613cf72ec372946581ced23d190b15407236aa2717d877d62b1fe682",
    "train-labels-idx1-ubyte.gz": "dd359dfb638f7ca252aad32dfbfcd07c3009b8bbe7fb51ea6115f141a570b456",
    "t10k-images-idx3-ubyte.gz": "b7cfa44e0f63d87f028e949c3e42cfb0087e9b4349737178ed0c34701ac1c93a",
    "t10k-labels-idx1-ubyte.gz": "ab60807ea3ab0fe0ca8ee2aacaa23722a9c1c73b35550c906abd0f04e51e8d63",
}


class Server:
    """A tiny mirror on 127.0.0.1 that logs every request path."""

    def __init__(self, root: Path):
        self.root, self.log = root, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.log.append(self.path)
                route, _, name = self.path.strip("/").partition("/")
                path = server.root / name
                if route == "missing" or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                if route == "wrong":
                    body = body[::-1]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if route == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                step = 16_384 if route == "slow" else max(len(body), 1)
                try:
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start : start + step])
                        time.sleep(0.05 if route == "slow" else 0)
                except (BrokenPipeError, ConnectionResetError):  # the client cancelled
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "mirror"
    shutil.copytree(MNIST_10K, root)
    srv = Server(root)
    yield srv
    srv.stop()


@pytest.fixture
def files():
    return tuple(
        data.RemoteFile(name, SHA256[name], (MNIST_10K / name).stat().st_size)
        for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz")
    )  # fmt: skip


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def cache_contents(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file())


def test_success_fills_the_cache_and_the_second_load_needs_no_network(server, files, cache, monkeypatch):
    seen = []
    folder = data.download_dataset(
        "mnist",
        cache_dir=cache,
        mirrors=(server.url + "/good/",),
        files=files,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert folder == cache / "mnist"
    assert cache_contents(cache) == sorted(SHA256)
    for name in SHA256:
        assert (folder / name).read_bytes() == (MNIST_10K / name).read_bytes()
    total = sum(f.size for f in files)
    assert seen[-1] == (total, total) and all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    server.stop()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used with a full cache"))
    assert data.is_downloaded("mnist", cache_dir=cache)
    ds = data.load_dataset("mnist", cache_dir=cache, val_fraction=0.0)
    assert ds.name == "MNIST" and ds.X_train.shape == (8_000, 784) and ds.X_test.shape == (2_000, 784)
    ref = data.load_mnist_folder(MNIST_10K, val_fraction=0.0)
    np.testing.assert_array_equal(ds.X_test, ref.X_test)


def test_the_cache_folder_comes_from_the_environment_variable(tmp_path, monkeypatch, server, files):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "from-env"))
    assert data.cache_root() == tmp_path / "from-env"
    data.download_dataset("fashion-mnist", mirrors=(server.url + "/good/",), files=files)
    assert sorted(p.name for p in (tmp_path / "from-env" / "fashion-mnist").iterdir()) == sorted(SHA256)


def test_without_the_variable_the_cache_is_the_platform_user_cache(monkeypatch):
    import platformdirs

    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    assert data.cache_root() == Path(platformdirs.user_cache_dir("backprop-lab")) / "datasets"


@pytest.mark.parametrize(
    ("route", "match"),
    [("wrong", "checksum mismatch"), ("missing", "HTTP 404"), ("drop", "dropped")],
)
def test_failures_leave_the_cache_clean_and_say_what_happened(server, files, cache, route, match):
    with pytest.raises(data.DownloadError, match=match) as err:
        data.download_dataset("mnist", cache_dir=cache, mirrors=(server.url + f"/{route}/",), files=files)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and "Retry" in message and "Local folder" in message
    assert cache_contents(cache) == []
    assert server.log == [f"/{route}/train-images-idx3-ubyte.gz"]


def test_offline_says_so(files, cache):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(data.DownloadError, match="offline"):
        data.download_dataset("mnist", cache_dir=cache, mirrors=(f"http://127.0.0.1:{port}/",), files=files)
    assert cache_contents(cache) == []


def test_a_failing_mirror_falls_over_to_the_next(server, files, cache):
    mirrors = (server.url + "/missing/", server.url + "/wrong/", server.url + "/good/")
    data.download_dataset("mnist", cache_dir=cache, mirrors=mirrors, files=files)
    assert cache_contents(cache) == sorted(SHA256)
    first = [p for p in server.log if p.endswith("/train-images-idx3-ubyte.gz")]
    assert first == ["/missing/train-images-idx3-ubyte.gz", "/wrong/train-images-idx3-ubyte.gz",
                     "/good/train-images-idx3-ubyte.gz"]  # fmt: skip


def test_a_verified_file_is_not_fetched_again(server, files, cache):
    data.download_dataset("mnist", cache_dir=cache, mirrors=(server.url + "/good/",), files=files[1:2])
    server.log.clear()
    data.download_dataset("mnist", cache_dir=cache, mirrors=(server.url + "/good/",), files=files)
    assert sorted(server.log) == sorted(f"/good/{f.name}" for f in files if f.name != "train-labels-idx1-ubyte.gz")


def test_cancel_leaves_no_partial_file(server, files, cache):
    calls = []

    def cancel_after_two_chunks(done, total):
        calls.append(done)
        return len(calls) < 2

    with pytest.raises(data.DownloadCancelled, match="cancelled"):
        data.download_dataset(
            "mnist", cache_dir=cache, mirrors=(server.url + "/good/",), files=files, progress=cancel_after_two_chunks
        )
    assert len(calls) == 2 and 0 < calls[-1] < files[0].size
    assert cache_contents(cache) == []
    assert server.log == ["/good/train-images-idx3-ubyte.gz"]  # a cancel does not try the next mirror


def test_an_interrupt_from_outside_also_removes_the_partial_file(server, files, cache):
    class Rerun(BaseException):
        """Stands in for Streamlit's rerun signal, which derives from BaseException."""

    def interrupt(done, total):
        raise Rerun

    with pytest.raises(Rerun):
        data.download_dataset(
            "mnist", cache_dir=cache, mirrors=(server.url + "/good/",), files=files, progress=interrupt
        )
    assert cache_contents(cache) == []


def test_text_progress_draws_a_bar():
    out = io.StringIO()
    show = data.text_progress("MNIST", stream=out, width=10)
    show(5_000_000, 10_000_000)
    show(10_000_000, 10_000_000)
    text = out.getvalue()
    assert "\rMNIST [#####.....] 5.0 / 10.0 MB" in text
    assert text.endswith("[##########] 10.0 / 10.0 MB\n")


def test_unknown_source_is_a_value_error(cache):
    with pytest.raises(ValueError, match="unknown download"):
        data.download_dataset("cifar", cache_dir=cache)
