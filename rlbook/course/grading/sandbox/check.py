"""Can this machine sandbox a kernel? If not, say why and how to fix it.

The check runs a real, empty sandbox through the same launcher the kernels
use, so whatever would stop a kernel (no bubblewrap, user namespaces turned
off, a security policy) shows up here, before any student is graded.
"""

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths
from .cleanup import remove_tree
from .kernel import LAUNCH

NO_SANDBOX = ("Or grade without isolation: --no-sandbox (student code then runs as "
              "you, with your files and the network in reach).")


class SandboxUnavailable(RuntimeError):
    pass


def problem():
    """None if a sandbox starts here; otherwise what is wrong and the fix."""
    if platform.system() != "Linux":
        return (f"sandboxed grading needs Linux (bubblewrap and user namespaces); this is "
                f"{platform.system()}. Grade on a Linux machine, VM or container "
                f"(Docker: --security-opt seccomp=unconfined --cap-add SYS_ADMIN). "
                + NO_SANDBOX)
    if shutil.which("bwrap") is None:
        return ("bubblewrap (bwrap) is not installed; each submission's kernel runs "
                "inside it. Install it: sudo apt-get install bubblewrap (Debian, Ubuntu), "
                "sudo dnf install bubblewrap (Fedora). " + NO_SANDBOX)
    failure = _try_empty_sandbox()
    if failure:
        return ("bubblewrap could not start a sandbox: " + failure + ". User namespaces are "
                "probably turned off: sudo sysctl -w user.max_user_namespaces=10000 "
                "(and kernel.unprivileged_userns_clone=1 on older Debian kernels; "
                "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04). "
                "In Docker, run the container with --security-opt seccomp=unconfined. "
                + NO_SANDBOX)
    return None


def require():
    found = problem()
    if found:
        raise SandboxUnavailable(found)


def _try_empty_sandbox():
    """Start the interpreter in a sandbox built like a kernel's, staging included."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--uid", "65534", "--gid", "65534"]
    for kind, source, dest in paths.system_binds():
        argv += ["--symlink", source, dest] if kind == "symlink" else ["--ro-bind", source, dest]
    for source, dest in paths.readonly_binds():
        argv += ["--ro-bind", source, dest]
    argv += ["--", sys.executable, "-I", "-S", "-c", "pass", "{connection_file}"]
    scratch = Path(tempfile.mkdtemp(prefix="rlbook-sandbox-check-"))
    stage = Path(tempfile.mkdtemp(prefix="rlbook-stage-"))
    try:
        scratch.chmod(0o711)
        stage.chmod(0o755)
        marker = scratch / "nothing"
        marker.write_text("")
        (scratch / "spec.json").write_text(json.dumps(
            {"argv": argv, "stage": str(stage), "hand_over": [], "sandboxed": True}))
        try:
            done = subprocess.run([sys.executable, "-I", "-S", LAUNCH,
                                   str(scratch / "spec.json"), str(marker)],
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "an empty sandbox did not finish within 60 s"
    finally:
        remove_tree(scratch)
        stage.rmdir()        # never recursive: the launcher mounted things on it
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return None
