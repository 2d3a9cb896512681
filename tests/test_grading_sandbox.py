"""The sandbox on its own: real bubblewrap, real kernels, small notebooks.

Each test runs ``execute`` (the untrusted step) on a notebook of a few cells
and reads what the kernel saw and what came back. No TensorFlow, so each
takes seconds.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from rlbook.course.grading.sandbox import check
from rlbook.course.grading.sandbox.execute import execute
from rlbook.course.grading.sandbox.limits import Limits
from rlbook.course.grading.sandbox.watchdog import survivors

pytestmark = pytest.mark.skipif(check.problem() is not None,
                                reason=f"no sandbox here: {check.problem()}")


def run(*cells, files=None, **limits):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    result = execute(nbformat.writes(nb), files or {}, Limits(**{"cell_timeout": 20,
                                                                 "timeout": 60, **limits}))
    # As root, each sandbox runs as a uid of its own, by which leftovers are found.
    assert (result["sandbox_uid"] is not None) == (os.geteuid() == 0)
    return result, nbformat.reads(result["notebook"], 4)


def stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def facts(result_nb, index=0):
    return json.loads(stdout(result_nb.cells[index]).strip().splitlines()[-1])


def test_the_kernel_sees_its_scratch_and_the_environment_and_nothing_else(root):
    marker = tempfile.NamedTemporaryFile(prefix="rlbook-host-", dir="/tmp")
    listening = socket.create_server(("127.0.0.1", 0))   # a service on the grader's side
    port = listening.getsockname()[1]
    result, nb = run(
        "import json, os, sys, socket\n"
        "def reach(host, port):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2)\n"
        "        return 'open'\n"
        "    except OSError as exc:\n"
        "        return exc.strerror\n"
        f"net = [reach('127.0.0.1', {port}), reach('1.1.1.1', 443)]\n"
        "print(json.dumps({'uid': os.getuid(), 'cwd': os.getcwd(),\n"
        "    'files': sorted(os.listdir('.')), 'data': open('data/table.csv').read(),\n"
        f"    'checkout': sorted(os.listdir({str(root)!r})),\n"
        f"    'marker': os.path.exists({marker.name!r}),\n"
        "    'tmp': os.listdir('/tmp'), 'net': net, 'pid': os.getpid(),\n"
        "    'numpy': __import__('numpy').__name__}))\n",
        files={"data/table.csv": b"a,b\n1,2\n"})
    seen = facts(nb)
    assert result["failure"] is None
    assert seen["uid"] == 65534 and seen["cwd"] == "/home/student/work"
    assert seen["files"] == ["data"] and seen["data"] == "a,b\n1,2\n"
    # Of the checkout, only rlbook's package (and the venv, when it lives
    # there) are shown: no solutions/, no tests/, no grading folder.
    assert set(seen["checkout"]) <= {"rlbook", ".venv"} and "rlbook" in seen["checkout"]
    # /tmp is the sandbox's own; the one folder in it holds the kernel's sockets.
    assert seen["marker"] is False and len(seen["tmp"]) == 1
    assert seen["tmp"][0].startswith("rlbook-sandbox-")
    # Its loopback is its own; beyond it there is no route.
    assert seen["net"] == ["Connection refused", "Network is unreachable"]
    listening.close()
    assert seen["numpy"] == "numpy"
    assert seen["pid"] < 10, "the kernel has a PID namespace of its own"


def test_nothing_outside_the_scratch_folder_is_writable(root):
    targets = ["/usr/x", sys.prefix + "/x", str(root / "rlbook" / "x"), "/etc/x", "/x",
               "/run/rlbook/files/x"]
    _, nb = run("import json\nerrors = {}\n"
                f"for path in {targets!r}:\n"
                "    try:\n"
                "        open(path, 'w').write('x')\n"
                "        errors[path] = 'written'\n"
                "    except OSError as exc:\n"
                "        errors[path] = exc.strerror\n"
                "open('mine.txt', 'w').write('fine')\n"
                "print(json.dumps(errors))\n")
    errors = facts(nb)
    assert "written" not in errors.values(), errors
    assert not (root / "rlbook" / "x").exists()


def test_processes_file_size_and_disk_are_limited():
    result, nb = run(
        "import os, time\nn = 0\n"
        "try:\n"
        "    for _ in range(400):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError as exc:\n"
        "    print(n, exc.strerror)\n",
        "try:\n"
        "    open('big', 'wb').write(b'x' * 3 * 2**20)\n"
        "except OSError as exc:\n"
        "    print(exc.strerror)\n",
        "import os\n"
        "try:\n"
        "    for i in range(100):\n"
        "        open(f'/tmp/f{i}', 'wb').write(b'x' * 2**20)\n"
        "except OSError as exc:\n"
        "    print(i, exc.strerror)\n",
        processes=64, file_mb=2, disk_mb=16)
    assert survivors([result["sandbox_uid"]]) == []
    forked, why = stdout(nb.cells[0]).split(" ", 1)
    assert 0 < int(forked) < 64 and why.strip() == "Resource temporarily unavailable"
    assert stdout(nb.cells[1]).strip() == "File too large"
    written, why = stdout(nb.cells[2]).split(" ", 1)
    assert 10 <= int(written) <= 16 and why.strip() == "No space left on device"


def test_memory_past_the_limit_raises_memory_error():
    _, nb = run("block = bytearray(3 * 2**30)", "print('still alive')", memory_mb=2048)
    assert [o.ename for o in nb.cells[0].outputs if o.output_type == "error"] == ["MemoryError"]
    assert stdout(nb.cells[1]) == "still alive\n"


def test_a_cell_past_its_limit_is_interrupted_and_the_notebook_goes_on():
    result, nb = run("while True:\n    pass", "print('next')", cell_timeout=3)
    errors = [o.ename for o in nb.cells[0].outputs if o.output_type == "error"]
    assert errors == ["KeyboardInterrupt", "CellTimeoutError"]
    assert result["replies"][0] == "error"
    assert stdout(nb.cells[1]) == "next\n" and result["failure"] is None


def test_the_whole_notebook_deadline_kills_every_process_it_started():
    result, _ = run(
        "import os, signal, subprocess, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "while True:\n    time.sleep(0.1)\n",
        "print('never')",
        cell_timeout=3, timeout=12)
    assert result["failure"]["kind"] == "timeout"
    assert "whole-notebook limit of 12 s" in result["failure"]["message"]
    assert survivors([result["sandbox_uid"]]) == []
    # Nothing alive but multiprocessing's resource tracker, which an earlier
    # grading run in this process may have started (it lives as long as its
    # parent); zombies have ended already.
    left = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and \
                    "resource_tracker" not in " ".join(child.cmdline()):
                left.append(child)
        except psutil.NoSuchProcess:
            pass
    assert left == []


def test_no_descriptor_of_the_grader_reaches_the_kernel(tmp_path):
    secret = tmp_path / "gradebook.db"
    with open(secret, "w") as handle:
        os.set_inheritable(handle.fileno(), True)
        _, nb = run("import os, json\nlinks = []\n"
                    "for n in os.listdir('/proc/self/fd'):\n"
                    "    try:\n"
                    "        links.append(os.readlink(f'/proc/self/fd/{n}'))\n"
                    "    except OSError:\n"
                    "        pass\n"
                    "print(json.dumps(links))\n")
    links = facts(nb)
    assert not any("gradebook" in link for link in links), links


def test_the_kernel_cannot_clear_the_error_the_scorer_reads():
    # A hook clears every cell's output after it ran: the error must stay.
    result, nb = run("from IPython.display import clear_output\n"
                     "get_ipython().events.register('post_run_cell', "
                     "lambda result: clear_output())",
                     "raise ValueError('wrong answer')")
    assert result["replies"] == ["ok", "error"]
    assert [o.ename for o in nb.cells[1].outputs if o.output_type == "error"] == ["ValueError"]


def test_a_missing_bubblewrap_stops_grading_with_the_fix(root, tmp_path, venv_bin):
    env = {**os.environ, "PATH": str(venv_bin)}
    done = subprocess.run([venv_bin / "rlbook", "grade", "01_gym_and_policies", str(tmp_path),
                           "--out", str(tmp_path / "out")],
                          cwd=root, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert "bubblewrap (bwrap) is not installed" in done.stderr
    assert "apt-get install bubblewrap" in done.stderr and "--no-sandbox" in done.stderr
    assert not (tmp_path / "out").exists()



def test_without_user_namespaces_grading_stops_with_the_fix(root, tmp_path, venv_bin):
    # A host that turned user namespaces off: bubblewrap itself refuses, with
    # the words it uses there. (In a folder the sandbox's user can reach: as
    # root, the launcher runs bubblewrap as that user.)
    fake = Path(tempfile.mkdtemp(prefix="rlbook-fake-bwrap-")) / "bwrap"
    fake.parent.chmod(0o755)
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely "
                    "because the kernel does not allow non-privileged user namespaces.' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:{venv_bin}:/usr/bin:/bin"}
    try:
        done = subprocess.run([venv_bin / "rlbook", "grade", "01_gym_and_policies",
                               str(tmp_path), "--out", str(tmp_path / "out")],
                              cwd=root, capture_output=True, text=True, env=env)
    finally:
        fake.unlink()
        fake.parent.rmdir()
    assert done.returncode == 2, done.stderr
    assert "bubblewrap could not start a sandbox: bwrap: No permissions" in done.stderr
    assert "User namespaces are probably turned off" in done.stderr
    assert "sysctl -w user.max_user_namespaces" in done.stderr and "--no-sandbox" in done.stderr
    assert not (tmp_path / "out").exists()


as_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                             reason="needs root and unshare(1) to make mounts")


@as_root
def test_clean_up_never_deletes_through_a_bind_mount(tmp_path):
    # A folder of someone else's, bound (same file system, same st_dev) into
    # a tree the grader deletes, in a namespace of this test's own.
    victim, tree = tmp_path / "venv", tmp_path / "run"
    (victim / "pkg").mkdir(parents=True)
    (victim / "pkg" / "v3.json").write_text("{}")
    (tree / "mounted").mkdir(parents=True)
    (tree / "mine.txt").write_text("scratch")
    script = (
        "import shutil, subprocess, sys\n"
        "from rlbook.course.grading.sandbox.cleanup import RefusedRemoval, remove_tree\n"
        f"subprocess.run(['mount', '--bind', {str(victim)!r}, {str(tree / 'mounted')!r}],\n"
        "               check=True)\n"
        "try:\n"
        f"    remove_tree({str(tree)!r})\n"
        "    print('removed')\n"
        "except RefusedRemoval as exc:\n"
        "    print('refused:', exc)\n"
        f"shutil.rmtree({str(tree)!r}, ignore_errors=True)   # what the grader used to do\n")
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c",
                           script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"refused: {tree / 'mounted'} is a mount point"), done.stdout
    # shutil.rmtree, given the same tree, emptied the mounted folder itself.
    assert victim.is_dir() and list(victim.iterdir()) == []


@as_root
def test_staged_folders_are_read_only_and_never_seen_by_the_grader(tmp_path):
    from rlbook.course.grading.sandbox.kernel import LAUNCH

    private = tmp_path / "home"                # like /root: mode 0700
    (private / "python").mkdir(parents=True)
    (private / "python" / "lib.py").write_text("x = 1\n")
    private.chmod(0o700)
    stage = tmp_path / "stage"
    stage.mkdir(mode=0o755)
    marker = tmp_path / "connection.json"
    marker.write_text("")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "argv": ["/bin/sh", "-c", "sleep 60", "sh", "--ro-bind", str(private / "python"),
                 "/python", "{connection_file}"],
        "stage": str(stage), "hand_over": [], "sandboxed": True}))
    launcher = subprocess.Popen([sys.executable, "-I", "-S", LAUNCH, str(spec), str(marker)])
    try:
        # The launcher's own namespace: the folder is bound there, read-only.
        staged = f"/proc/{launcher.pid}/root{stage}/4"
        for _ in range(200):
            if os.path.exists(staged + "/lib.py"):
                break
            time.sleep(0.05)
        assert os.listdir(staged) == ["lib.py"]
        with pytest.raises(OSError, match="Read-only file system"):
            os.unlink(staged + "/lib.py")
        # The grader's namespace: an empty folder, nothing mounted.
        assert os.listdir(stage) == []
        assert psutil.Process(launcher.pid).uids().real >= 1_500_000_000
    finally:
        launcher.kill()
        launcher.wait()
    stage.rmdir()
    assert (private / "python" / "lib.py").read_text() == "x = 1\n"
