"""`rlbook doctor` on this machine, and on conditions broken on purpose."""

import subprocess
import sys

from rlbook import doctor

import pytest


def by_name(findings):
    return {finding.name: finding for finding in findings}


def test_quick_check_passes_here_and_imports_no_tensorflow(venv_bin):
    # A fresh interpreter, as a notebook's first cell: the quick form must not
    # pay for TensorFlow.
    code = ("import sys, rlbook; f = rlbook.doctor.check(quick=True); "
            "print('TF', 'tensorflow' in sys.modules); "
            "sys.exit(any(x.status == 'FAIL' for x in f))")
    out = subprocess.run([str(venv_bin / "python"), "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "rlbook doctor (quick): ready" in out.stdout
    assert "TF False" in out.stdout


@pytest.mark.slow
def test_full_check_reports_every_topic(capsys):
    findings = by_name(doctor.check())
    assert set(findings) == {"python", "numpy", "packages", "legacy keras", "atari roms", "video",
                             "display", "memory", "dependencies", "gpu"}
    for name in ("python", "numpy", "packages", "legacy keras", "atari roms", "video", "display",
                 "dependencies"):
        assert findings[name].status == doctor.OK, findings[name]
    assert "mp4 encoded" in findings["video"].detail
    assert findings["gpu"].status in (doctor.OK, doctor.INFO)
    screen = capsys.readouterr().out
    assert screen.startswith("rlbook doctor")
    assert len(screen.splitlines()) <= 24, "one screen"


def test_a_version_mismatch_is_reported_with_its_fix(root, tmp_path, venv_bin):
    import numpy as np

    lock = tmp_path / "requirements.lock"
    text = (root / "requirements.lock").read_text()
    assert f"numpy=={np.__version__}\n" in text
    lock.write_text(text.replace(f"numpy=={np.__version__}\n", "numpy==2.0.1\n")
                    + "not-a-real-package-rlbook==1.0\n")
    (tmp_path / "requirements-nodeps.in").write_text("tf-agents==0.18.0\n")
    finding = doctor.check_packages(lock)
    assert finding.status == doctor.FAIL
    assert f"numpy {np.__version__} (lock: 2.0.1)" in finding.detail
    assert "not-a-real-package-rlbook missing (lock: 1.0)" in finding.detail
    assert "tf-agents 0.19.0 (lock: 0.18.0)" in finding.detail
    assert finding.fix == (f"{sys.executable} -m pip install -r {lock} && {sys.executable} "
                           f"-m pip install --no-deps -r {tmp_path / 'requirements-nodeps.in'}")

    # The command prints the problem with its fix and exits 1.
    out = subprocess.run([str(venv_bin / "rlbook"), "doctor", "--quick", "--lock", str(lock)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "FAIL  packages" in out.stdout
    assert f"fix: {sys.executable} -m pip install -r" in out.stdout


def test_lock_lines_for_another_python_are_skipped(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text('numpy==2.4.6\n'
                    'exceptiongroup==1.0 ; python_version == "3.9"\n'
                    f'six==1.17.0 ; python_version == '
                    f'"{sys.version_info[0]}.{sys.version_info[1]}"\n')
    assert doctor.read_lock(lock) == {"numpy": "2.4.6", "six": "1.17.0"}


def test_python_versions_outside_3_11_to_3_13_fail(monkeypatch):
    assert doctor.check_python().status == doctor.OK
    monkeypatch.setattr(sys, "version_info", (3, 10, 13, "final", 0))
    finding = doctor.check_python()
    assert finding.status == doctor.FAIL and "3.11, 3.12, 3.13" in finding.detail


def run_doctor_numpy(venv_bin, **env):
    import os

    code = ("import rlbook.doctor as d; f = d.check_numpy(quick=False); "
            "print('|'.join((f.status, f.detail, f.fix)))")
    out = subprocess.run([str(venv_bin / "python"), "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    return [part.strip() for part in out.stdout.strip().splitlines()[-1].split("|")]


@pytest.mark.slow
def test_numpy_and_the_corrections_are_reported(venv_bin):
    status, detail, _ = run_doctor_numpy(venv_bin)
    import numpy as np

    assert status == "ok" and f"numpy {np.__version__}" in detail
    assert "corrections applied: uint8 spec sampling" in detail


@pytest.mark.slow
def test_tf_agents_under_numpy_2_without_the_corrections_fails_with_the_fix(venv_bin):
    status, detail, fix = run_doctor_numpy(venv_bin, RLBOOK_COMPAT="0")
    assert status == "FAIL"
    assert "uint8 spec sampling" in detail and "RLBOOK_COMPAT=0" in detail
    assert "unset RLBOOK_COMPAT" in fix


def test_pip_check_problems_keep_real_conflicts(monkeypatch):
    class Result:
        stdout = ("tf-agents 0.19.0 has requirement pygame==2.1.3, but you have pygame 2.6.1.\n"
                  "tf-agents 0.19.0 has requirement gym<=0.23.0, but you have gym 0.26.2.\n"
                  "nbgrader 0.9.6 requires jupyterlab, which is not installed.\n")

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Result())
    assert doctor.pip_check_problems() == [
        "tf-agents 0.19.0 has requirement gym<=0.23.0, but you have gym 0.26.2.",
        "nbgrader 0.9.6 requires jupyterlab, which is not installed."]


def test_a_malformed_lock_says_which_line(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.4.6\nnumpy>=1.2\n")
    with pytest.raises(ValueError, match=r"requirements.lock:2: expected name==version"):
        doctor.read_lock(lock)


@pytest.mark.slow
def test_tensorflow_imported_before_rlbook_is_caught(venv_bin):
    # tf.keras is chosen on first use: touching it before rlbook locks in Keras 3.
    code = ("import tensorflow as tf; tf.keras.layers.Dense; "
            "import rlbook.doctor as d; f = d.check_legacy_keras(); "
            "print(f.status, '|', f.detail, '|', f.fix)")
    out = subprocess.run([str(venv_bin / "python"), "-c", code], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"})
    status, detail, fix = out.stdout.strip().splitlines()[-1].split(" | ")
    assert status == "FAIL" and "Keras 3" in detail, out.stdout + out.stderr
    assert "import rlbook" in fix


def test_replay_buffer_estimates_use_the_stored_shapes():
    estimates = {label: size for label, _, size in doctor.buffer_estimates()}
    paper = estimates["ch06 Atari, the paper's 1M stacked frames"]
    once = estimates["ch06 Atari, 1M frames stored once"]
    # 84 x 84 x 4 bytes per observation: the book's "about 28 GB".
    assert 28.2e9 <= paper <= 28.3e9
    assert 3.9 < paper / once < 4.0  # storing each frame once is about 4x smaller


def test_too_little_memory_gives_a_buffer_size_that_fits():
    finding = doctor.check_memory(available=3e9)
    suggested = int(finding.fix.split("at or below ")[1].split()[0].replace(",", ""))
    per_item = doctor.item_bytes(doctor._ATARI_TRAJECTORY)
    budget = 3e9 - 1.5e9
    assert suggested * per_item <= budget < (suggested + 1) * per_item
    # Only the big Atari buffers miss: that is information, not a failure.
    assert finding.status == doctor.INFO
    # With almost nothing free even CartPole's buffers miss: a real problem.
    assert doctor.check_memory(available=1.5e9).status == doctor.FAIL
    assert doctor.check_memory(available=64e9).status == doctor.OK


def test_display_is_not_needed(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    finding = doctor.check_display()
    assert finding.status == doctor.OK and "no DISPLAY" in finding.detail
