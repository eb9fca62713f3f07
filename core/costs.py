"""The guide's cost table for softmax regression trained with mini-batches of B samples.

For N samples of D features and K classes: computation per update ``B K D`` (the multiply-adds of the
scores ``W x`` for the batch), memory ``B D + K D`` (the batch and the weights, in numbers held), and
``ceil(N / B)`` updates per epoch. B = N is batch gradient descent, B = 1 pure SGD.
"""

from __future__ import annotations

import math


def _check_sizes(**sizes: int) -> dict[str, int]:
    checked = {}
    for name, value in sizes.items():
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive whole number; got {value!r}")
        checked[name] = int(value)
    return checked


def update_costs(N: int, D: int, K: int, B: int) -> dict[str, int]:
    """The guide's cost table: ``B K D`` computation, ``B D + K D`` memory, ``ceil(N / B)`` updates per epoch.

    Parameters
    ----------
    N, D, K : int
        Training samples, features and classes.
    B : int
        Batch size, 1 <= B <= N.

    Returns
    -------
    dict
        ``computation_per_update``, ``memory`` and ``updates_per_epoch``.
    """
    sizes = _check_sizes(N=N, D=D, K=K, B=B)
    N, D, K, B = sizes["N"], sizes["D"], sizes["K"], sizes["B"]
    if B > N:
        raise ValueError(f"batch size B = {B} is larger than the training set (N = {N})")
    return {
        "computation_per_update": B * K * D,
        "memory": B * D + K * D,
        "updates_per_epoch": math.ceil(N / B),
    }


def flops_per_update(D: int, K: int, B: int) -> int:
    """Floating-point operations of one update, ``4 B K D``: scores ``W x`` and gradient ``(a - y) x^T``.

    Each is ``B K D`` multiply-adds (2 flops each); the softmax and the weight update itself (O(B K + K D))
    are left out, as in the guide's table.
    """
    sizes = _check_sizes(D=D, K=K, B=B)
    return 4 * sizes["B"] * sizes["K"] * sizes["D"]
