"""One output that is a live widget where a widget frontend runs, a picture elsewhere."""

import base64
import io

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def figure_png(figure, dpi=80):
    """The PNG bytes of a matplotlib figure; the figure is closed afterwards."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def bundle(widget, static=None, text=None):
    """The mime bundle ``show`` displays: the widget view plus optional fallbacks.

    static: a matplotlib figure (closed here) or PNG bytes, drawn where no
        widget frontend runs. JupyterLab ranks the widget view above
        image/png, so live sessions never see it.
    text: the plain-text fallback; default: the widget's repr.
    """
    if not hasattr(widget, "_repr_mimebundle_"):
        raise TypeError(f"expected an ipywidgets widget, got {type(widget).__name__}")
    data = dict(widget._repr_mimebundle_())
    if static is not None:
        png = static if isinstance(static, (bytes, bytearray)) else figure_png(static)
        data["image/png"] = base64.b64encode(png).decode("ascii")
    if text is not None:
        data["text/plain"] = text
    return data


def show(widget, static=None, text=None):
    """Display ``widget`` with a static picture for viewers without widgets."""
    from IPython.display import display

    display(bundle(widget, static, text), raw=True)
