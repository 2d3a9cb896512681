"""rlbook.widgets.display: one output carrying the widget view and its fallbacks."""

import base64

import ipywidgets
import matplotlib

matplotlib.use("Agg")
from rlbook.widgets.display import WIDGET_MIME, bundle  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


def test_bundle_holds_the_widget_view_and_a_png_of_the_figure():
    slider = ipywidgets.FloatSlider(value=0.9)
    figure, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    data = bundle(slider, figure, text="gamma slider")
    assert data[WIDGET_MIME]["model_id"] == slider.model_id
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["text/plain"] == "gamma slider"
    assert not plt.fignum_exists(figure.number), "the static figure should be closed"


def test_bundle_without_a_picture_keeps_the_widget_repr():
    button = ipywidgets.Button(description="left")
    data = bundle(button)
    assert "image/png" not in data and "Button" in data["text/plain"]


def test_bundle_refuses_what_is_not_a_widget():
    with pytest.raises(TypeError, match="ipywidgets widget"):
        bundle(object())
