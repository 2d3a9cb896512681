"""`rlbook doctor` on this machine, and on conditions broken on purpose."""

import subprocess
import sys

import pytest

from rlbook import doctor


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
    assert set(findings) == {"python", "packages", "legacy keras", "atari roms", "video",
                             "display", "memory", "gpu"}
    for name in ("python", "packages", "legacy keras", "atari roms", "video", "display"):
        assert findings[name].status == doctor.OK, findings[name]
    assert "mp4 encoded" in findings["video"].detail
    assert findings["gpu"].status in (doctor.OK, doctor.INFO)
    screen = capsys.readouterr().out
    assert screen.startswith("rlbook doctor")
    assert len(screen.splitlines()) <= 24, "one screen"


def test_a_version_mismatch_is_reported_with_its_fix(root, tmp_path, venv_bin):
    lock = tmp_path / "requirements.lock"
    text = (root / "requirements.lock").read_text()
    assert "numpy==1.26.4\n" in text
    lock.write_text(text.replace("numpy==1.26.4\n", "numpy==1.26.3\n")
                    + "not-a-real-package-rlbook==1.0\n")
    finding = doctor.check_packages(lock)
    assert finding.status == doctor.FAIL
    assert "numpy 1.26.4 (lock: 1.26.3)" in finding.detail
    assert "not-a-real-package-rlbook missing (lock: 1.0)" in finding.detail
    assert finding.fix == f"{sys.executable} -m pip install -r {lock}"

    # The command prints the problem with its fix and exits 1.
    out = subprocess.run([str(venv_bin / "rlbook"), "doctor", "--quick", "--lock", str(lock)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "FAIL  packages" in out.stdout and f"fix: {sys.executable} -m pip install -r" in out.stdout


def test_a_malformed_lock_says_which_line(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==1.26.4\nnumpy>=1.2\n")
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
