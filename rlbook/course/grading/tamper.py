"""A static scan of the code a student wrote, for tampering with the tests.

Read before anything runs, on the trusted side, with Python's ``ast``. It
finds code that changes what the tests rely on, with the cell and line:

* rebinding a module the tests use (``np``, ``envs``...) or a name an
  instructor cell computed and a test reads (``basic_returns``);
* assigning to, or ``setattr`` on, attributes of those modules, of
  ``numpy``, ``math``, ``builtins``, ``sys``, ``threading`` or IPython's
  shell (``np.allclose = ...``, ``sys.excepthook = ...``);
* installing hooks: ``sys.settrace``/``setprofile``, IPython's custom
  exception handler, event callbacks, input and AST transformers, magics;
* reaching around the language: ``exec``/``eval``/``compile``,
  ``__import__``, ``ctypes``, ``gc`` referrers, frames, code objects,
  ``globals()[...]``, ``sys.modules``, and IPython's input history
  (``In``, ``_ih``, ...), which would hold the test cells.

The probe (probe.py) catches at run time what slips past a static reading.
"""

import ast
import importlib.util
import os
import re
from dataclasses import dataclass

from .restore import grade_id

MACHINERY = {"numpy", "numpy.testing", "math", "builtins", "sys", "threading", "IPython",
             "unittest", "pytest", "operator", "inspect", "nbgrader"}
HOOK_CALLS = {"sys.settrace", "sys.setprofile", "threading.settrace", "threading.setprofile",
              "sys.setrecursionlimit", "atexit.register", "signal.signal"}
SHELL_HOOKS = ("set_custom_exc", "register", "register_magic_function",
               "register_magics", "input_transformers_cleanup", "input_transformers_post",
               "input_transformer_manager", "ast_transformers", "events", "showtraceback",
               "run_cell", "excepthook", "user_ns", "kernel", "display_pub", "displayhook")
DYNAMIC = {"exec", "eval", "compile", "__import__", "globals", "vars", "setattr",
           "delattr", "breakpoint"}
REACH = {"ctypes", "gc.get_referrers", "gc.get_referents", "gc.get_objects",
         "sys._getframe", "inspect.currentframe", "inspect.stack", "inspect.getouterframes",
         "inspect.getsource", "linecache", "sys.modules", "importlib.import_module",
         "importlib.reload"}
REACH_ATTRS = {"f_back", "f_globals", "f_locals", "f_code", "__code__", "__globals__",
               "__builtins__", "__closure__", "history_manager", "tb_frame", "gi_frame"}
HISTORY = re.compile(r"^(In|Out|_ih|_oh|_dh|_i+|_i\d+|_\d+|_ii+)$")


@dataclass(frozen=True)
class Finding:
    what: str
    cell: str
    line: int

    def __str__(self):
        where = f"{self.cell}, line {self.line}" if self.line else self.cell
        return f"{self.what} ({where})"


def cell_label(cell, index):
    return grade_id(cell) or f"cell {index + 1}"


def python_source(cell_source):
    """The cell as Python, with IPython's magics and ! commands translated."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _parse(source):
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return None


def _dotted(node):
    """'a.b.c' for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "get_ipython":
        parts.append("<shell>")
    elif isinstance(node, ast.Name):
        parts.append(node.id)
    else:
        return None
    return ".".join(reversed(parts))


def _is_module(dotted):
    """Whether ``dotted`` names a module, found without importing anything heavy."""
    top, *rest = dotted.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    locations = list(spec.submodule_search_locations or [])
    for part in rest:
        found = [p for loc in locations for p in (os.path.join(loc, part),)
                 if os.path.isdir(p) or os.path.exists(p + ".py")]
        if not found:
            return False
        locations = [p for p in found if os.path.isdir(p)]
    return True


