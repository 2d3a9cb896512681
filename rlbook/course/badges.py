"""Launch badges and the Colab set-up lines, written from one setting.

The repository address lives in one place, ``[tool.rlbook]`` in
pyproject.toml::

    [tool.rlbook]
    repository = "https://github.com/OWNER/NAME"
    branch = "main"

``rlbook badges`` (``apply``) rewrites, in every source notebook of
solutions/, the first cell (Colab and Binder badges pointing at the student
version in notebooks/) and the launch block at the top of the first code cell
(on Colab: pip-install rlbook from that repository, then
``rlbook.colab.setup()``; everywhere: ``import rlbook`` and the quick doctor).
It then regenerates notebooks/ for the chapters it changed.
"""

import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

BADGE_CELL_ID = "launch-badges"
BLOCK_START = "# --- launch (written by `rlbook badges`; edit rlbook/course/badges.py) ---"
BLOCK_END = "# --- end of launch ---"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)/?$")


def read_config(root):
    """``(owner, name, branch)`` from ``[tool.rlbook]`` in pyproject.toml."""
    path = Path(root) / "pyproject.toml"
    if tomllib is None:
        raise RuntimeError("reading pyproject.toml needs Python 3.11 or newer")
    settings = tomllib.loads(path.read_text()).get("tool", {}).get("rlbook", {})
    repository = settings.get("repository")
    if not repository:
        raise ValueError(
            f"{path} has no [tool.rlbook] repository setting; add for example\n"
            '[tool.rlbook]\nrepository = "https://github.com/OWNER/NAME"\nbranch = "main"')
    match = _GITHUB.match(repository)
    if not match:
        raise ValueError(
            f"[tool.rlbook] repository must look like https://github.com/OWNER/NAME "
            f"(Colab and Binder open GitHub repositories), got {repository!r}")
    branch = settings.get("branch", "main")
    if not re.fullmatch(r"[\w./-]+", branch):
        raise ValueError(f"[tool.rlbook] branch {branch!r} is not a valid branch name")
    return match["owner"], match["name"], branch


def colab_url(config, student_path):
    owner, name, branch = config
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{student_path}"


def binder_url(config, student_path):
    # urlpath=lab/tree/... opens JupyterLab on the notebook itself.
    owner, name, branch = config
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{branch}?urlpath=lab/tree/{student_path}"


def pip_source(config):
    owner, name, branch = config
    return f"git+https://github.com/{owner}/{name}@{branch}"


def badge_markdown(config, student_path):
    return (f"[![Open In Colab]({COLAB_BADGE})]({colab_url(config, student_path)})\n"
            f"[![Binder]({BINDER_BADGE})]({binder_url(config, student_path)})")


def launch_block(config):
    """The lines every chapter's first code cell starts with.

    On Colab (or with RLBOOK_COLAB=1) rlbook is pip-installed without its
    dependencies (they would drag in pygame 2.1.3, which has no wheel for
    Colab's Python), then ``rlbook.colab.setup()`` installs the stack.
    RLBOOK_SOURCE overrides where rlbook comes from (tests use the checkout).
    """
    return f'''{BLOCK_START}
import os, sys
if "google.colab" in sys.modules or os.environ.get("RLBOOK_COLAB") == "1":
    import importlib.util, subprocess
    if importlib.util.find_spec("rlbook") is None:
        source = os.environ.get("RLBOOK_SOURCE", "{pip_source(config)}")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        source], check=True)
        importlib.invalidate_caches()
    import rlbook.colab
    rlbook.colab.setup()  # the stack, matched to Colab's TensorFlow; a no-op when done
try:
    import rlbook  # first: Keras 2 for TF-Agents, frames without a screen
except ImportError as exc:
    raise ImportError("rlbook is not installed in this kernel: run `make lab` in the "
                      "workbook's folder and open the notebook from there") from exc
rlbook.doctor.check(quick=True)  # one line, or what is wrong and how to fix it
{BLOCK_END}'''


def _student_path(notebook_path, root):
    relative = Path(notebook_path).resolve().relative_to(Path(root).resolve() / "solutions")
    return f"notebooks/{relative.as_posix()}"


def _with_block(code, block):
    """``code`` with its launch block replaced, or the block put in front."""
    start, end = code.find(BLOCK_START), code.find(BLOCK_END)
    if start != -1 and end != -1:
        return code[:start] + block + code[end + len(BLOCK_END):]
    if start != -1 or end != -1:
        raise ValueError("the launch block is cut in half: restore both marker lines")
    return block + "\n\n" + code.lstrip("\n")


def update_notebook(path, root, config):
    """Bring one source notebook's badges and launch block up to date.

    Returns True when the file changed.
    """
    import nbformat

    path = Path(path)
    before = path.read_text()
    notebook = nbformat.reads(before, as_version=4)
    cells = notebook.cells
    badges = badge_markdown(config, _student_path(path, root))
    if cells and cells[0].get("id") == BADGE_CELL_ID:
        cells[0].source = badges
    else:
        cells.insert(0, nbformat.v4.new_markdown_cell(badges, id=BADGE_CELL_ID))
    code_cells = [cell for cell in cells if cell.cell_type == "code"]
    if not code_cells:
        raise ValueError(f"{path} has no code cell to hold the set-up lines")
    first = code_cells[0]
    if first.get("metadata", {}).get("nbgrader", {}).get("grade"):
        raise ValueError(f"{path}: the first code cell is a graded cell; put a set-up cell first")
    first.source = _with_block(first.source, launch_block(config))
    after = nbformat.writes(notebook) + "\n"
    if after == before:
        return False
    path.write_text(after)
    return True


def stale(root):
    """Source notebooks whose badges or launch block differ from the setting."""
    import shutil
    import tempfile

    root = Path(root)
    config = read_config(root)
    out = []
    with tempfile.TemporaryDirectory() as scratch:
        for source in sorted(root.glob("solutions/*/*.ipynb")):
            copy = Path(scratch) / "solutions" / source.parent.name / source.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, copy)
            if update_notebook(copy, scratch, config):
                out.append(source)
    return out


def apply(root):
    """Rewrite badges and launch blocks; re-release the chapters that changed."""
    from rlbook.course import release

    root = Path(root)
    config = read_config(root)
    changed = [source for source in sorted(root.glob("solutions/*/*.ipynb"))
               if update_notebook(source, root, config)]
    if changed:
        release.release(root, only={source.parent.name for source in changed})
    return changed
