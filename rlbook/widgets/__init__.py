"""Interactive widgets for the chapters (ipywidgets), each with a static fallback.

Every widget is shown through ``rlbook.widgets.display.show``, which puts the
live widget and a PNG of its starting state in one output: JupyterLab with a
widget frontend draws the widget, while nbconvert, the gallery and a plain
notebook viewer fall back to the picture.
"""
