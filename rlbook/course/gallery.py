"""`rlbook gallery`: every chapter executed and exported to HTML, to look at before running.

solutions/NN/NN.ipynb -> a scratch copy of its folder -> nbclient, cell by
cell, under RLBOOK_QUICK=1 (quick) or 0 (full) -> the student view (nbgrader's
ClearSolutions and ClearHiddenTests, so answers are blank as in notebooks/ but
the reference run's outputs stay) -> nbconvert's HTMLExporter (lab template,
images and videos embedded) -> <out>/NN.html, plus <out>/index.html.

A chapter that fails still gets its page, with the outputs up to the failing
cell and the error; the other chapters go on.
"""

import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from rlbook.config import QUICK_ENV_VAR
from rlbook.course.workbook import CONFIG_FILE, SOURCE_DIR, assignments, find_root

import nbformat

MODES = {"quick": "1", "full": "0"}
QUICK_CELL_TIMEOUT = 600   # seconds; a quick-mode cell that runs longer is stuck
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What a browser can draw without a kernel or a widget manager.
STATIC_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "text/html")
INDEX_DATA = "gallery.json"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class ChapterResult:
    chapter: str            # the folder name, e.g. 01_gym_and_policies
    title: str
    mode: str
    seconds: float
    page: str               # file name of the HTML page inside the gallery folder
    when: str               # ISO time the run started (UTC)
    error: str = ""         # "" when every cell ran
    failed_cell: int = 0    # 1-based index of the cell that stopped the run (0: none)
    failed_label: str = ""  # that cell's grade id or first line
    failed_cell_id: str = ""  # its nbformat id: the page's anchor is #cell-id=<id>

    @property
    def ok(self):
        return not self.error


# ---------------------------------------------------------------- choosing chapters

def chapter_sources(root):
    """{assignment: its source notebook} for every chapter in solutions/."""
    root = Path(root)
    return {name: sorted((root / SOURCE_DIR / name).glob("*.ipynb"))[0]
            for name in assignments(root)}


def select(root, ids=None):
    """Source notebooks for chapter ids such as ``01``, ``1`` or ``01_gym_and_policies``.

    No ids means every chapter. An unknown id raises ValueError listing the valid ones.
    """
    sources = chapter_sources(root)
    if not ids:
        return list(sources.values())
    picked = []
    for raw in ids:
        wanted = str(raw).strip().rstrip("/")
        number = wanted.zfill(2) if wanted.isdigit() else None
        match = [name for name in sources
                 if name == wanted or (number and name.split("_", 1)[0] == number)]
        if not match:
            valid = ", ".join(f"{name.split('_', 1)[0]} ({name})" for name in sources)
            raise ValueError(f"unknown chapter {raw!r}; valid chapters: {valid}")
        if sources[match[0]] not in picked:
            picked.append(sources[match[0]])
    return picked


def check_out(out):
    """Refuse an output path that exists but is not a folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder: pass another --out "
                         "or move the file away")
    return out


def check_timeout(timeout):
    if timeout is not None and timeout < 0:
        raise ValueError(f"--timeout must be a number of seconds >= 0 (0: no limit), "
                         f"got {timeout:g}")
    return timeout


# ---------------------------------------------------------------- executing

@contextmanager
def _environment(**values):
    # The kernel inherits this process's environment when it starts.
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _error_output(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


def execute(notebook, workdir, mode="quick", timeout=None, label="", log=None):
    """Run ``notebook`` in place, cell by cell, with ``workdir`` as the kernel's cwd.

    The kernel process's own stdout and stderr (TensorFlow's start-up lines, a
    crash message) go to the open file ``log``. Returns ``(failed_index,
    error)``: the 0-based index of the cell that stopped the run and its
    one-line error, or ``(None, "")``.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if timeout is None:
        timeout = QUICK_CELL_TIMEOUT if mode == "quick" else None
    client = NotebookClient(notebook, timeout=timeout or None, allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    bar = _bar(len(notebook.cells), label)
    index = None
    try:
        with (_environment(**{QUICK_ENV_VAR: MODES[mode]}),
              client.setup_kernel(stdout=log, stderr=log)):
            reply = client.wait_for_reply(client.kc.kernel_info())
            if reply:  # lets the exporter highlight the code as Python
                notebook.metadata["language_info"] = reply["content"]["language_info"]
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index,
                                    execution_count=client.code_cells_executed + 1)
                bar.update(1)
            client.set_widgets_metadata()
    except CellExecutionError as exc:
        return index, f"{exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        error = f"the cell ran longer than {timeout} s (raise --timeout)"
        notebook.cells[index].outputs.append(_error_output("CellTimeoutError", error))
        return index, f"CellTimeoutError: {error}"
    except DeadKernelError as exc:
        error = f"the kernel died ({exc}); out of memory?"
        if index is not None:
            notebook.cells[index].outputs.append(_error_output("DeadKernelError", error))
        return index, f"DeadKernelError: {error}"
    except Exception as exc:  # the kernel did not start, or nbclient broke
        return index, f"{type(exc).__name__}: {exc}"
    finally:
        bar.close()
    return None, ""


