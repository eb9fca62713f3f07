"""The dataset picker shared by the training pages, and the dataset's vital statistics.

The session's choice lives in ``st.session_state[CHOICE_KEY]`` (a :class:`DatasetChoice`), so the Optimizer
Race, Weight Templates and Confusion Matrix all train and evaluate on the same images. The arrays are
loaded once per server process with ``st.cache_resource`` and shared, read-only, by every session.

Downloads block the script while streaming, with ``st.progress`` updated per chunk (Streamlit cannot run
app code in a thread). A click on *Cancel download* asks Streamlit for a rerun, which interrupts the script
at the next progress update; ``core.data.download_dataset`` then deletes the partial file, and the button's
callback puts the source back to the dataset in use.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import data
from core.data import Dataset, RawImages
from ui.state import persistent

CHOICE_KEY = "dataset_choice"
"""``st.session_state[CHOICE_KEY]``: the :class:`DatasetChoice` in use, shared by every page of the session."""
_FAILED_KEY = "dataset_failed"  # (choice that failed, message): shown again instead of retrying on every rerun
_NOTICE_KEY = "dataset_notice"

SOURCES: dict[str, str] = {
    "digits": "Bundled digits 8x8",
    "mnist": "MNIST (download)",
    "fashion-mnist": "Fashion-MNIST (download)",
    "folder": "Local folder",
    "upload": "Upload",
}
SOURCE_HELP = (
    "Bundled digits: 1,797 real 8x8 digits shipped with scikit-learn, offline. MNIST and Fashion-MNIST: "
    "70,000 images of 28x28, downloaded once into the cache folder ($BACKPROP_LAB_DATA_DIR). Local folder: "
    "the four MNIST-format IDX files. Upload: those files, or one .npz."
)
SUBSETS: tuple[int, ...] = (0, 1_000, 6_000, 10_000, 30_000)  # 0 = all (a None option would read as "no choice")
FONT = {"size": 16}
_UPLOADS_KEPT = 3  # uploads kept per process; older ones are dropped (their sessions are asked to upload again)


@dataclass(frozen=True)
class DatasetChoice:
    """What the session trains on: the source and the split options (the cache key of the loaded Dataset)."""

    source: str = "digits"
    folder: str = ""  # for source "folder"
    upload: str = ""  # sha256 of the uploaded files, for source "upload"
    subset: int | None = None
    val_fraction: float = 0.1
    seed: int = 0

    @property
    def source_key(self) -> tuple[str, str, str]:
        """What identifies the images (not how they are split): a failure to load is remembered by it."""
        return (self.source, self.folder, self.upload)


# ------------------------------------------------------------------------------------------ loading
@st.cache_resource(max_entries=4, show_spinner=False)
def _raw(source: str, folder: str, cache_dir: str) -> RawImages:
    """The stored images of a source, once per process (downloads are done before this is called)."""
    return data.read_source(folder if source == "folder" else source, cache_dir=cache_dir)


@st.cache_resource(show_spinner=False)
def _uploads() -> dict[str, RawImages]:
    """Uploaded datasets by the sha256 of their bytes (process-wide, at most ``_UPLOADS_KEPT``)."""
    return {}


@st.cache_resource(max_entries=4, show_spinner="Preparing the dataset...")
def _dataset(
    source: str, folder: str, upload: str, subset: int | None, val_fraction: float, seed: int, cache_dir: str
) -> Dataset:
    """The scaled and split Dataset for one choice, once per process."""
    if source == "upload":
        if upload not in _uploads():
            raise data.DataFormatError("the uploaded files are no longer on the server; please upload them again")
        raw = _uploads()[upload]
    else:
        raw = _raw(source, folder, cache_dir)
    return data.make_dataset(raw, val_fraction=val_fraction, seed=seed, subset=subset)


def load_choice(choice: DatasetChoice) -> Dataset:
    """The Dataset of ``choice`` from the process-wide cache (no download; see :func:`dataset_picker`)."""
    return _dataset(
        choice.source,
        choice.folder,
        choice.upload,
        choice.subset,
        choice.val_fraction,
        choice.seed,
        str(data.cache_root()),
    )


def _store_upload(files: dict[str, bytes]) -> str:
    """Parse uploaded files once, keep them process-wide, and return their sha256 (the cache key)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    key = digest.hexdigest()
    store = _uploads()
    if key not in store:
        raw = data.read_upload(files, name=f"Upload ({', '.join(sorted(files))})")
        store[key] = raw
        while len(store) > _UPLOADS_KEPT:
            store.pop(next(iter(store)))
    return key


