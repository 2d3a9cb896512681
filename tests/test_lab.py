"""`make lab` serves JupyterLab on notebooks/ (the README's run command)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_the_workbook(root, venv_bin, tmp_path):
    port, token = free_port(), "rlbook-test-token"
    args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 "
            f"--IdentityProvider.token={token}")
    # The Python the suite's .venv was built from, whatever PYTHON the caller
    # exported: another one would make `make lab` rebuild the venv this very
    # suite runs in (and the 90 s deadline below would kill it halfway).
    venv = venv_bin.parent
    ready = (venv / ".ready").read_text().splitlines()[0].split()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), PYTHON=ready[2])
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(["make", "-s", "lab", f"VENV={venv}", f"LAB_ARGS={args}"],
                              cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline, listing = time.time() + 90, None
        while time.time() < deadline and server.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token={token}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    listing = json.load(response)
                break
            except OSError:
                time.sleep(1)
        assert listing is not None, (tmp_path / "lab.log").read_text()[-3000:]
        names = {item["name"] for item in listing["content"]}
        assert "01_gym_and_policies" in names
        assert "setting up" not in (tmp_path / "lab.log").read_text(), "make lab rebuilt .venv"
        url = f"http://127.0.0.1:{port}/lab?token={token}"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200 and b"JupyterLab" in response.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