def _bar(total, label):
    from tqdm import tqdm

    # Drawn only on a terminal (disable=None); logs and tests get the plain lines.
    return tqdm(total=total, desc=f"  {label}", unit="cell", leave=False,
                disable=None, file=sys.stderr, dynamic_ncols=True)


# ---------------------------------------------------------------- the student view

def _nbgrader_config(root):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def _marked_lines(source, begin, end):
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == end:
            inside = False
        if inside and len(line.strip()) >= 4 and not line.strip().startswith("#"):
            lines.append(line.strip())
        if line.strip() == begin:
            inside = True
    return lines


def _secret_lines(notebook):
    """Answer and hidden-test lines of the instructor source, to keep out of tracebacks."""
    secret = []
    for cell in notebook.cells:
        secret += _marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
        secret += _marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    return secret


def _shorten_revealing_tracebacks(notebook, secret):
    # A traceback quotes the lines around the failure, which may be an answer.
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
            if any(line in text for line in secret):
                output.traceback = [f"{output.ename}: {output.evalue}",
                                    "(traceback not shown: it quotes exercise answers "
                                    "or hidden tests)"]


def _static_widgets(notebook):
    """Let the page draw a widget's static fallback instead of an empty placeholder."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME not in data:
                continue
            del data[WIDGET_MIME]
            if not any(mime in data for mime in STATIC_MIMES):
                data["text/html"] = ("<p><em>An interactive widget: run the notebook "
                                     "to use it.</em></p>")
    # Without views to draw, the page need not load a widget manager from a CDN.
    notebook.metadata.pop("widgets", None)


def student_view(notebook, root):
    """The executed notebook as a student would see it: blank answers, no hidden tests."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    secret = _secret_lines(notebook)
    config = _nbgrader_config(root)
    resources = {}
    for preprocessor in (ClearSolutions, ClearHiddenTests):
        notebook, resources = preprocessor(config=config).preprocess(notebook, resources)
    _shorten_revealing_tracebacks(notebook, secret)
    _static_widgets(notebook)
    return notebook


# ---------------------------------------------------------------- pages

def chapter_title(notebook, fallback):
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _cell_label(cell):
    """``In [7] test_run_episodes``: the prompt a reader sees, and the grade id or first line."""
    name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if not name:
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        name = first[:60] + ("..." if len(first) > 60 else "")
    count = cell.get("execution_count")
    return f"In [{count}] {name}" if count else name


def _code_span(text):
    return "`` " + text.replace("`", "'") + " ``"


def _banner(result):
    run = (f"Executed by `rlbook gallery` in **{result.mode}** mode "
           f"({QUICK_ENV_VAR}={MODES[result.mode]}) on {result.when[:16].replace('T', ' ')} UTC "
           f"in {result.seconds:.0f} s.")
    if result.ok:
        status = "Every cell ran."
    else:
        status = (f"**The run stopped at cell {result.failed_cell}** "
                  f"({_code_span(result.failed_label)}): {_code_span(result.error)}. "
                  "The cells after it did not run.")
    return nbformat.v4.new_markdown_cell(
        f"> {run} {status} Exercise answers are blank, as in the student version; "
        "the outputs come from the reference solutions. [All chapters](index.html)")


def export(notebook, title, workdir):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": title, "path": str(workdir)}})
    return body


