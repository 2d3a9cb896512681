"""Progress bars that draw as a widget in Jupyter and as text in a terminal."""

from tqdm.auto import tqdm


def progress(iterable=None, total=None, desc=None, unit="it", **kwargs):
    """``tqdm.auto`` with the workbook's defaults; use it on any long loop.

    >>> for episode in progress(range(600), desc="DQN"):
    ...     pass
    """
    kwargs.setdefault("mininterval", 0.5)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, unit=unit, **kwargs)
