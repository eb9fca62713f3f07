"""Backprop Lab's numerics: pure numpy, no Streamlit, no plotting, no I/O in the formulas."""

from core.backprop import backprop, gradient_check
from core.functions import cross_entropy, softmax, softmax_jacobian

__all__ = ["backprop", "cross_entropy", "gradient_check", "softmax", "softmax_jacobian"]
