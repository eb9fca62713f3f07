"""The session's race: its racers and the dataset they train on, shared by the training pages.

The Optimizer Race creates and advances it; Weight Templates and Confusion Matrix read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from core.data import Dataset
    from core.training import Trainer

RACE_KEY = "race"


@dataclass
class Racer:
    """One competitor: a name for the legend, its settings, and the trainer that holds its model."""

    name: str
    trainer: Trainer
    settings: dict = field(default_factory=dict)  # batch_size, eta, schedule (+ its parameters), shuffle, seed


@dataclass
class Race:
    """The racers of this browser session and the dataset they all train on."""

    dataset: Dataset
    racers: list[Racer]
    running: bool = False
    seed: int = 0  # the common initial weights W ~ N(0, 0.01^2) (and every racer's shuffles) come from it
    patience: int | None = None  # early stopping on validation loss, in evaluations; None: off
    max_epochs: float = 20.0  # a racer stops once it has processed this many epochs of samples
    clock: float = 0.0  # epochs the pace allows so far (the race's synchronised clock)
    last_step: float | None = None  # time.monotonic() of the last live step; None after a pause


def get_race() -> Race | None:
    """The session's race, or None before the first Start."""
    return st.session_state.get(RACE_KEY)


def set_race(race: Race | None) -> None:
    """Replace (or, with None, clear) the session's race."""
    st.session_state[RACE_KEY] = race
