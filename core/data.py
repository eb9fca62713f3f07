"""Datasets of real handwritten images: IDX files, the bundled 8x8 digits, MNIST downloads, uploads.

Pure numpy and the standard library (plus ``platformdirs`` for the default cache folder). Everything
returns a :class:`Dataset`: float32 pixels in [0, 1], one image per row of ``X``, int64 labels in ``y``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import re
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

DIGIT_NAMES: tuple[str, ...] = tuple(str(k) for k in range(10))
FASHION_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The four standard MNIST file names (without .gz), keyed by role.
IDX_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CACHE_ENV = "BACKPROP_LAB_DATA_DIR"
"""Environment variable that overrides the download cache folder."""
MAX_IDX_BYTES = 1 << 30
"""Refuse to decompress more than this (a gzip bomb in an upload must not eat the server's memory)."""
_IDX_DTYPES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


class DataFormatError(ValueError):
    """A data file is missing, truncated, corrupt or inconsistent; the message names the file."""


class DownloadError(ValueError):
    """A download failed; the message says what went wrong and the way out."""


class DownloadCancelled(DownloadError):
    """The progress callback asked to stop; nothing partial was kept."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as rows of float32 pixels in [0, 1] with int64 labels: train, validation and test splits.

    All arrays are C-contiguous and read-only, so one copy can be shared by every browser session.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    class_names: tuple[str, ...]
    pixel_scale: float

    @property
    def n_features(self) -> int:
        """D, the number of pixels per image (the length of x = a^(0))."""
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        """K, the number of classes (the length of the softmax output a^(L))."""
        return len(self.class_names)


@dataclass(frozen=True, eq=False)
class RawImages:
    """A source's images and labels as stored (uint8 pixels, before scaling and splitting)."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]
    pixel_scale: float


@dataclass(frozen=True)
class RemoteFile:
    """One file of a downloadable dataset: its name, its official checksum and its size in bytes."""

    name: str
    checksum: str  # md5 (32 hex digits) or sha256 (64)
    size: int  # for the progress bar; the checksum is what decides


@dataclass(frozen=True)
class RemoteSource:
    """A dataset that downloads on first use: mirrors tried in turn, files checked against checksums."""

    name: str
    folder: str
    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    class_names: tuple[str, ...]


REMOTE_SOURCES: dict[str, RemoteSource] = {
    "mnist": RemoteSource(
        name="MNIST",
        folder="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
        ),
        class_names=DIGIT_NAMES,
    ),
    "fashion-mnist": RemoteSource(
        name="Fashion-MNIST",
        folder="fashion-mnist",
        mirrors=(
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's copy, same files
        ),
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26_421_880),
            RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29_515),
            RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4_422_102),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5_148),
        ),
        class_names=FASHION_NAMES,
    ),
}

Progress = Callable[[int, int], "bool | None"]
"""``progress(done_bytes, total_bytes)``; returning ``False`` (or raising DownloadCancelled) cancels."""


