"""The workbook as a student meets it: JupyterLab in a real (headless) browser.

`make lab` serves a scratch copy of notebooks/ on loopback; Debian's chromium,
driven by Playwright, opens chapter 01, runs every cell, sees a plot, writes
the first exercise, sees a playable video, and presses nbgrader's Validate.
`make test` installs chromium when it is missing (the `browser` target);
Playwright never downloads a browser of its own.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from test_lab import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CHAPTER = "01_gym_and_policies"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.slow,
    # Skipped on a laptop without chromium; never in CI, where `make test`
    # installs it first.
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK) and not os.environ.get("CI"),
                       reason=f"{CHROMIUM} missing: run `make browser` (apt-get install chromium)"),
]


@pytest.fixture
def lab(root, tmp_path):
    """`make lab` on a scratch copy of notebooks/ (autosave and Validate write to it)."""
    served = tmp_path / "notebooks"
    shutil.copytree(root / "notebooks", served)
    settings = tmp_path / "settings"
    # Every cell in the page (no windowing), so cells can be found by position.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    # No "get Jupyter news?" pop-up over the screenshots (and no fetch).
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')
    port, token = free_port(), "rlbook-browser-test"
    args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 "
            f"--IdentityProvider.token={token} "
            f"--LabApp.user_settings_dir={settings} --LabApp.workspaces_dir={settings}")
    # The kernel inherits this environment: quick mode keeps the run short.
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), RLBOOK_QUICK="1")
    env.pop("DISPLAY", None)
    log_path = tmp_path / "lab.log"
    server = subprocess.Popen(["make", "-s", "lab", f"LAB_ROOT={served}", f"LAB_ARGS={args}"], cwd=root, env=env,
                              stdout=log_path.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}",
                                       timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, log_path.read_text()
                time.sleep(1)
        yield f"http://127.0.0.1:{port}", token, served, log_path
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def solution_source(root, grade_id):
    source = root / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"
    notebook = nbformat.read(str(source), as_version=4)
    return next(cell.source for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# JavaScript run in the page: what the notebook shows.
CELL_STATE = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => ({
    code: c.classList.contains('jp-CodeCell'),
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || ''}))"""
VIDEO_STATE = """async () => {
    const video = document.querySelector('.jp-OutputArea-output video');
    if (!video) return null;
    video.muted = true;
    await video.play();
    await new Promise(r => setTimeout(r, 1500));
    return {duration: video.duration, time: video.currentTime, error: video.error && video.error.code,
            width: video.videoWidth, height: video.videoHeight, state: video.readyState};
}"""


def wait_for_idle_kernel(page, timeout_s=240):
    # The status bar reads "Python 3 (ipykernel) | Idle" once the kernel answers
    # ("Connecting" or "Busy" before).
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')"
        ".textContent)", timeout=timeout_s * 1000)


def run_cell_and_wait(page, index, timeout_s=240):
    """Select cell `index`, press Shift+Enter, wait until it shows a new number."""
    before = page.evaluate(CELL_STATE)[index]["prompt"]
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    page.wait_for_function(
        "i => document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
        ".classList.contains('jp-mod-active')", arg=index)
    page.keyboard.press("Escape")  # command mode, where Shift+Enter runs the cell
    page.keyboard.press("Shift+Enter")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        cell = page.evaluate(CELL_STATE)[index]
        if not cell["code"] or (cell["prompt"] != before and re.search(r"\[\d+\]", cell["prompt"])):
            wait_for_idle_kernel(page)
            return
        time.sleep(0.3)
    raise AssertionError(f"cell {index} did not finish within {timeout_s} s")


def test_chapter_01_runs_in_jupyterlab_in_chromium(root, lab):
    from playwright.sync_api import sync_playwright

    base, token, served, log_path = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright, \
            playwright.chromium.launch_persistent_context(
                str(Path(served).parent / "chromium-profile"), executable_path=CHROMIUM,
                args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1400, "height": 1000}) as browser:
        page = browser.new_page()
        page.goto(f"{base}/lab/tree/{CHAPTER}/{CHAPTER}.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        wait_for_idle_kernel(page)

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
        page.locator(".jp-Cell", has_text="def basic_policy").locator(".cm-content").click()
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
