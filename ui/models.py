"""The model the Weight Templates and Confusion Matrix pages look at: a racer of the running race, or an uploaded file.

The uploaded model lives in ``st.session_state[UPLOAD_KEY]`` and the choice in ``st.session_state[SOURCE_KEY]``
(kept across pages), so both pages show the same model. A bad upload shows ``st.error`` and changes nothing.
The download button offers the model shown as HDF5 (``core.persistence``) with its hyperparameters and its
performance measured by ``core.models``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.data import Dataset
from core.models import check_compatible, template_shape, trainer_model_data
from core.persistence import load_model, save_model
from ui.race import PACE_LABELS, PACES, step_race
from ui.race_state import Race, Racer, get_race
from ui.state import persistent
from ui.throttle import refresh_interval

UPLOAD_KEY = "model_upload"
"""``st.session_state[UPLOAD_KEY]``: the :class:`UploadedModel` (the last good upload), shared by both pages."""
UPLOAD_ERROR_KEY = "model_upload_error"
SOURCE_KEY = "model_source"
"""The model picker's choice: ``"racer:<index>"`` or ``"upload"``."""
FILE_KEY = "model_file"
UPLOAD = "upload"
PACE_KEY = "race_pace"
"""The Optimizer Race's pace slider (its label is kept in the session while the race page is away)."""
LIVE_REFRESH = 0.5
"""Seconds between two live redraws of a racer's model off the race page (a template grid is larger than a curve)."""
NO_MODEL = "Start a race on the **Optimizer Race** page, or upload a model file (.h5) beside this box, to see it here."


@dataclass(frozen=True)
class UploadedModel:
    """A model file read by ``core.persistence.load_model``: its file name and its model dictionary."""

    name: str
    model: dict


@dataclass(frozen=True)
class ShownModel:
    """The model a page shows. For a racer, W and b are the trainer's live arrays (they change as it trains)."""

    W: np.ndarray
    b: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, int]
    racer: Racer | None = None
    race: Race | None = None
    upload: UploadedModel | None = None

    @property
    def n_classes(self) -> int:
        """K, the rows of W."""
        return self.W.shape[0]

    @property
    def n_features(self) -> int:
        """D, the columns of W."""
        return self.W.shape[1]


def read_upload(name: str, source: object) -> str | None:
    """Load an uploaded model file into the session and pick it; on failure keep everything and return the error.

    Parameters
    ----------
    name : str
        The file's name, for the label and the message.
    source : bytes or readable binary file object
        The file (an ``UploadedFile`` is one).
    """
    try:
        model = load_model(source)
    except ValueError as exc:
        message = f"Could not read {name}: {exc}. The model shown before stays."
        st.session_state[UPLOAD_ERROR_KEY] = message
        return message
    st.session_state[UPLOAD_KEY] = UploadedModel(name, model)
    st.session_state[SOURCE_KEY] = UPLOAD
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    return None


def _on_upload() -> None:
    """The uploader's callback (runs before the rerun, so it may pick the new model in the selectbox)."""
    file = st.session_state.get(FILE_KEY)
    if file is None:  # the file was removed from the uploader: the loaded model stays, the error goes
        st.session_state.pop(UPLOAD_ERROR_KEY, None)
        return
    read_upload(file.name, file)


def _options(race: Race | None) -> list[str]:
    options = [f"racer:{i}" for i in range(len(race.racers))] if race else []
    if UPLOAD_KEY in st.session_state:
        options.append(UPLOAD)
    return options


def _labels(options: list[str], race: Race | None) -> dict[str, str]:
    """Stable labels (Streamlit sends the selected label back, so it must not change while training)."""
    return {
        option: f"Uploaded file: {st.session_state[UPLOAD_KEY].name}"
        if option == UPLOAD
        else f"Racer: {race.racers[int(option.split(':')[1])].name} (live)"
        for option in options
    }


def _shown(option: str, race: Race | None) -> ShownModel:
    if option == UPLOAD:
        upload = st.session_state[UPLOAD_KEY]
        m = upload.model
        names = tuple(m.get("class_names") or (str(k) for k in range(m["n_classes"])))
        shape = template_shape(m["n_features"], m.get("image_shape"))
        return ShownModel(m["W"], m["b"], names, shape, upload=upload)
    racer = race.racers[int(option.split(":")[1])]
    ds = race.dataset
    shape = template_shape(ds.n_features, ds.image_shape)
    W, b = racer.trainer.model.W, racer.trainer.model.b
    return ShownModel(W, b, tuple(ds.class_names), shape, racer=racer, race=race)


