"""Parsing what users type: numbers in, clear messages out."""

import numpy as np
import pytest

from core.parsing import format_matrix, format_vector, parse_matrix, parse_vector


def test_vectors_accept_commas_spaces_and_brackets():
    np.testing.assert_array_equal(parse_vector("0.5, -0.3 0.2", "x"), [0.5, -0.3, 0.2])
    np.testing.assert_array_equal(parse_vector("[1e-3,2]", "x"), [1e-3, 2.0])


def test_matrices_accept_lines_or_semicolons():
    expected = [[0.1, 0.2], [0.3, 0.4]]
    np.testing.assert_array_equal(parse_matrix("0.1, 0.2\n0.3, 0.4\n", "W"), expected)
    np.testing.assert_array_equal(parse_matrix("[[0.1, 0.2]; [0.3, 0.4]]", "W"), expected)


def test_round_trip_through_the_formatters():
    M = np.array([[0.125, -3.0], [1e-5, 2.5]])
    np.testing.assert_array_equal(parse_matrix(format_matrix(M, 6), "W"), M)
    np.testing.assert_array_equal(parse_vector(format_vector(M[0], 6), "x"), M[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "x is empty"),
        ("1, abc, 3", "x: entry 2 is 'abc', which is not a number"),
        ("1, nan", "x: entry 2 is 'nan'; only finite numbers"),
        ("inf", "only finite numbers"),
        ("1e999", "only finite numbers"),
    ],
)
def test_bad_vectors_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_vector(text, "x")


def test_ragged_matrix_is_refused():
    with pytest.raises(ValueError, match=r"W: rows have different lengths \[2, 3\]"):
        parse_matrix("1, 2\n3, 4, 5", "W")
    with pytest.raises(ValueError, match=r"W, row 2: entry 1 is 'x'"):
        parse_matrix("1, 2\nx, 4", "W")
