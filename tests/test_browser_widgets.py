"""Every widget, live in JupyterLab in chromium: it renders, reacts to a user, and is pictured.

A scratch notebook gets one cell per entry of WIDGETS. JupyterLab (`make
lab`) opens it, the cells run one by one, and for each widget the test waits
for its view, interacts as a person would (keyboard on a slider, mouse on a
button), checks that the text it shows changed as expected, and saves a
screenshot of the output to artifacts/widgets/<name>.png.

To cover another widget, add one WidgetCase to WIDGETS.
"""

import re
from dataclasses import dataclass
from typing import Callable

import nbformat
import pytest

from browser_support import (
    ARTIFACTS,
    chromium,
    needs_chromium,
    open_notebook,
    run_cell_and_wait,
    running_lab,
    wait_for_idle_kernel,
)

WIDGET_VIEW = ".jupyter-widgets.widget-container, .jupyter-widgets"


@dataclass
class WidgetCase:
    """One widget to try. interact(page, output) acts on the cell's output area;
    `before` must show right after the cell runs and `after` once interact is done."""
    name: str
    code: str
    interact: Callable
    before: str
    after: str
    timeout_s: float = 60
    view: str = WIDGET_VIEW  # what marks the output as drawn


def press_slider_until(output, readout_at_least, key="ArrowRight", max_presses=60):
    """Focus the first slider's handle and press `key` until its readout reaches a value."""
    handle = output.locator(".widget-slider .noUi-handle").first
    handle.click()
    readout = output.locator(".widget-slider .widget-readout").first
    for _ in range(max_presses):
        if float(readout.inner_text()) >= readout_at_least - 1e-9:
            return
        handle.press(key)
    raise AssertionError(f"the slider readout stayed at {readout.inner_text()} "
                         f"after {max_presses} presses of {key}")


def gamma_interaction(page, output):
    # From gamma 0.900 across the flip (about 0.948) to 0.950, 0.005 per key press.
    press_slider_until(output, 0.95)


def click_button(label, times):
    def interaction(page, output):
        button = output.locator(".jupyter-button", has_text=label).first
        for _ in range(times):
            button.click()
            page.wait_for_timeout(150)  # a person's pace; each click is one env.step
    return interaction


def rerun_and_watch_the_picture(page, output, polls=40):
    """Run the cell again and sample its picture while it runs: a live curve
    must be redrawn in place several times before the cell ends."""
    cell = output.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')]").first
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    seen = set()
    for _ in range(polls):
        images = output.locator("img")
        if images.count():
            seen.add(images.first.get_attribute("src")[-200:])
        page.wait_for_timeout(200)
    assert len(seen) >= 3, f"the live curve showed {len(seen)} distinct pictures while running"
    assert output.locator("img").count() == 1, "the curve should update in place, not stack up"


WIDGETS = [
    WidgetCase(
        name="gamma",
        code=("from rlbook.widgets.gamma import explore_gamma\n"
              "explore_gamma(gamma=0.90)"),
        interact=gamma_interaction,
        before="greedy policy: [s0: a0, s1: a0, s2: a1]",
        after="greedy policy: [s0: a0, s1: a2, s2: a1]"),
    WidgetCase(
        name="cartpole_play",
        code=("from rlbook.widgets.cartpole_play import play_cartpole\n"
              "play_cartpole('CartPole-v1', seed=42)"),
        interact=click_button("right ▶", 3),
        before="step 0 · return 0 ·",
        after="step 3 · return 3 ·"),
    WidgetCase(
        name="epsilon_explorer",
        code=("from rlbook.widgets.epsilon import epsilon_explorer\n"
              "epsilon_explorer()"),
        interact=click_button("exponential", 1),
        before="Expected fraction of random actions: 0.419",
        after="Expected fraction of random actions: 0.182"),
    WidgetCase(
        name="sweep_explorer",
        code=("from rlbook.widgets.sweeps import sweep_explorer\n"
              "sweep_explorer()"),
        interact=click_button("10,000", 1),
        before="Mean return of the last 50 episodes: 136.0",
        after="Mean return of the last 50 episodes: 195.9"),
    WidgetCase(
        name="live_curve",
        code=("import time\n"
              "from rlbook.live import LiveCurve\n"
              "with LiveCurve(title='a live learning curve', min_interval=0.5) as live:\n"
              "    for episode in range(16):\n"
              "        live.add(10 * episode + 5 * (episode % 3))\n"
              "        time.sleep(0.5)\n"
              "print('training done')"),
        interact=rerun_and_watch_the_picture,
        before="training done",
        after="training done",
        view="img"),
]


def widget_notebook(path, cases):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import rlbook")]
    notebook.cells += [nbformat.v4.new_code_cell(case.code) for case in cases]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, str(path))


def wait_for_text(output, text, timeout_s):
    output.page.wait_for_function(
        "([element, text]) => element.innerText.includes(text)",
        arg=[output.element_handle(), text], timeout=timeout_s * 1000)


@pytest.mark.slow
@needs_chromium
def test_every_widget_renders_and_reacts_in_jupyterlab(root, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    widget_notebook(served / "widgets.ipynb", WIDGETS)
    shots = ARTIFACTS / "widgets"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    with running_lab(root, served, tmp_path) as (base, token, log_path), \
            chromium(tmp_path / "chromium-profile", height=1200) as page:
        open_notebook(page, base, token, "widgets.ipynb")
        for index in range(len(WIDGETS) + 1):
            run_cell_and_wait(page, index)
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        for index, case in enumerate(WIDGETS, start=1):
            output = cells.nth(index).locator(".jp-OutputArea").first
            output.scroll_into_view_if_needed()
            try:
                output.locator(case.view).first.wait_for(timeout=case.timeout_s * 1000)
                text = output.inner_text()
                assert "Error displaying widget" not in text, text
                assert "Traceback" not in text, text
                wait_for_text(output, case.before, case.timeout_s)
                case.interact(page, output)
                wait_for_text(output, case.after, case.timeout_s)
                # Every update the interaction queued has reached the page.
                wait_for_idle_kernel(page)
            except Exception as exc:  # one broken widget must not hide the others
                problems.append(f"{case.name}: {type(exc).__name__}: {exc}\n"
                                f"output: {output.inner_text()[:1500]}")
            finally:
                page.wait_for_timeout(500)  # let the last images decode
                output.screenshot(path=str(shots / f"{case.name}.png"))
    assert not problems, "\n\n".join(problems) + "\n\nlab log:\n" + log_path.read_text()[-3000:]
    for case in WIDGETS:
        assert (shots / f"{case.name}.png").stat().st_size > 5_000, case.name


def test_every_case_has_a_unique_name_and_runnable_code():
    names = [case.name for case in WIDGETS]
    assert len(set(names)) == len(names)
    for case in WIDGETS:
        assert re.fullmatch(r"[a-z0-9_]+", case.name), case.name
        compile(case.code, case.name, "exec")
