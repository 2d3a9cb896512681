"""A run-time check that the machinery the tests rely on was left alone.

The trusted side asks the kernel for a fingerprint of that machinery twice:
before the first cell of the submission (nothing of the student's has run,
so the answer is trustworthy) and after the last. Between the two, anything
rebound shows up as a changed identity. The "after" part comes with a
per-run secret and a canary:

1. a cell that must fail with ``AssertionError(<secret>)``: if exceptions
   are being swallowed (IPython's custom exception hooks, a patched
   ``showtraceback``), it does not, and that alone flags the submission;
2. the fingerprint again, with behaviour checks on values drawn for this run
   (``numpy.allclose(x, x + 1)`` must be False, ...), printed on one line
   that starts with the secret.

A missing, malformed or mis-signed answer is itself a flag, so neutralising
the probe (killing output, patching print, crashing it) is detected too.
What the fingerprint covers, and what it cannot, is in docs/grading.md.
"""

import json
import random
import secrets

# Runs inside the kernel, in a function so that nothing lands in the
# student's namespace; the names it needs are imported afresh.
_FINGERPRINT = r'''
def __rlbook_fingerprint(aliases):
    import builtins, math, sys, threading
    import numpy, numpy.testing
    ip = get_ipython()

    def origin(obj):
        # Identity, and the file its code lives in (a library's or a cell's).
        obj = getattr(obj, "__func__", obj)
        code = getattr(obj, "__code__", None)
        return [id(obj), getattr(code, "co_filename", None)]

    ident = origin

    def hooks(items):
        return {"hooks": [origin(f) for f in items]}

    fp = {}
    for name, value in vars(builtins).items():
        # ipykernel rebinds input() for every request, to forward stdin.
        if not name.startswith("_") and name not in ("input", "raw_input"):
            fp["builtins." + name] = origin(value)
    for name in ("allclose", "isclose", "array_equal", "array_equiv", "all", "any",
                 "abs", "isnan", "isfinite", "testing"):
        fp["numpy." + name] = origin(getattr(numpy, name, None))
    for name in dir(numpy.testing):
        if name.startswith("assert"):
            fp["numpy.testing." + name] = origin(getattr(numpy.testing, name))
    for name in ("isclose", "isnan", "isfinite", "fabs"):
        fp["math." + name] = origin(getattr(math, name))
    fp["sys.excepthook"] = ident(sys.excepthook)
    fp["sys.displayhook"] = ident(sys.displayhook)
    fp["sys.settrace"] = ident(sys.settrace)
    fp["sys.gettrace()"] = ident(sys.gettrace())
    fp["sys.getprofile()"] = ident(sys.getprofile())
    for name in ("gettrace", "getprofile"):
        if hasattr(threading, name):
            fp[f"threading.{name}()"] = ident(getattr(threading, name)())
    fp["sys.stdout"] = origin(sys.stdout)
    fp["sys.stderr"] = origin(sys.stderr)
    for name in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
                 "_showtraceback", "showsyntaxerror", "transform_cell", "transform_ast",
                 "set_custom_exc", "CustomTB", "InteractiveTB", "compile", "display_pub",
                 "displayhook", "excepthook"):
        fp["IPython shell." + name] = ident(getattr(ip, name, None))
    fp["IPython shell.custom_exceptions"] = hooks(ip.custom_exceptions)
    fp["IPython shell.input_transformers_cleanup"] = hooks(ip.input_transformers_cleanup)
    fp["IPython shell.input_transformers_post"] = hooks(ip.input_transformers_post)
    manager = ip.input_transformer_manager
    for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
        fp["IPython input_transformer_manager." + name] = hooks(getattr(manager, name, []))
    fp["IPython shell.ast_transformers"] = hooks(ip.ast_transformers)
    for event, callbacks in sorted(ip.events.callbacks.items()):
        fp["IPython events." + event] = hooks(callbacks)
    kernel = getattr(ip, "kernel", None)
    if kernel is not None:
        for name in ("do_execute", "execute_request", "dispatch_shell"):
            fp["kernel." + name] = ident(getattr(kernel, name, None))
        fp["kernel.shell_handlers.execute_request"] = ident(
            kernel.shell_handlers.get("execute_request"))
        fp["kernel.session.send"] = ident(kernel.session.send)
    user = ip.user_ns
    # A missing name only makes the tests fail; another object in its place
    # would answer them.
    fp["aliases"] = {name: (name not in user or user[name] is sys.modules.get(module))
                     for name, module in aliases.items()}
    return fp
'''


def baseline_code():
    """The cell run before the submission: prints the fingerprint."""
    return (_FINGERPRINT + "\nimport json as __rlbook_json\n"
            "print('RLBOOK-BASELINE ' + __rlbook_json.dumps(__rlbook_fingerprint({})))\n"
            "del __rlbook_fingerprint, __rlbook_json\n")


