"""rlbook.checks: TypeError for a wrong type, ValueError for a wrong value, one message style."""

from rlbook.checks import check_choice, check_int, check_number

import numpy as np
import pytest


def test_integers_pass_through_as_ints():
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("seed", 0, 0) == 0
    assert check_int("period", None, none_ok=True) is None


@pytest.mark.parametrize("value, minimum, error, message", [
    (0, 1, ValueError, "n should be a positive integer, got: 0"),
    (-1, 0, ValueError, "n should be a non-negative integer, got: -1"),
    (1, 2, ValueError, "n should be an integer >= 2, got: 1"),
    (2.5, 1, TypeError, "n should be a positive integer, got: 2.5"),
    (True, 1, TypeError, "n should be a positive integer, got: True"),
    ("3", 1, TypeError, "n should be a positive integer, got: '3'"),
    (None, 1, TypeError, "n should be a positive integer, got: None"),
])
def test_bad_integers(value, minimum, error, message):
    with pytest.raises(error) as info:
        check_int("n", value, minimum)
    assert str(info.value) == message


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(value=1.5, low=0, high=1), ValueError, "gamma should be in [0, 1], got: 1.5"),
    (dict(value=0, low=0, high=1, low_open=True), ValueError, "gamma should be in (0, 1], got: 0"),
    (dict(value=0, low=0, low_open=True), ValueError, "gamma should be positive, got: 0"),
    (dict(value=-1, low=0), ValueError, "gamma should be >= 0, got: -1"),
    (dict(value=float("nan"), low=0), ValueError, "gamma should be >= 0, got: nan"),
    (dict(value="0.9", low=0, high=1), TypeError, "gamma should be in [0, 1], got: '0.9'"),
    (dict(value=None, low=0, none_ok=True), None, None),
])
def test_numbers(kwargs, error, message):
    if error is None:
        assert check_number("gamma", **kwargs) is None
        return
    with pytest.raises(error) as info:
        check_number("gamma", **kwargs)
    assert str(info.value) == message


def test_choices():
    assert check_choice("loss", "mse", ("mse", "huber")) == "mse"
    with pytest.raises(ValueError, match="loss should be one of 'mse', 'huber', got: 'l1'"):
        check_choice("loss", "l1", ("mse", "huber"))
