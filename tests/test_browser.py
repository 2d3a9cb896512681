"""The workbook as a student meets it: JupyterLab in a real (headless) browser.

`make lab` serves a scratch copy of notebooks/ on loopback; Debian's chromium,
driven by Playwright, opens chapter 01, runs every cell, sees a plot, writes
the first exercise, sees a playable video, and presses nbgrader's Validate.
`make test` installs chromium when it is missing (the `browser` target);
Playwright never downloads a browser of its own.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from browser_support import (
    ARTIFACTS,
    CELL_STATE,
    chromium,
    needs_chromium,
    open_notebook,
    run_cell_and_wait,
    running_lab,
)

CHAPTER = "01_gym_and_policies"

pytestmark = [pytest.mark.slow, needs_chromium]


@pytest.fixture
def lab(root, tmp_path):
    """`make lab` on a scratch copy of notebooks/ (autosave and Validate write to it)."""
    served = tmp_path / "notebooks"
    shutil.copytree(root / "notebooks", served)
    with running_lab(root, served, tmp_path) as (base, token, log_path):
        yield base, token, served, log_path


def solution_source(root, grade_id):
    source = root / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"
    notebook = nbformat.read(str(source), as_version=4)
    return next(cell.source for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# JavaScript run in the page: does the first video play?
VIDEO_STATE = """async () => {
    const video = document.querySelector('.jp-OutputArea-output video');
    if (!video) return null;
    video.muted = true;
    await video.play();
    await new Promise(r => setTimeout(r, 1500));
    return {duration: video.duration, time: video.currentTime,
            error: video.error && video.error.code,
            width: video.videoWidth, height: video.videoHeight, state: video.readyState};
}"""


def test_chapter_01_runs_in_jupyterlab_in_chromium(root, lab):
    base, token, served, log_path = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium(Path(served).parent / "chromium-profile") as page:
        open_notebook(page, base, token, f"{CHAPTER}/{CHAPTER}.ipynb")

        # Run every cell in order, as Shift+Enter does; an exercise left blank
        # raises NotImplementedError and the next cell still runs.
        n_cells = len(page.evaluate(CELL_STATE))
        for index in range(n_cells):
            run_cell_and_wait(page, index)
        # (Shift+Enter on the last cell adds an empty one below it: not counted.)
        prompts = [cell["prompt"] for cell in page.evaluate(CELL_STATE)[:n_cells] if cell["code"]]
        assert all(re.search(r"\[\d+\]", prompt) for prompt in prompts), " ".join(prompts)
        setup_output = page.locator(".jp-Notebook .jp-CodeCell").first.inner_text()
        assert "rlbook doctor (quick): ready" in setup_output, setup_output[-2000:]

        page.screenshot(path=str(ARTIFACTS / "browser_run_all.png"), full_page=True)
        (ARTIFACTS / "browser_outputs.txt").write_text(
            page.locator(".jp-Notebook").inner_text())

        # The frame and the histogram drawn by matplotlib, as inline images.
        images = page.locator(".jp-OutputArea-output img[src^='data:image/png']")
        assert images.count() >= 1
        assert images.first.evaluate("img => img.naturalWidth") > 100
        # Blank exercises raise NotImplementedError, and cells using their
        # results a NameError; anything else is a real failure.
        errors = [text for text in page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg"
        ).all_inner_texts() if re.fullmatch(r"\w+(Error|Exception)", text)]
        assert "NotImplementedError" in errors
        assert set(errors) <= {"NotImplementedError", "NameError"}, errors

        # Validate the blank notebook: every graded test cell must fail.
        page.locator(".jp-Toolbar .validate-button").click()
        message = page.wait_for_selector("#validation-message", timeout=300_000)
        page.screenshot(path=str(ARTIFACTS / "browser_validate.png"))
        graded = [cell for cell in nbformat.read(
            str(root / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4).cells
            if cell.metadata.get("nbgrader", {}).get("grade")]
        assert "validation-failed" in message.get_attribute("class"), message.inner_text()
        assert message.inner_text().count("The following cell failed:") == len(graded)
        assert "NotImplementedError" in message.inner_text()
        page.locator(".jp-Dialog button", has_text="Ok").click()

        # Write the first exercise in the editor, run it, then the video cell.
        answer = solution_source(root, "basic_policy")
        # The editor whose source starts with the definition: tracebacks and
        # later cells mention basic_policy too.
        page.locator(".jp-Cell .cm-content",
                     has_text=re.compile(r"^def basic_policy")).first.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answer)
        page.keyboard.press("Escape")
        cells = page.locator(".jp-Notebook .jp-Cell")
        for index in range(n_cells):
            text = cells.nth(index).inner_text()
            if "def basic_policy" in text or "video.play(env, basic_policy" in text:
                run_cell_and_wait(page, index)
        video = page.locator(".jp-OutputArea-output video").first
        video.wait_for(timeout=60_000)
        video.scroll_into_view_if_needed()
        state = page.evaluate(VIDEO_STATE)
        page.screenshot(path=str(ARTIFACTS / "browser_notebook.png"))

    assert state is not None, "no <video> element in the outputs"
    assert state["error"] is None, f"the browser cannot decode the video: {state}"
    assert state["duration"] > 0 and state["width"] > 0 and state["time"] > 0, state