def _download(source: str, box: DeltaGenerator) -> None:
    """Stream a missing download with a progress bar (bytes of total) and a Cancel button in ``box``."""
    name = data.REMOTE_SOURCES[source].name
    with box.container():
        bar = st.progress(0.0, text=f"Downloading {name}...")
        st.button("Cancel download", key="dataset_cancel", on_click=_cancel_download)
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = min(100, done * 100 // max(total, 1))
        if percent != shown[0]:  # one message per percent, not per 64 KiB chunk
            shown[0] = percent
            bar.progress(percent / 100, text=f"Downloading {name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        data.download_dataset(source, progress=progress)
    finally:
        box.empty()


def _cancel_download() -> None:
    """Cancel's callback, run before the rerun: go back to the dataset in use and say why."""
    st.session_state["dataset_source"] = st.session_state[CHOICE_KEY].source
    st.session_state[_NOTICE_KEY] = "Download cancelled; nothing partial was kept. Pick it again to retry."


def _retry() -> None:
    st.session_state.pop(_FAILED_KEY, None)


# ------------------------------------------------------------------------------------------ the picker
def _init_widgets(choice: DatasetChoice) -> None:
    """Seed the widgets from the choice in use (widget state is dropped on pages that do not draw them)."""
    for key, value in (
        ("dataset_source", choice.source),
        ("dataset_folder", choice.folder),
        ("dataset_subset", choice.subset or 0),
        ("dataset_val", choice.val_fraction),
    ):
        st.session_state.setdefault(persistent(key), value)


def _pending(loaded: DatasetChoice, box: DeltaGenerator) -> DatasetChoice | None:
    """Draw the controls and return the choice they describe (None while a folder or upload is awaited)."""
    with box:
        source = st.selectbox("Source", list(SOURCES), format_func=SOURCES.get, key="dataset_source", help=SOURCE_HELP)
        folder, upload = "", ""
        if source == "folder":
            folder = st.text_input(
                "Folder with the four IDX files",
                key="dataset_folder",
                placeholder="/usr/share/datasets/fashion-mnist",
                help="train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                "t10k-labels-idx1-ubyte (each may end in .gz). Press Enter to load.",
            ).strip()
        if source == "upload":
            files = st.file_uploader(
                "Four IDX files (gzipped or not) or one .npz with x_train, y_train, x_test, y_test",
                accept_multiple_files=True,
                key="dataset_upload",
            )
            if files:
                try:
                    upload = _store_upload({f.name: f.getvalue() for f in files})
                except ValueError as exc:
                    st.error(f"Could not read the upload: {exc}\n\nThe previous dataset stays in use.")
                    return None
        subset = st.selectbox(
            "Training images",
            SUBSETS,
            format_func=lambda n: f"the first {n:,}" if n else "all",
            key="dataset_subset",
            help="Use only the first N training images (before the validation split): a quick classroom race.",
        )
        val = st.slider("Validation fraction", 0.0, 0.5, step=0.05, key="dataset_val")
    if (source == "folder" and not folder) or (source == "upload" and not upload):
        if source != loaded.source:
            box.info("Enter a folder path and press Enter." if source == "folder" else "Upload the files to use them.")
        return None
    return DatasetChoice(source, folder, upload, subset or None, float(val), loaded.seed)


def dataset_picker(where: DeltaGenerator | None = None) -> Dataset:
    """Draw the dataset controls (in the sidebar, or in ``where``) and return the session's Dataset.

    Sources: the bundled 8x8 digits (default, offline), MNIST and Fashion-MNIST (downloaded once into the
    cache), a local folder of IDX files, or an upload. A choice that fails to load shows ``st.error`` with
    the way out and the previous dataset stays in use.
    """
    box = (where or st.sidebar).container(border=True)
    box.markdown("**Dataset**")
    loaded = st.session_state.setdefault(CHOICE_KEY, DatasetChoice())
    _init_widgets(loaded)
    if notice := st.session_state.pop(_NOTICE_KEY, None):
        box.warning(notice)
    pending = _pending(loaded, box)
    if pending is not None:
        failed = st.session_state.get(_FAILED_KEY)
        if failed and failed[0] != pending.source_key:  # another source picked: forget the old failure
            st.session_state.pop(_FAILED_KEY)
        elif failed:  # do not retry a failed source on every click elsewhere; split options still apply
            box.error(failed[1])
            box.button("Retry", key="dataset_retry", on_click=_retry)
            pending = replace(loaded, subset=pending.subset, val_fraction=pending.val_fraction)
        if pending != loaded:
            try:
                if pending.source in data.REMOTE_SOURCES and not data.is_downloaded(pending.source):
                    _download(pending.source, box.empty())
                load_choice(pending)
            except ValueError as exc:
                label = SOURCES[pending.source].split(" (")[0]
                message = f"Could not load {label}: {exc}\n\nThe previous dataset stays in use."
                st.session_state[_FAILED_KEY] = (pending.source_key, message)
                box.error(message)
                box.button("Retry", key="dataset_retry", on_click=_retry)
            else:
                st.session_state[CHOICE_KEY] = loaded = pending
    try:
        ds = load_choice(loaded)
    except ValueError as exc:  # the choice in use vanished (folder deleted, upload dropped): back to the default
        box.error(f"{exc} Back to the bundled digits.")
        st.session_state[CHOICE_KEY] = DatasetChoice()
        ds = load_choice(st.session_state[CHOICE_KEY])
    box.caption(
        f"In use: **{ds.name}**: {len(ds.y_train):,} train / {len(ds.y_val):,} validation / {len(ds.y_test):,} test "
        f"images of {ds.image_shape[0]}x{ds.image_shape[1]} pixels, {ds.n_classes} classes."
    )
    return ds


# ------------------------------------------------------------------------------------------ vital statistics
_STATS: weakref.WeakKeyDictionary[Dataset, tuple[np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def _strips(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The sample strip and the class-mean strip, computed once per Dataset object."""
    if ds not in _STATS:
        first = data.first_of_each_class(ds.y_train, ds.n_classes)
        samples = np.where((first >= 0)[:, None], ds.X_train[np.maximum(first, 0)], np.nan)
        _STATS[ds] = (
            data.image_strip(samples, ds.image_shape),
            data.image_strip(data.class_means(ds), ds.image_shape),
        )
    return _STATS[ds]


def class_counts_figure(ds: Dataset) -> go.Figure:
    """Grouped bars: images per class in the train, validation and test splits."""
    fig = go.Figure()
    for split, y, color in (
        ("train", ds.y_train, "#4f6fad"),
        ("validation", ds.y_val, "#f0a04b"),
        ("test", ds.y_test, "#2e7d32"),
    ):
        fig.add_bar(x=list(ds.class_names), y=data.class_counts(y, ds.n_classes), name=split, marker_color=color)
    fig.update_layout(
        title="Images per class",
        barmode="group",
        font=FONT,
        height=320,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        xaxis={"type": "category", "tickfont": FONT},
        yaxis={"tickfont": FONT},
    )
    return fig


def image_strip_figure(strip: np.ndarray, ds: Dataset, title: str) -> go.Figure:
    """One row of images (ink dark on white), each labelled with its class name below."""
    h, w = ds.image_shape
    fig = go.Figure(
        go.Heatmap(
            z=strip,
            colorscale="gray_r",
            zmin=0,
            zmax=1,
            showscale=False,
            hoverongaps=False,
            hovertemplate="pixel %{z:.2f}<extra></extra>",
        )
    )
    centres = [k * (w + 1) + (w - 1) / 2 for k in range(ds.n_classes)]
    fig.update_layout(
        title=title,
        font=FONT,
        height=180,
        margin={"t": 45, "b": 10, "l": 10, "r": 10},
        plot_bgcolor="white",
        xaxis={"tickvals": centres, "ticktext": list(ds.class_names), "tickfont": FONT, "showgrid": False},
        yaxis={"scaleanchor": "x", "constrain": "domain", "visible": False, "range": [h - 0.5, -0.5]},
    )
    return fig


def dataset_summary(ds: Dataset, key: str = "dataset") -> None:
    """Draw the dataset's vital statistics: counts per class, a sample of each class, the mean image per class."""
    sizes = st.columns(4)
    sizes[0].metric("Training images", f"{len(ds.y_train):,}")
    sizes[1].metric("Validation images", f"{len(ds.y_val):,}")
    sizes[2].metric("Test images", f"{len(ds.y_test):,}")
    sizes[3].metric("Pixels D / classes K", f"{ds.n_features} / {ds.n_classes}")
    samples, means = _strips(ds)
    st.plotly_chart(class_counts_figure(ds), key=f"{key}_counts", width="stretch")
    st.plotly_chart(
        image_strip_figure(samples, ds, "The first training image of each class"), key=f"{key}_samples", width="stretch"
    )
    st.plotly_chart(
        image_strip_figure(means, ds, "The mean training image of each class"), key=f"{key}_means", width="stretch"
    )