def model_picker() -> ShownModel | None:
    """Draw the model source (racer or upload, the uploader, its error) and return the model chosen, or None."""
    race = get_race()
    with st.container(border=True):
        pick, upload = st.columns([1, 1])
        with upload:
            st.file_uploader(
                "Upload a model file (.h5, the homework's layout)",
                type=["h5", "hdf5"],
                key=FILE_KEY,
                on_change=_on_upload,
            )
            if error := st.session_state.get(UPLOAD_ERROR_KEY):
                st.error(error)
        options = _options(race)
        with pick:
            if not options:
                st.info(NO_MODEL)
                return None
            if st.session_state.get(SOURCE_KEY) not in options:  # a new race, or none yet: the first option
                st.session_state[SOURCE_KEY] = options[0]
            choice = st.selectbox("Model", options, format_func=_labels(options, race).get, key=persistent(SOURCE_KEY))
    return _shown(choice, race)


def evaluation_dataset(shown: ShownModel, picked: Dataset) -> Dataset | None:
    """The images to look at the model with: a racer's own race dataset, else the dataset picked in the sidebar.

    An uploaded model that does not fit the picked dataset gets ``st.error`` naming both sizes (and None);
    the model stays loaded, so picking a matching dataset shows it.
    """
    ds = shown.race.dataset if shown.race is not None else picked
    try:
        check_compatible(shown.n_features, shown.n_classes, ds)
    except ValueError as exc:
        st.error(
            f"The model does not fit the dataset in use: {exc}. Pick a dataset with images of "
            f"{shown.n_features} pixels and {shown.n_classes} classes in the sidebar; the model stays loaded."
        )
        return None
    return ds


def model_file_bytes(shown: ShownModel) -> bytes:
    """The model shown as an HDF5 file: a racer's current weights with measured performance, or the upload as read.

    Raises ``ValueError`` for a racer whose weights are not finite (it diverged).
    """
    if shown.upload is not None:
        return save_model(shown.upload.model)
    return save_model(trainer_model_data(shown.racer.trainer, shown.race.dataset))


def file_name(shown: ShownModel) -> str:
    """A safe file name for the download: the racer's name or the uploaded file's name."""
    if shown.upload is not None:
        stem = re.sub(r"\.(h5|hdf5)$", "", shown.upload.name, flags=re.IGNORECASE)
    else:
        stem = f"model-{shown.racer.name}-{shown.racer.trainer.update}-updates"
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", stem).strip("_") + ".h5"


def download_button(shown: ShownModel, key: str) -> None:
    """Offer the model shown as HDF5 (built when clicked, no rerun); a diverged racer gets a note instead."""
    if not (np.isfinite(shown.W).all() and np.isfinite(shown.b).all()):
        st.warning("This racer diverged: its weights are not finite, so there is no model to download.")
        return
    st.download_button(
        "Download this model (.h5)",
        data=lambda: model_file_bytes(shown),
        file_name=file_name(shown),
        mime="application/x-hdf5",
        on_click="ignore",
        key=key,
        icon=":material/download:",
        help="HDF5 in the homework's layout: W, b, n_features, n_classes, hyperparameters, and the loss and "
        "accuracy measured on the training and test images (for a racer: its weights at the moment you click).",
    )


def model_facts(shown: ShownModel) -> None:
    """The model's hyperparameters, and for an upload the performance recorded in the file."""
    if shown.upload is not None:
        m = shown.upload.model
        hp, perf = m["hyperparameters"], m["performance"]
        trained = f" on {m['dataset']}" if "dataset" in m else ""
        st.caption(
            f"Trained{trained}: learning rate {hp['learning_rate']:g}, batch size {hp['batch_size']}, "
            f"{hp['n_iterations']:,} updates. Recorded in the file: test accuracy {perf['test_accuracy']:.2%}, "
            f"training accuracy {perf['train_accuracy']:.2%}."
        )
    else:
        t = shown.racer.trainer
        st.caption(
            f"Racer {shown.racer.name}: B = {t.batch_size}, eta0 = {t.eta0:g} ({t.schedule}), {t.update:,} updates "
            f"({t.samples / len(t.X):.2f} epochs) on {shown.race.dataset.name}."
        )


def live_refresh(shown: ShownModel) -> float | None:
    """``run_every`` for a fragment showing ``shown``: ``LIVE_REFRESH`` (longer in a crowd: ``ui.throttle``) while
    its race runs, else None (static)."""
    return refresh_interval(LIVE_REFRESH) if shown.race is not None and shown.race.running else None


def advance_race(shown: ShownModel) -> bool:
    """Move the running race on by one bounded chunk, at the pace set on the race page, with the race's own step.

    Returns True when the race has just ended (the caller reruns the page, which switches its timer off).
    """
    race = shown.race
    if race is None or not race.running:
        return False
    pace = PACE_LABELS.get(st.session_state.get(PACE_KEY, PACES[1.0]), 1.0)
    return step_race(race, pace, refresh=refresh_interval(LIVE_REFRESH))
