"""Argument checks with one message style, shared by the trainers and buffers.

A value of the wrong type raises TypeError, a value of the right type but out
of range raises ValueError. Both messages name the argument, say what it
should be and show what came, in Dopamine's style::

    n_episodes should be a positive integer, got: 0
"""

import numbers


def _or_none(text, none_ok):
    return f"{text} or None" if none_ok else text


def check_int(name, value, minimum=1, *, none_ok=False):
    """Return ``value`` as an int, refusing non-integers and values below ``minimum``.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed. ``True`` is refused: it is not a count.
        minimum: the smallest value allowed (1: a positive integer).
        none_ok: let ``None`` through (an optional setting).

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is below ``minimum``.
    """
    if value is None and none_ok:
        return None
    wanted = {1: "a positive integer", 0: "a non-negative integer"}.get(
        minimum, f"an integer >= {minimum}")
    message = f"{name} should be {_or_none(wanted, none_ok)}, got: {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(message)
    if value < minimum:
        raise ValueError(message)
    return int(value)


def check_number(name, value, low=None, high=None, *, low_open=False, none_ok=False):
    """Return ``value`` as a float inside ``[low, high]`` (``(low, high]`` with ``low_open``).

    Args:
        name: the argument's name, for the message.
        value: what the caller passed; NaN is always refused.
        low, high: the bounds, None for no bound.
        low_open: exclude ``low`` itself (``low=0, low_open=True``: positive).
        none_ok: let ``None`` through.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` lies outside the bounds.
    """
    if value is None and none_ok:
        return None
    if low is not None and high is not None:
        wanted = f"in {'(' if low_open else '['}{low}, {high}]"
    elif low is not None:
        wanted = "positive" if (low == 0 and low_open) else f"{'>' if low_open else '>='} {low}"
    elif high is not None:
        wanted = f"<= {high}"
    else:
        wanted = "a number"
    message = f"{name} should be {_or_none(wanted, none_ok)}, got: {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if value != value or too_low or too_high:  # value != value: NaN
        raise ValueError(message)
    return value


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``, else raise ValueError listing them."""
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} should be one of {listed}, got: {value!r}")
    return value
