"""What the browser tests share: `make lab` on a scratch folder, chromium, cell running."""

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from test_lab import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# Skipped on a laptop without chromium; never in CI, where `make test`
# installs it first.
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK) and not os.environ.get("CI"),
    reason=f"{CHROMIUM} missing: run `make browser` (apt-get install chromium)")


@contextlib.contextmanager
def running_lab(root, served, scratch):
    """`make lab` serving the folder `served`; yields (base_url, token, log_path).

    Its settings, runtime files and log go under `scratch`. The kernel runs in
    quick mode, with no DISPLAY.
    """
    settings = scratch / "settings"
    # Every cell in the page (no windowing), so cells can be found by position.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text('{"windowingMode": "none"}')
    # No "get Jupyter news?" pop-up over the screenshots (and no fetch).
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}')
    port, token = free_port(), "rlbook-browser-test"
    args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 "
            f"--IdentityProvider.token={token} "
            f"--LabApp.user_settings_dir={settings} --LabApp.workspaces_dir={settings}")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(scratch / "runtime"), RLBOOK_QUICK="1")
    env.pop("DISPLAY", None)
    log_path = scratch / "lab.log"
    server = subprocess.Popen(["make", "-s", "lab", f"LAB_ROOT={served}", f"LAB_ARGS={args}"],
                              cwd=root, env=env, stdout=log_path.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
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
        yield f"http://127.0.0.1:{port}", token, log_path
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@contextlib.contextmanager
def chromium(profile_dir, width=1400, height=1000):
    """A headless chromium page driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, \
            playwright.chromium.launch_persistent_context(
                str(profile_dir), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                headless=True, viewport={"width": width, "height": height}) as browser:
        yield browser.new_page()


# JavaScript run in the page: what the notebook shows.
CELL_STATE = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => ({
    code: c.classList.contains('jp-CodeCell'),
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || ''}))"""


def open_notebook(page, base, token, path):
    page.goto(f"{base}/lab/tree/{path}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    wait_for_idle_kernel(page)


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