def module_aliases(cells):
    """{name: module} bound by the top-level import statements of these cells
    (an import under ``if`` may never run)."""
    aliases = {}
    for cell in cells:
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        for node in tree.body if tree else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    aliases[name] = alias.name if alias.asname else name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if _is_module(f"{node.module}.{alias.name}"):
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _top_level_bindings(tree):
    """(name, line) bound at module level by a cell (functions' locals excluded)."""
    found = []

    def targets(node, line):
        if isinstance(node, ast.Name):
            found.append((node.id, line))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for item in node.elts:
                targets(item, line)
        elif isinstance(node, ast.Starred):
            targets(node.value, line)

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in getattr(node, "targets", None) or [node.target]:
                    targets(target, node.lineno)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append((node.name, node.lineno))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    found.append(((alias.asname or alias.name).split(".")[0], node.lineno,
                                  node, alias))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target, node.lineno)
            elif isinstance(node, ast.Delete):
                for target in node.targets:
                    targets(target, node.lineno)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars, node.lineno)
            if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With,
                                 ast.AsyncWith, ast.Try)):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
        return found

    return visit(tree.body)


def _names_read(cells):
    """Names the test cells read that they do not bind themselves."""
    read, bound = set(), set()
    for cell in cells:
        tree = _parse(cell.source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
    return read - bound


class Context:
    """What the tests of one notebook rely on, from the instructor's version."""

    def __init__(self, source, released):
        tests = [c for c in source.cells if c.cell_type == "code"
                 and (c.metadata.get("nbgrader") or {}).get("grade")
                 and not (c.metadata.get("nbgrader") or {}).get("solution")]
        instructor = [c for c in released.cells if c.cell_type == "code"
                      and not (c.metadata.get("nbgrader") or {}).get("solution")]
        self.aliases = module_aliases(instructor)
        read = _names_read(tests)
        bound = {entry[0] for cell in instructor if (tree := _parse(cell.source))
                 for entry in _top_level_bindings(tree)}
        self.protected = (bound & read) | set(self.aliases)
        self.released_sources = {c.source for c in released.cells if c.cell_type == "code"}


# Cell metadata a notebook front end writes by itself (folding, timing).
FRONT_END_KEYS = {"nbgrader", "collapsed", "scrolled", "jupyter", "execution", "trusted",
                  "editable", "deletable", "vscode", "ExecuteTime", "id"}


def metadata_findings(submitted, released):
    """Test cells whose tags or other metadata the submission changed (they
    run with the instructor's anyway; see restore.py)."""
    tests = {grade_id(c): c for c in released.cells if grade_id(c)
             and (c.metadata.get("nbgrader") or {}).get("grade")
             and not (c.metadata.get("nbgrader") or {}).get("solution")}
    findings = []
    for index, cell in enumerate(submitted.cells):
        original = tests.get(grade_id(cell))
        if original is None:
            continue
        theirs = {k: v for k, v in cell.metadata.items() if k not in FRONT_END_KEYS}
        ours = {k: v for k, v in original.metadata.items() if k not in FRONT_END_KEYS}
        if theirs != ours:
            changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            detail = ", ".join(f"{k}={theirs.get(k)!r}" for k in changed)
            findings.append(Finding(f"changed the metadata of a test cell ({detail})",
                                    grade_id(cell), 0))
    return findings


def student_cells(nb, context):
    """(index, cell) of every code cell the student wrote or changed."""
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader") or {}
        if cell.cell_type != "code" or (meta.get("locked") and not meta.get("solution")):
            continue
        if meta.get("solution") or cell.source not in context.released_sources:
            yield index, cell


def scan(nb, context):
    """Findings in the student's cells of ``nb`` (the notebook about to run)."""
    findings = []
    for index, cell in student_cells(nb, context):
        tree = _parse(cell.source)
        if tree is not None:
            label = cell_label(cell, index)
            findings += [Finding(what, label, line) for what, line in _scan_cell(tree, context)]
    return sorted(set(findings), key=lambda f: (f.cell, f.line, f.what))


def _scan_cell(tree, context):
    aliases = dict(context.aliases)
    aliases.update(module_aliases([_Cell(ast.unparse(tree))]))
    for node in ast.walk(tree):
        # ip = get_ipython(): ip now stands for the shell.
        if isinstance(node, ast.Assign) and _dotted(node.value) == "<shell>":
            for target in node.targets:
                if isinstance(target, ast.Name):
                    aliases[target.id] = "IPython shell"
    for entry in _top_level_bindings(tree):
        name, line = entry[0], entry[1]
        if name not in context.protected:
            continue
        if len(entry) == 4 and _same_import(entry[2], entry[3], context.aliases.get(name)):
            continue
        yield f"rebinds `{name}`, which the tests use", line
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            for target in getattr(node, "targets", None) or [node.target]:
                for item in (target.elts if isinstance(target, (ast.Tuple, ast.List))
                             else [target]):
                    what = _machinery_target(item, aliases)
                    if what:
                        yield f"changes {what}", line
        elif isinstance(node, ast.Call):
            what = _suspicious_call(node, aliases)
            if what:
                yield what, line
        elif isinstance(node, ast.Attribute) and node.attr in REACH_ATTRS:
            yield f"reaches into interpreter internals (`.{node.attr}`)", line
        elif isinstance(node, ast.Name) and HISTORY.match(node.id) \
                and isinstance(node.ctx, ast.Load):
            yield f"reads IPython's input/output history (`{node.id}`)", line
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            yield "reaches into `__builtins__`", line


class _Cell:
    cell_type = "code"

    def __init__(self, source):
        self.source = source


def _same_import(node, alias, module):
    if module is None:
        return False
    if isinstance(node, ast.Import):
        return alias.name == module or (alias.asname is None and alias.name.split(".")[0] == module)
    return f"{node.module}.{alias.name}" == module


def _resolve(dotted, aliases):
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head == "<shell>":
        return "IPython shell" + ("." + rest if rest else "")
    if head in aliases:
        return aliases[head] + ("." + rest if rest else "")
    return None


def _machinery_target(node, aliases):
    if isinstance(node, ast.Subscript):
        resolved = _resolve(_dotted(node.value), aliases)
        if resolved and (resolved == "sys.modules" or resolved.startswith("IPython shell")):
            return resolved + "[...]"
        if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                and node.value.func.id in ("globals", "vars", "locals"):
            return f"names through {node.value.func.id}()"
        return None
    if not isinstance(node, ast.Attribute):
        return None
    resolved = _resolve(_dotted(node), aliases)
    if resolved is None:
        return None
    root = resolved.split(".")[0]
    if resolved.startswith("IPython shell") or root in MACHINERY or \
            any(resolved.startswith(m + ".") for m in set(aliases.values())):
        return resolved
    return None


def _suspicious_call(node, aliases):
    func = _dotted(node.func)
    resolved = _resolve(func, aliases) or func
    if resolved is None:
        return None
    if resolved in HOOK_CALLS:
        return f"installs a hook with {resolved}()"
    if resolved.startswith("IPython shell"):
        parts = resolved.split(".")
        if any(part in SHELL_HOOKS for part in parts[1:]):
            return f"changes IPython's machinery ({resolved}())"
    if isinstance(node.func, ast.Name) and node.func.id in DYNAMIC:
        if node.func.id in ("setattr", "delattr") and node.args:
            target = _resolve(_dotted(node.args[0]), aliases)
            if target is None:
                return None
            return f"changes {target} with {node.func.id}()"
        if node.func.id in ("globals", "vars"):
            return None     # reading them is harmless; writing is caught as a subscript
        return f"runs code built at run time ({node.func.id}())"
    if any(resolved == r or resolved.startswith(r + ".") for r in REACH):
        return f"reaches into interpreter internals ({resolved})"
    return None