class Probe:
    """One run's probe: its secret, its cells, and the verdict on the answers."""

    def __init__(self, aliases, rng=None):
        rng = rng or random.SystemRandom()
        self.aliases = dict(aliases)
        self.canary = "rlbook-canary-" + secrets.token_hex(8)
        self.secret = "rlbook-probe-" + secrets.token_hex(8)
        self.x = round(rng.uniform(2.0, 50.0), 6)

    def after_cells(self):
        checks = (
            f"x = {self.x!r}\n"
            "behaviour = {\n"
            "    'numpy.allclose': bool(numpy.allclose([x], [x + 1.0])),\n"
            "    'numpy.isclose': bool(numpy.isclose(x, x + 1.0)),\n"
            "    'numpy.array_equal': bool(numpy.array_equal([x, 1.0], [x, 2.0])),\n"
            "    'math.isclose': bool(math.isclose(x, x + 1.0)),\n"
            "    'float ==': bool(x == x + 1.0),\n"
            "}\n"
            "try:\n"
            "    numpy.testing.assert_allclose(x, x + 1.0)\n"
            "    behaviour['numpy.testing.assert_allclose'] = True\n"
            "except AssertionError:\n"
            "    behaviour['numpy.testing.assert_allclose'] = False\n"
        )
        report = (
            _FINGERPRINT
            + "\ndef __rlbook_report():\n"
            + "    import json, math, numpy, numpy.testing\n"
            + "".join("    " + line + "\n" for line in checks.splitlines())
            + f"    fp = __rlbook_fingerprint({self.aliases!r})\n"
            + f"    print({self.secret!r} + ' ' + json.dumps("
            + "{'fingerprint': fp, 'behaviour': behaviour}))\n"
            + "__rlbook_report()\n"
            + "del __rlbook_report, __rlbook_fingerprint\n")
        return [f"raise AssertionError({self.canary!r})", report]

    def verdict(self, before, after):
        """Evidence of tampering (a list of strings; empty if none)."""
        base = _answer(before[0] if before else None, "RLBOOK-BASELINE ")
        if base is None:
            # Before any student code: a failure here is the grader's, not theirs.
            raise RuntimeError("the integrity probe's baseline did not run: "
                               + json.dumps(before)[:300])
        evidence = []
        canary = after[0] if len(after) > 0 else None
        if not _failed_with(canary, self.canary):
            evidence.append("the probe's failing check did not fail: exceptions are "
                            "being swallowed or rewritten")
        answer = _answer(after[1] if len(after) > 1 else None, self.secret + " ")
        if not isinstance(answer, dict) or set(answer) != {"fingerprint", "behaviour"}:
            evidence.append("the integrity probe gave no well-formed answer after the "
                            "notebook (its output was suppressed or altered)")
            return evidence
        for check, result in sorted(answer["behaviour"].items()):
            if result is not False:
                evidence.append(f"{check} says two different numbers are equal")
        evidence += compare(base, answer["fingerprint"], self.aliases)
        return evidence


def compare(base, now, aliases):
    """Names whose binding changed between the two fingerprints."""
    evidence = []
    for key, value in sorted(base.items()):
        if key == "aliases":
            continue
        if key not in now:
            evidence.append(f"{key} was removed")
        elif isinstance(value, dict):
            before, after = value["hooks"], now[key].get("hooks", [])
            added = [entry for entry in after if entry not in before]
            if any(not _library_code(entry) for entry in added) or \
                    any(entry not in after for entry in before):
                evidence.append(f"{key} was changed")
        elif now[key] != value and not _library_code(now[key]):
            # A library may replace its own hook; code from a cell may not.
            evidence.append(f"{key} was rebound")
    for name, intact in sorted(now.get("aliases", {}).items()):
        if not intact:
            evidence.append(f"`{name}` no longer names the module {aliases[name]}")
    return evidence


def _library_code(entry):
    """Code from an installed library (matplotlib's inline backend registers
    a hook when pyplot is imported), not code typed into a cell."""
    filename = entry[1] if isinstance(entry, list) and len(entry) > 1 else None
    return bool(filename) and "site-packages" in filename and "ipykernel_" not in filename


def _answer(extra, prefix):
    if not extra:
        return None
    lines = [line for output in extra.get("outputs", [])
             if output.get("output_type") == "stream" and output.get("name") == "stdout"
             for line in _text(output).splitlines() if line.startswith(prefix)]
    if len(lines) != 1:
        return None
    try:
        return json.loads(lines[0][len(prefix):])
    except ValueError:
        return None


def _failed_with(extra, message):
    if not extra or extra.get("status") != "error":
        return False
    return any(o.get("output_type") == "error" and o.get("ename") == "AssertionError"
               and o.get("evalue") == message for o in extra.get("outputs", []))


def _text(output):
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text
