"""The guide's cost table: computation and memory per update, updates per epoch."""

import pytest

from core.costs import flops_per_update, update_costs


@pytest.mark.parametrize(
    ("B", "computation", "memory", "updates"),
    [
        (60_000, 470_400_000, 47_047_840, 1),  # batch GD
        (100, 784_000, 86_240, 600),  # mini-batch
        (1, 7_840, 8_624, 60_000),  # pure SGD
    ],
    ids=["B=N", "B=100", "B=1"],
)
def test_the_guides_table_for_mnist(B, computation, memory, updates):
    costs = update_costs(60_000, 784, 10, B)
    assert costs == {"computation_per_update": computation, "memory": memory, "updates_per_epoch": updates}


def test_updates_per_epoch_rounds_up():
    assert update_costs(1000, 64, 10, 300)["updates_per_epoch"] == 4  # 300 + 300 + 300 + 100
    assert update_costs(7200, 784, 10, 7200)["updates_per_epoch"] == 1


def test_flops_are_forward_and_gradient():
    assert flops_per_update(784, 10, 100) == 2 * 2 * 784_000  # two B K D products, 2 flops per multiply-add


@pytest.mark.parametrize(
    "args", [(0, 784, 10, 1), (100, 784, 10, 0), (100, 784, 10, 101), (100, 78.4, 10, 1), (100, 784, True, 1)]
)
def test_bad_sizes_raise(args):
    with pytest.raises(ValueError):
        update_costs(*args)