def run_chapter(source, out, mode="quick", timeout=None, root=None):
    """Execute one source notebook and write its page; returns a ChapterResult."""
    root = find_root(root)
    source = Path(source)
    chapter = source.parent.name
    notebook = nbformat.read(str(source), as_version=4)
    title = chapter_title(notebook, chapter)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix=f"rlbook-gallery-{chapter}-") as scratch:
        workdir = Path(scratch) / chapter
        shutil.copytree(source.parent, workdir)
        start = time.perf_counter()
        log_path = Path(out) / "logs" / f"{chapter}.log"
        log_path.parent.mkdir(exist_ok=True)
        with open(log_path, "w") as log:
            failed, error = execute(notebook, workdir, mode=mode, timeout=timeout,
                                    label=chapter, log=log)
        seconds = time.perf_counter() - start
        notebook = student_view(notebook, root)
        result = ChapterResult(chapter=chapter, title=title, mode=mode, seconds=seconds,
                               page=f"{chapter}.html", when=when, error=error)
        if error:
            result.failed_cell = failed + 1 if failed is not None else 0
            if failed is not None:
                result.failed_label = _cell_label(notebook.cells[failed])
                result.failed_cell_id = notebook.cells[failed].get("id", "")
        notebook.cells.insert(0, _banner(result))
        page = Path(out) / result.page
        page.write_text(export(notebook, title, workdir), encoding="utf-8")
    return result


def build(sources, out, mode="quick", timeout=None, root=None, echo=print):
    """Run every notebook in ``sources`` (in order), write its page and the index.

    Takes explicit notebook paths, so any notebook can be put through it.
    Returns the ChapterResults; a failing chapter does not stop the others.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    out = check_out(out)
    check_timeout(timeout)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for number, source in enumerate(sources, start=1):
        chapter = Path(source).parent.name
        prefix = f"[{number}/{len(sources)}] {chapter}"
        echo(f"{prefix}: running ({mode} mode)", flush=True)
        result = run_chapter(source, out, mode=mode, timeout=timeout, root=root)
        size = (out / result.page).stat().st_size / 1e6
        status = "ok" if result.ok else f"FAILED at cell {result.failed_cell}: {result.error}"
        echo(f"{prefix}: {status} in {result.seconds:.1f} s -> {out / result.page} "
             f"({size:.1f} MB)", flush=True)
        if not result.ok:
            echo(f"{prefix}: the kernel's own output is in {out / 'logs' / (chapter + '.log')}",
                 flush=True)
        results.append(result)
    write_index(out, results)
    return results


# ---------------------------------------------------------------- the index

def _load_previous(out):
    path = Path(out) / INDEX_DATA
    try:
        entries = json.loads(path.read_text())
        return [ChapterResult(**entry) for entry in entries]
    except (OSError, ValueError, TypeError):
        return []


def write_index(out, results):
    """index.html over this run's chapters plus earlier runs' pages still in ``out``."""
    out = Path(out)
    fresh = {r.chapter for r in results}
    kept = [r for r in _load_previous(out)
            if r.chapter not in fresh and (out / r.page).is_file()]
    entries = sorted(kept + list(results), key=lambda r: r.chapter)
    (out / INDEX_DATA).write_text(json.dumps([asdict(r) for r in entries], indent=1))
    rows = []
    for r in entries:
        if r.ok:
            status = '<td class="ok">ok</td>'
        else:
            where = (f"cell {r.failed_cell} ({r.failed_label})" if r.failed_cell
                     else "kernel start-up")
            anchor = f"{r.page}#cell-id={r.failed_cell_id}" if r.failed_cell_id else r.page
            status = (f'<td class="failed">failed at <a href="{html.escape(anchor)}">'
                      f'{html.escape(where)}</a>: '
                      f"<code>{html.escape(r.error)}</code></td>")
        rows.append(f'<tr><td><a href="{html.escape(r.page)}">{html.escape(r.title)}</a>'
                    f"<br><small>{html.escape(r.chapter)}</small></td><td>{r.mode}</td>"
                    f"<td>{r.seconds:.0f} s</td>{status}"
                    f"<td>{r.when[:16].replace('T', ' ')} UTC</td></tr>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rlbook gallery</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
        padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }}
.ok {{ color: #1a7f37; font-weight: bold; }} .failed {{ color: #b42318; }}
</style></head><body>
<h1>rlbook gallery</h1>
<p>Every chapter executed from its source in <code>solutions/</code>, with the exercise
answers blanked as in the student version. Look before you run; rebuild with
<code>rlbook gallery</code>.</p>
<table><tr><th>chapter</th><th>mode</th><th>wall time</th><th>status</th><th>run</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"


def report(results, out, echo=print):
    """Print the closing summary; returns the exit code (1 if any chapter failed)."""
    total = sum(r.seconds for r in results)
    failed = [r.chapter for r in results if not r.ok]
    echo(f"gallery: {len(results) - len(failed)} of {len(results)} chapters ok "
         f"in {total:.0f} s; open {Path(out) / 'index.html'}")
    if failed:
        echo(f"gallery: failed chapters: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
