"""Downloads against a local HTTP mirror on 127.0.0.1 (tests/mirror.py) serving copies of ../shared/data/mnist-10k."""

import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from core import data
from tests.mirror import MNIST_10K, SHA256


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


def test_success_fills_the_cache_and_the_second_load_needs_no_network(mirror, files, cache, monkeypatch):
    seen = []
    folder = data.download_dataset(
        "mnist",
        cache_dir=cache,
        mirrors=(mirror.url + "/good/",),
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

    mirror.stop()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used with a full cache"))
    assert data.is_downloaded("mnist", cache_dir=cache)
    ds = data.load_dataset("mnist", cache_dir=cache, val_fraction=0.0)
    assert ds.name == "MNIST" and ds.X_train.shape == (8_000, 784) and ds.X_test.shape == (2_000, 784)
    ref = data.load_mnist_folder(MNIST_10K, val_fraction=0.0)
    np.testing.assert_array_equal(ds.X_test, ref.X_test)


def test_the_cache_folder_comes_from_the_environment_variable(tmp_path, monkeypatch, mirror, files):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "from-env"))
    assert data.cache_root() == tmp_path / "from-env"
    data.download_dataset("fashion-mnist", mirrors=(mirror.url + "/good/",), files=files)
    assert sorted(p.name for p in (tmp_path / "from-env" / "fashion-mnist").iterdir()) == sorted(SHA256)


def test_without_the_variable_the_cache_is_the_platform_user_cache(monkeypatch):
    import platformdirs

    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    assert data.cache_root() == Path(platformdirs.user_cache_dir("backprop-lab")) / "datasets"


@pytest.mark.parametrize(
    ("route", "match"),
    [("wrong", "checksum mismatch"), ("missing", "HTTP 404"), ("drop", "dropped")],
)
def test_failures_leave_the_cache_clean_and_say_what_happened(mirror, files, cache, route, match):
    with pytest.raises(data.DownloadError, match=match) as err:
        data.download_dataset("mnist", cache_dir=cache, mirrors=(mirror.url + f"/{route}/",), files=files)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and "Retry" in message and "Local folder" in message
    assert cache_contents(cache) == []
    assert mirror.log == [f"/{route}/train-images-idx3-ubyte.gz"]


def test_offline_says_so(files, cache):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(data.DownloadError, match="offline"):
        data.download_dataset("mnist", cache_dir=cache, mirrors=(f"http://127.0.0.1:{port}/",), files=files)
    assert cache_contents(cache) == []


def test_a_failing_mirror_falls_over_to_the_next(mirror, files, cache):
    mirrors = (mirror.url + "/missing/", mirror.url + "/wrong/", mirror.url + "/good/")
    data.download_dataset("mnist", cache_dir=cache, mirrors=mirrors, files=files)
    assert cache_contents(cache) == sorted(SHA256)
    first = [p for p in mirror.log if p.endswith("/train-images-idx3-ubyte.gz")]
    assert first == ["/missing/train-images-idx3-ubyte.gz", "/wrong/train-images-idx3-ubyte.gz",
                     "/good/train-images-idx3-ubyte.gz"]  # fmt: skip


def test_a_verified_file_is_not_fetched_again(mirror, files, cache):
    data.download_dataset("mnist", cache_dir=cache, mirrors=(mirror.url + "/good/",), files=files[1:2])
    mirror.log.clear()
    data.download_dataset("mnist", cache_dir=cache, mirrors=(mirror.url + "/good/",), files=files)
    assert sorted(mirror.log) == sorted(f"/good/{f.name}" for f in files if f.name != "train-labels-idx1-ubyte.gz")


def test_cancel_leaves_no_partial_file(mirror, files, cache):
    calls = []

    def cancel_after_two_chunks(done, total):
        calls.append(done)
        return len(calls) < 2

    with pytest.raises(data.DownloadCancelled, match="cancelled"):
        data.download_dataset(
            "mnist", cache_dir=cache, mirrors=(mirror.url + "/good/",), files=files, progress=cancel_after_two_chunks
        )
    assert len(calls) == 2 and 0 < calls[-1] < files[0].size
    assert cache_contents(cache) == []
    assert mirror.log == ["/good/train-images-idx3-ubyte.gz"]  # a cancel does not try the next mirror


def test_an_interrupt_from_outside_also_removes_the_partial_file(mirror, files, cache):
    class Rerun(BaseException):
        """Stands in for Streamlit's rerun signal, which derives from BaseException."""

    def interrupt(done, total):
        raise Rerun

    with pytest.raises(Rerun):
        data.download_dataset(
            "mnist", cache_dir=cache, mirrors=(mirror.url + "/good/",), files=files, progress=interrupt
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
