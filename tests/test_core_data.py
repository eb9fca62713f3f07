"""core.data on the real MNIST files in ../shared/data, on corrupted copies, the bundled digits and uploads."""

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from core import data

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MNIST = SHARED / "mnist"
MNIST_10K = SHARED / "mnist-10k"
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file written by hand from the format's definition: 0, 0, 0x08, ndim, big-endian dims, bytes."""
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(np.uint8).tobytes()


def raw_mnist_10k() -> dict[str, bytes]:
    """The mnist-10k folder's four files, decompressed, by standard name."""
    return {n: gzip.decompress((MNIST_10K / f"{n}.gz").read_bytes()) for n in NAMES}


def copy_folder(tmp_path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


# ------------------------------------------------------------------------------------- the real files
def test_read_idx_original_test_images_and_labels():
    images = data.read_idx(MNIST / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # The MNIST test set's published class sizes (LeCun's page / every MNIST paper).
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.max() == 255 and images.min() == 0
    # The decompressed content is the original one (md5 from the shared README).
    import hashlib

    raw = gzip.decompress((MNIST / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert len(raw) == 7_840_016 and hashlib.md5(raw).hexdigest() == "2646ac647ad5339dbf082846283269ea"


def test_read_idx_original_train_labels():
    labels = data.read_idx(MNIST / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60_000,)
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_read_idx_raw_and_gzip_agree(tmp_path):
    raw = gzip.decompress((MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw)
    np.testing.assert_array_equal(
        data.read_idx(tmp_path / "t10k-labels-idx1-ubyte"), data.read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
    )


def test_mnist_10k_folder_is_the_test_set_split_8000_2000():
    ds = data.load_mnist_folder(MNIST_10K, val_fraction=0.0)
    assert ds.X_train.shape == (8_000, 784) and ds.X_test.shape == (2_000, 784)
    assert ds.X_val.shape == (0, 784) and ds.y_val.shape == (0,)
    assert (ds.image_shape, ds.n_features, ds.n_classes, ds.pixel_scale) == ((28, 28), 784, 10, 255.0)
    assert ds.class_names == tuple("0123456789")
    # Together the two halves hold exactly the original 10,000 test labels' class counts.
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_test]), minlength=10)
    original = np.bincount(data.read_idx(MNIST / "t10k-labels-idx1-ubyte.gz"), minlength=10)
    np.testing.assert_array_equal(counts, original)
    # Pixels are the stored bytes / 255.
    stored = data.read_idx(MNIST_10K / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(ds.X_test[5], stored[5].reshape(-1).astype(np.float32) / np.float32(255))


def test_dataset_arrays_are_float32_contiguous_read_only():
    ds = data.load_mnist_folder(MNIST_10K)
    for X in (ds.X_train, ds.X_val, ds.X_test):
        assert X.dtype == np.float32 and X.flags.c_contiguous and not X.flags.writeable
        assert 0.0 <= X.min() and X.max() <= 1.0
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert y.dtype == np.int64 and not y.flags.writeable
    with pytest.raises(ValueError):
        ds.X_train[0, 0] = 1.0
    with pytest.raises(AttributeError):
        ds.name = "other"


def test_validation_split_is_seeded_disjoint_and_sized():
    images = data.read_idx(MNIST_10K / "train-images-idx3-ubyte.gz").reshape(8_000, -1)
    a = data.load_mnist_folder(MNIST_10K, val_fraction=0.25, seed=3)
    b = data.load_mnist_folder(MNIST_10K, val_fraction=0.25, seed=3)
    c = data.load_mnist_folder(MNIST_10K, val_fraction=0.25, seed=4)
    assert a.X_val.shape == (2_000, 784) and a.X_train.shape == (6_000, 784)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.X_val, c.X_val)
    # Every training image lands in exactly one of the two parts: match rows back to the file by bytes.
    row_of = {images[i].tobytes(): i for i in range(8_000)}
    back = lambda X: {row_of[np.rint(x * 255).astype(np.uint8).tobytes()] for x in X}  # noqa: E731
    train, val = back(a.X_train), back(a.X_val)
    assert len(row_of) == 8_000  # no two stored images are identical, so rows map back one-to-one
    assert not train & val and len(train | val) == 8_000


def test_subset_takes_the_first_n_training_images_before_the_split():
    labels = data.read_idx(MNIST_10K / "train-labels-idx1-ubyte.gz")
    ds = data.load_mnist_folder(MNIST_10K, subset=1_000, val_fraction=0.1)
    assert ds.X_train.shape[0] + ds.X_val.shape[0] == 1_000 and ds.X_val.shape[0] == 100
    np.testing.assert_array_equal(np.sort(np.concatenate([ds.y_train, ds.y_val])), np.sort(labels[:1_000]))
    assert ds.X_test.shape[0] == 2_000  # the test set is never cut
    assert data.load_mnist_folder(MNIST_10K, subset=10**9, val_fraction=0).X_train.shape[0] == 8_000


@pytest.mark.parametrize(("kw", "match"), [({"val_fraction": 1.0}, "validation"), ({"subset": 0}, "subset")])
def test_bad_split_options_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        data.load_mnist_folder(MNIST_10K, **kw)


# ------------------------------------------------------------------------------------- corrupted copies
@pytest.fixture
def labels_file(tmp_path):
    raw = gzip.decompress((MNIST_10K / "t10k-labels-idx1-ubyte.gz").read_bytes())
    return tmp_path, raw


def test_truncated_file_names_the_file(labels_file):
    tmp_path, raw = labels_file
    bad = tmp_path / "t10k-labels-idx1-ubyte"
    bad.write_bytes(raw[:-5])
    with pytest.raises(data.DataFormatError, match=r"t10k-labels-idx1-ubyte.*truncated"):
        data.read_idx(bad)


def test_truncated_gzip_names_the_file(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes((MNIST_10K / "t10k-images-idx3-ubyte.gz").read_bytes()[:50_000])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*(truncated|corrupt)"):
        data.read_idx(bad)


def test_wrong_magic_names_the_file(labels_file):
    tmp_path, raw = labels_file
    bad = tmp_path / "labels.idx"
    bad.write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(data.DataFormatError, match=r"labels\.idx.*wrong magic"):
        data.read_idx(bad)


def test_wrong_dtype_code(labels_file):
    tmp_path, raw = labels_file
    bad = tmp_path / "labels.idx"
    bad.write_bytes(raw[:2] + b"\x0d" + raw[3:])
    with pytest.raises(data.DataFormatError, match=r"labels\.idx.*dtype code 0x0D"):
        data.read_idx(bad)


def test_count_larger_than_the_data_is_truncated_and_smaller_is_extra(labels_file):
    tmp_path, raw = labels_file
    bad = tmp_path / "labels.idx"
    bad.write_bytes(raw[:4] + struct.pack(">I", 2_001) + raw[8:])
    with pytest.raises(data.DataFormatError, match="truncated"):
        data.read_idx(bad)
    bad.write_bytes(raw[:4] + struct.pack(">I", 1_999) + raw[8:])
    with pytest.raises(data.DataFormatError, match="bytes more than"):
        data.read_idx(bad)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(data.DataFormatError, match="nothing-here"):
        data.read_idx(tmp_path / "nothing-here")


def test_folder_image_label_count_mismatch(tmp_path):
    files = raw_mnist_10k()
    labels = data.parse_idx(files["t10k-labels-idx1-ubyte"], "x")
    files["t10k-labels-idx1-ubyte"] = idx_bytes(labels[:-1])
    folder = copy_folder(tmp_path, files)
    with pytest.raises(data.DataFormatError, match=r"2,000 images but .*t10k-labels-idx1-ubyte holds 1,999 labels"):
        data.load_mnist_folder(folder)


def test_folder_label_out_of_range(tmp_path):
    files = raw_mnist_10k()
    labels = data.parse_idx(files["train-labels-idx1-ubyte"], "x").copy()
    labels[17] = 12
    files["train-labels-idx1-ubyte"] = idx_bytes(labels)
    folder = copy_folder(tmp_path, files)
    with pytest.raises(data.DataFormatError, match=r"train-labels-idx1-ubyte: label 12 at index 17 is out of range"):
        data.load_mnist_folder(folder)


def test_folder_missing_file_is_named(tmp_path):
    files = raw_mnist_10k()
    del files["t10k-images-idx3-ubyte"]
    folder = copy_folder(tmp_path, files)
    with pytest.raises(data.DataFormatError, match=r"missing t10k-images-idx3-ubyte"):
        data.load_mnist_folder(folder)
    with pytest.raises(data.DataFormatError, match="no such folder"):
        data.load_mnist_folder(tmp_path / "absent")


def test_folder_of_raw_files_with_kaggle_names_loads_like_the_gzipped_one(tmp_path):
    files = {n.replace("-idx", ".idx"): b for n, b in raw_mnist_10k().items()}
    ds = data.load_mnist_folder(copy_folder(tmp_path, files), val_fraction=0.0)
    ref = data.load_mnist_folder(MNIST_10K, val_fraction=0.0)
    np.testing.assert_array_equal(ds.X_train, ref.X_train)
    np.testing.assert_array_equal(ds.y_test, ref.y_test)


# ------------------------------------------------------------------------------------- bundled digits
def test_bundled_digits_match_scikit_learn_and_load_offline(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the bundled digits must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    ds = data.load_dataset("digits", val_fraction=0.0)
    assert ds.X_train.shape == (1_437, 64) and ds.X_test.shape == (360, 64)
    assert (ds.image_shape, ds.pixel_scale, ds.n_classes) == ((8, 8), 16.0, 10)
    from sklearn.datasets import load_digits as sk_load_digits

    sk = sk_load_digits()
    # Every (image, label) pair is one of scikit-learn's, and together they are all of them.
    ours = sorted(
        (tuple(np.rint(x * 16).astype(int)), int(y))
        for x, y in zip(np.vstack([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test]), strict=True)
    )
    theirs = sorted((tuple(x.astype(int)), int(y)) for x, y in zip(sk.data, sk.target, strict=True))
    assert ours == theirs
    assert ds.X_train.max() == 1.0


def test_digits_split_is_fixed():
    a, b = data.load_digits(), data.load_digits()
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.X_train.shape == (1_293, 64) and a.X_val.shape == (144, 64)


# ------------------------------------------------------------------------------------- uploads
def test_upload_of_four_idx_files_gzipped_or_not():
    files = raw_mnist_10k()
    files["train-images-idx3-ubyte.gz"] = (MNIST_10K / "train-images-idx3-ubyte.gz").read_bytes()
    del files["train-images-idx3-ubyte"]
    ds = data.load_upload(files, val_fraction=0.0)
    ref = data.load_mnist_folder(MNIST_10K, val_fraction=0.0)
    np.testing.assert_array_equal(ds.X_train, ref.X_train)
    np.testing.assert_array_equal(ds.y_test, ref.y_test)


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_upload_npz():
    rng = np.random.default_rng(1)
    x_train, x_test = rng.integers(0, 256, (50, 5, 6), dtype=np.uint8), rng.integers(0, 256, (7, 5, 6), dtype=np.uint8)
    y_train, y_test = rng.integers(0, 10, 50), rng.integers(0, 10, 7)
    ds = data.load_upload(
        {"mine.npz": npz_bytes(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)}, val_fraction=0
    )
    assert ds.image_shape == (5, 6) and ds.n_features == 30
    np.testing.assert_array_equal(ds.X_test, x_test.reshape(7, 30) / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, y_train)


def test_upload_npz_refuses_pickled_objects_and_missing_arrays():
    objects = np.array([{"a": 1}], dtype=object)
    bad = npz_bytes(x_train=objects, y_train=np.zeros(1), x_test=objects, y_test=np.zeros(1))
    with pytest.raises(data.DataFormatError, match=r"evil\.npz"):
        data.load_upload({"evil.npz": bad})
    with pytest.raises(data.DataFormatError, match=r"missing arrays x_test, y_test"):
        data.load_upload({"half.npz": npz_bytes(x_train=np.zeros((2, 2, 2), np.uint8), y_train=np.zeros(2, int))})
    with pytest.raises(data.DataFormatError, match="not a readable"):
        data.load_upload({"junk.npz": b"PK not really"})


def test_upload_with_a_wrong_name_or_a_missing_file():
    files = raw_mnist_10k()
    with pytest.raises(data.DataFormatError, match="holiday.jpg"):
        data.load_upload({**files, "holiday.jpg": b"\xff\xd8"})
    del files["train-labels-idx1-ubyte"]
    with pytest.raises(data.DataFormatError, match="missing train-labels-idx1-ubyte"):
        data.load_upload(files)


# ------------------------------------------------------------------------------------- vital statistics
def test_class_means_against_a_plain_loop():
    ds = data.load_digits()
    means = data.class_means(ds)
    for k in range(10):
        rows = [ds.X_train[i] for i in range(len(ds.y_train)) if ds.y_train[i] == k]
        np.testing.assert_allclose(means[k], np.sum(rows, axis=0) / len(rows), rtol=1e-5, atol=1e-6)


def test_class_counts_first_of_each_class_and_strip():
    y = np.array([2, 0, 2, 3])
    assert data.class_counts(y, 5).tolist() == [1, 0, 2, 1, 0]
    assert data.first_of_each_class(y, 5).tolist() == [1, -1, 0, 3, -1]
    strip = data.image_strip(np.arange(8).reshape(2, 4), (2, 2))
    assert strip.shape == (2, 5) and np.isnan(strip[:, 2]).all()
    np.testing.assert_array_equal(strip[:, 3:], [[4, 5], [6, 7]])