# ----------------------------------------------------------------------------------------------- IDX files
def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Decode the bytes of one IDX file (gzipped or raw, told apart by the gzip magic bytes).

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, used in every error message.

    Returns
    -------
    np.ndarray
        uint8 array: images of shape (n, rows, cols) or labels of shape (n,).

    Raises
    ------
    DataFormatError
        Bad gzip stream, wrong magic, a dtype other than unsigned byte, or a length that does not
        match the dimensions in the header.
    """
    if data[:2] == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(MAX_IDX_BYTES + 1)
        except (OSError, EOFError) as exc:  # BadGzipFile is an OSError; a cut-off stream is an EOFError
            raise DataFormatError(f"{name}: the gzip data is truncated or corrupt ({exc})") from None
        if len(data) > MAX_IDX_BYTES:
            raise DataFormatError(f"{name}: decompresses to more than {MAX_IDX_BYTES >> 20} MiB; refused")
    if len(data) < 4:
        raise DataFormatError(f"{name}: truncated ({len(data)} bytes; an IDX file starts with a 4-byte magic number)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DataFormatError(
            f"{name}: wrong magic number 0x{data[:4].hex()}; not an IDX file "
            "(expected 0x00000801 for labels or 0x00000803 for images)"
        )
    if code != 0x08:
        raise DataFormatError(
            f"{name}: dtype code 0x{code:02X} ({_IDX_DTYPES[code]}); MNIST-format files hold unsigned bytes (0x08)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{name}: truncated inside the header ({len(data)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) < expected:
        raise DataFormatError(
            f"{name}: truncated: the header promises dimensions {dims} ({expected:,} bytes) "
            f"but the file holds {len(data):,} bytes"
        )
    if len(data) > expected:
        raise DataFormatError(
            f"{name}: {len(data) - expected:,} bytes more than its dimensions {dims} allow; the count is wrong"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or raw) from disk; see :func:`parse_idx`.

    Returns uint8 images of shape (n, rows, cols) or labels of shape (n,); raises DataFormatError
    (a ValueError) naming the file when it is missing, truncated or corrupt.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse_idx(data, str(path))


def _check_pair(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str, n_classes: int) -> None:
    """Images 3-D, labels 1-D, equal counts, labels in 0..K-1; else DataFormatError naming the file."""
    if images.ndim != 3:
        raise DataFormatError(
            f"{images_name}: holds a {images.ndim}-D array {images.shape}; expected images (n, rows, cols)"
        )
    if labels.ndim != 1:
        raise DataFormatError(f"{labels_name}: holds a {labels.ndim}-D array {labels.shape}; expected labels (n,)")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"{images_name} holds {images.shape[0]:,} images but {labels_name} holds {labels.shape[0]:,} labels"
        )
    if images.shape[0] == 0:
        raise DataFormatError(f"{images_name}: holds no images")
    bad = np.flatnonzero(labels >= n_classes)
    if bad.size:
        raise DataFormatError(
            f"{labels_name}: label {int(labels[bad[0]])} at index {int(bad[0])} is out of range 0..{n_classes - 1}"
        )


def _raw_from_arrays(
    name: str,
    arrays: Mapping[str, np.ndarray],
    names: Mapping[str, str],
    class_names: tuple[str, ...],
    pixel_scale: float,
) -> RawImages:
    """Check the four arrays against each other and bundle them."""
    k = len(class_names)
    _check_pair(arrays["train_images"], arrays["train_labels"], names["train_images"], names["train_labels"], k)
    _check_pair(arrays["test_images"], arrays["test_labels"], names["test_images"], names["test_labels"], k)
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise DataFormatError(
            f"{names['train_images']} holds {arrays['train_images'].shape[1:]} images but "
            f"{names['test_images']} holds {arrays['test_images'].shape[1:]} images"
        )
    return RawImages(
        name=name,
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"],
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"],
        class_names=tuple(class_names),
        pixel_scale=pixel_scale,
    )


def _idx_role(filename: str) -> str | None:
    """The role of a file with a standard MNIST name (``.gz`` or not; ``-idx`` or Kaggle's ``.idx``)."""
    stem = re.sub(r"\.gz$", "", Path(filename).name).replace(".idx", "-idx")
    return next((role for role, std in IDX_FILES.items() if stem == std), None)


def read_mnist_folder(
    path: str | os.PathLike, *, name: str | None = None, class_names: tuple[str, ...] | None = None
) -> RawImages:
    """Read the four standard IDX files of a folder (gzipped or not) without scaling or splitting."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: no such folder")
    found = {role: f for f in sorted(folder.iterdir()) if (role := _idx_role(f.name)) and f.is_file()}
    missing = [f"{IDX_FILES[role]}[.gz]" for role in IDX_FILES if role not in found]
    if missing:
        raise DataFormatError(f"{folder}: missing {', '.join(missing)} (the four standard MNIST file names)")
    arrays = {role: read_idx(found[role]) for role in IDX_FILES}
    names = {role: str(found[role]) for role in IDX_FILES}
    return _raw_from_arrays(name or folder.name, arrays, names, class_names or DIGIT_NAMES, 255.0)


def read_upload(files: Mapping[str, bytes], *, name: str = "Upload") -> RawImages:
    """Read uploaded files: the four standard IDX files (gzipped or not), or one ``.npz`` archive.

    The ``.npz`` must hold ``x_train, y_train, x_test, y_test`` (images uint8 of shape (n, rows, cols));
    it is opened with ``allow_pickle=False``, so it cannot run code.
    """
    npz = [f for f in files if f.lower().endswith(".npz")]
    if npz:
        if len(files) != 1:
            raise DataFormatError(
                f"{npz[0]}: upload the .npz on its own, not together with {len(files) - 1} more files"
            )
        return _read_npz(files[npz[0]], npz[0], name)
    roles: dict[str, str] = {}
    for filename in files:
        role = _idx_role(filename)
        if role is None:
            raise DataFormatError(
                f"{filename}: not a standard MNIST file name ({', '.join(IDX_FILES.values())}, optionally .gz) "
                "and not a .npz"
            )
        roles[role] = filename
    missing = [f"{IDX_FILES[role]}[.gz]" for role in IDX_FILES if role not in roles]
    if missing:
        raise DataFormatError(f"the upload is missing {', '.join(missing)}; upload all four IDX files or one .npz")
    arrays = {role: parse_idx(files[fn], fn) for role, fn in roles.items()}
    return _raw_from_arrays(name, arrays, roles, DIGIT_NAMES, 255.0)


def _read_npz(data: bytes, filename: str, name: str) -> RawImages:
    """Arrays x_train, y_train, x_test, y_test from a .npz, checked like the IDX files."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in npz.files]
            if missing:
                raise DataFormatError(f"{filename}: missing arrays {', '.join(missing)} (has {', '.join(npz.files)})")
            loaded = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(f"{filename}: not a readable .npz archive ({exc})") from None
    arrays: dict[str, np.ndarray] = {}
    names: dict[str, str] = {}
    for key, role, limit in (
        ("x_train", "train_images", 255),
        ("x_test", "test_images", 255),
        ("y_train", "train_labels", None),
        ("y_test", "test_labels", None),
    ):
        a = loaded[key]
        if a.dtype.kind not in "iu":
            raise DataFormatError(f"{filename}: {key} has dtype {a.dtype}; expected integers (pixels 0..255, labels)")
        if a.size and (a.min() < 0 or (limit is not None and a.max() > limit)):
            raise DataFormatError(f"{filename}: {key} holds values {a.min()}..{a.max()}; expected 0..{limit or 'K-1'}")
        arrays[role] = a.astype(np.uint8) if limit else a.astype(np.int64)
        names[role] = f"{filename}:{key}"
    return _raw_from_arrays(name, arrays, names, DIGIT_NAMES, 255.0)


def read_digits() -> RawImages:
    """scikit-learn's bundled 1,797 real 8x8 handwritten digits (pixel values 0..16), split 1,437 / 360.

    The CSV ships inside the installed scikit-learn package; it is read directly, without importing
    scikit-learn (which would pull in scipy), and with no network. The test split is a fixed seeded
    permutation, so every session and every run sees the same 360 test digits.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataFormatError("scikit-learn is not installed; it ships the bundled digits (pip install scikit-learn)")
    csv = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    try:
        table = np.loadtxt(csv, delimiter=",", dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{csv}: cannot be read ({exc})") from None
    images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    order = np.random.default_rng(0).permutation(labels.size)
    test, train = np.sort(order[:360]), np.sort(order[360:])
    arrays = {
        "train_images": images[train],
        "train_labels": labels[train],
        "test_images": images[test],
        "test_labels": labels[test],
    }
    names = dict.fromkeys(IDX_FILES, str(csv))
    return _raw_from_arrays("Bundled digits (8x8)", arrays, names, DIGIT_NAMES, 16.0)


# --------------------------------------------------------------------------------- scaling and splitting
def _features(images: np.ndarray, pixel_scale: float) -> np.ndarray:
    """The one place stored pixels become model input x: rows of float32 in [0, 1], read-only."""
    n, d = images.shape[0], int(np.prod(images.shape[1:]))  # explicit d: reshape(0, -1) is ambiguous
    X = images.reshape(n, d).astype(np.float32)  # astype copies: the stored uint8 stays intact
    np.divide(X, np.float32(pixel_scale), out=X)
    X.setflags(write=False)
    return X


def _labels(labels: np.ndarray) -> np.ndarray:
    y = np.ascontiguousarray(labels, dtype=np.int64).copy()
    y.setflags(write=False)
    return y


def make_dataset(raw: RawImages, *, val_fraction: float = 0.1, seed: int = 0, subset: int | None = None) -> Dataset:
    """Scale pixels to [0, 1] and carve a seeded validation split from the (first ``subset``) training images.

    Parameters
    ----------
    raw : RawImages
        The source's images and labels.
    val_fraction : float
        Share of the training images held out for validation, in [0, 1); 0 gives an empty validation set.
    seed : int
        Seed of the permutation that picks the validation images.
    subset : int, optional
        Use only the first ``subset`` training images (before the split); larger than the set means all.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1); got {val_fraction}")
    if subset is not None and subset < 2:
        raise ValueError(f"subset must be at least 2 training images; got {subset}")
    n = raw.train_labels.shape[0] if subset is None else min(subset, raw.train_labels.shape[0])
    n_val = round(val_fraction * n)
    if n - n_val < 1:
        raise ValueError(f"validation fraction {val_fraction} leaves no training images out of {n}")
    order = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    images, labels = raw.train_images[:n], raw.train_labels[:n]
    return Dataset(
        name=raw.name,
        X_train=_features(images[train], raw.pixel_scale),
        y_train=_labels(labels[train]),
        X_val=_features(images[val], raw.pixel_scale),
        y_val=_labels(labels[val]),
        X_test=_features(raw.test_images, raw.pixel_scale),
        y_test=_labels(raw.test_labels),
        image_shape=(int(raw.train_images.shape[1]), int(raw.train_images.shape[2])),
        class_names=raw.class_names,
        pixel_scale=raw.pixel_scale,
    )


