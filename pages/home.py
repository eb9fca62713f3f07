"""Home: what Backprop Lab is and where to start."""

import streamlit as st

from ui.frame import ensure_framed

ensure_framed()

st.title("Backprop Lab")
st.markdown(
    """
Experiment with the mathematics of backpropagation and softmax regression on real handwritten digits,
in the guide's own notation: W^(l), b^(l), s^(l), a^(l), delta^(l) and the learning rate eta.

| page | what you do there |
|---|---|
| **Backprop Calculator** | edit a small network and watch every s, a, delta, dW and db, checked by finite differences |
| **Jacobian Explorer** | see softmax, its Jacobian and why the error term is simply a - y |
| **Optimizer Race** | race batch GD, mini-batch SGD and pure SGD live on real digits |
| **Optimisation Geometry** | decision regions, a real loss surface and BGD vs SGD paths, in 2-D |
| **Weight Templates** | look at the 10 learned weight vectors as images |
| **Confusion Matrix** | see which digits a trained model confuses, and the images behind each cell |

Start on the bundled real 8x8 digits (no download); pick MNIST, Fashion-MNIST or your own folder in the
sidebar of the training pages.
"""
)