def load_mnist_folder(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    class_names: tuple[str, ...] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    subset: int | None = None,
) -> Dataset:
    """A Dataset from a folder holding the four standard MNIST-format IDX files (gzipped or not)."""
    raw = read_mnist_folder(path, name=name, class_names=class_names)
    return make_dataset(raw, val_fraction=val_fraction, seed=seed, subset=subset)


def load_digits(*, val_fraction: float = 0.1, seed: int = 0, subset: int | None = None) -> Dataset:
    """The bundled 8x8 digits (1,437 train / 360 test, pixels / 16) as a Dataset; works offline."""
    return make_dataset(read_digits(), val_fraction=val_fraction, seed=seed, subset=subset)


def load_upload(
    files: Mapping[str, bytes], *, val_fraction: float = 0.1, seed: int = 0, subset: int | None = None
) -> Dataset:
    """A Dataset from uploaded files (four IDX files by their standard names, or one .npz)."""
    return make_dataset(read_upload(files), val_fraction=val_fraction, seed=seed, subset=subset)


def folder_class_names(path: str | os.PathLike) -> tuple[str, ...]:
    """Fashion-MNIST's clothing names for a folder whose path says "fashion", else the ten digits."""
    return FASHION_NAMES if "fashion" in str(path).lower() else DIGIT_NAMES


def read_source(
    source: str, *, cache_dir: str | os.PathLike | None = None, progress: Progress | None = None
) -> RawImages:
    """The raw images of ``"digits"``, ``"mnist"``, ``"fashion-mnist"`` (downloaded if not cached) or a folder."""
    if source == "digits":
        return read_digits()
    if source in REMOTE_SOURCES:
        remote = REMOTE_SOURCES[source]
        folder = download_dataset(source, cache_dir=cache_dir, progress=progress)
        return read_mnist_folder(folder, name=remote.name, class_names=remote.class_names)
    return read_mnist_folder(source, class_names=folder_class_names(source))


def load_dataset(
    source: str,
    *,
    val_fraction: float = 0.1,
    seed: int = 0,
    subset: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """A Dataset from ``"digits"`` (bundled), ``"mnist"``, ``"fashion-mnist"`` (cached download) or a folder path."""
    raw = read_source(source, cache_dir=cache_dir, progress=progress)
    return make_dataset(raw, val_fraction=val_fraction, seed=seed, subset=subset)


# -------------------------------------------------------------------------------------------- downloads
def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The download cache: ``cache_dir``, else $BACKPROP_LAB_DATA_DIR, else the platform's user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    import platformdirs  # only needed when no folder was given

    return Path(platformdirs.user_cache_dir("backprop-lab")) / "datasets"


def cached_folder(source: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``source``'s files live in the cache (they may not be there yet)."""
    return cache_root(cache_dir) / REMOTE_SOURCES[source].folder


def is_downloaded(
    source: str, *, cache_dir: str | os.PathLike | None = None, files: tuple[RemoteFile, ...] | None = None
) -> bool:
    """True when every file of ``source`` is in the cache (files only get there after their checksum matched)."""
    folder = cached_folder(source, cache_dir)
    return all((folder / f.name).is_file() for f in files or REMOTE_SOURCES[source].files)


def _hasher(checksum: str) -> hashlib._Hash:
    if len(checksum) == 32:
        return hashlib.md5(usedforsecurity=False)
    if len(checksum) == 64:
        return hashlib.sha256()
    raise ValueError(f"checksum {checksum!r} is neither an md5 (32 hex digits) nor a sha256 (64)")


def _fetch(
    url: str, out: IO[bytes], spec: RemoteFile, done: int, total: int, progress: Progress | None, timeout: float
) -> int:
    """Stream ``url`` into ``out`` in chunks, hashing as it goes; return the bytes written. Raises on failure."""
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"{url}: only http(s) mirrors are allowed")
    hasher, got = _hasher(spec.checksum), 0
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
        length = response.headers.get("Content-Length")
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            hasher.update(chunk)
            got += len(chunk)
            if progress is not None and progress(done + got, total) is False:
                raise DownloadCancelled("download cancelled; nothing partial was kept. Pick it again to retry.")
    if length is not None and got != int(length):
        raise DownloadError(f"the connection dropped after {got:,} of {int(length):,} bytes")
    if hasher.hexdigest() != spec.checksum.lower():
        raise DownloadError(f"checksum mismatch ({hasher.name} {hasher.hexdigest()}, expected {spec.checksum})")
    return got


def _why(exc: BaseException) -> str:
    """What went wrong with one mirror, in words a student understands."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the mirror refused: HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"could not connect ({exc.reason}); are you offline?"
    if isinstance(exc, DownloadError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"the connection dropped ({type(exc).__name__}: {exc})"


def download_dataset(
    source: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    mirrors: tuple[str, ...] | None = None,
    files: tuple[RemoteFile, ...] | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``source``'s missing files into the cache, checksum-verified; return the cache folder.

    Each file streams into a temporary file beside its final place and is renamed atomically only after
    its checksum matched, so a failed or cancelled download leaves no partial file (complete, verified
    files are kept). Mirrors are tried in turn. With every file cached, no network call is made.

    Parameters
    ----------
    source : str
        ``"mnist"`` or ``"fashion-mnist"``.
    cache_dir : path, optional
        Cache folder (default: see :func:`cache_root`).
    mirrors, files : optional
        Override the mirror URLs (each ending in ``/``) and the expected files and checksums (tests do).
    progress : callable, optional
        ``progress(done_bytes, total_bytes)`` after each chunk; returning ``False`` cancels.
    timeout : float
        Seconds to wait for a mirror before trying the next.

    Raises
    ------
    DownloadError
        Every mirror failed for some file; the message lists why and the way out.
    DownloadCancelled
        ``progress`` returned False (or raised it).
    """
    if source not in REMOTE_SOURCES:
        raise ValueError(f"unknown download {source!r}; choose one of {', '.join(REMOTE_SOURCES)}")
    remote = REMOTE_SOURCES[source]
    mirrors, files = mirrors or remote.mirrors, files or remote.files
    folder = cached_folder(source, cache_dir)
    todo = [f for f in files if not (folder / f.name).is_file()]
    if not todo:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {folder} ({exc.strerror}); set {CACHE_ENV}") from None
    total, done = sum(f.size for f in todo), 0
    for spec in todo:
        failures = []
        for mirror in mirrors:
            url = mirror + spec.name
            tmp = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{spec.name}.", suffix=".part", delete=False)
            try:
                with tmp:
                    got = _fetch(url, tmp, spec, done, total, progress, timeout)
                os.replace(tmp.name, folder / spec.name)
            except BaseException as exc:  # also Ctrl-C and Streamlit's rerun signal: never leave the .part behind
                os.unlink(tmp.name)
                if isinstance(exc, DownloadCancelled) or not isinstance(exc, Exception):
                    raise
                failures.append(f"  {url}: {_why(exc)}")
                continue
            done += got
            break
        else:
            raise DownloadError(
                f"could not download {remote.name} ({spec.name}); every mirror failed:\n"
                + "\n".join(failures)
                + f"\nNothing partial was kept. Retry later, or download the four files yourself into a folder "
                f"and pick 'Local folder' (or put them in {folder})."
            )
    return folder


def text_progress(label: str, stream: IO[str] | None = None, width: int = 30) -> Progress:
    """A progress callback for the command line: a text bar on stderr, e.g. ``MNIST [#####.....] 4.2 / 11.6 MB``."""
    out = stream or sys.stderr

    def show(done: int, total: int) -> None:
        frac = min(done / total, 1.0) if total else 0.0
        bar = "#" * round(frac * width) + "." * (width - round(frac * width))
        out.write(f"\r{label} [{bar}] {done / 1e6:.1f} / {total / 1e6:.1f} MB")
        if done >= total:
            out.write("\n")
        out.flush()

    return show


# ---------------------------------------------------------------------------------- vital statistics
def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    """How many images of each class 0..K-1 (length K, zeros for absent classes)."""
    return np.bincount(y, minlength=n_classes)[:n_classes]


def class_means(ds: Dataset) -> np.ndarray:
    """The mean training image of each class, shape (K, D); a class with no images gets zeros."""
    onehot = (ds.y_train[:, None] == np.arange(ds.n_classes)).astype(np.float32)
    sums = onehot.T @ ds.X_train  # (K, N) @ (N, D): one BLAS call instead of K boolean copies
    return sums / np.maximum(class_counts(ds.y_train, ds.n_classes), 1)[:, None]


def first_of_each_class(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Index of the first image of each class (-1 where a class is absent)."""
    first = np.full(n_classes, -1, dtype=np.int64)
    for k in range(n_classes):
        hits = np.flatnonzero(y == k)
        if hits.size:
            first[k] = hits[0]
    return first


def image_strip(rows: np.ndarray, image_shape: tuple[int, int], gap: int = 1) -> np.ndarray:
    """Images (n, D) side by side in one 2-D array, separated by ``gap`` columns of NaN (drawn blank)."""
    h, w = image_shape
    strip = np.full((h, len(rows) * (w + gap) - gap), np.nan)
    for i, row in enumerate(rows):
        strip[:, i * (w + gap) : i * (w + gap) + w] = np.reshape(row, (h, w))
    return strip
