"""`rlbook similarity`: pairs of students whose answers look alike, ranked.

The submissions go through the grader's own intake (names, JSON, the released
layout restored). Each answer cell (an nbgrader solution cell) becomes a list
of normalised tokens; the tokens that came from the release's stub are
dropped; runs of K tokens are hashed, and winnowing keeps a few of those
hashes as the answer's fingerprints (Schleimer, Wilkerson and Aiken's method,
the one behind MOSS). An inverted index from each fingerprint to the students
who have it yields every pair that shares one, without comparing all pairs:
a pair's score is the Jaccard index of their fingerprint sets, per exercise
and over the whole assignment. Fingerprints held by more than ``common``
students are ignored as common code, as MOSS's ``-m`` does: code that half
the class wrote says nothing about two of them.

Normalising, and why:

* names a student chooses (variables, functions, parameters) all become one
  placeholder, as in MOSS and JPlag. Numbering them by first use would be
  exact for a consistent renaming, but one extra variable early on shifts
  every later number and breaks every k-gram after it. Keywords, builtins,
  attribute names (``.random``, ``.Dense``) and keyword-argument names
  (``activation=``) stay: they are the API, which a copier cannot rename;
* comments, docstrings and other bare strings, blank lines and spacing go;
  line breaks and indentation stay as tokens (``;``, ``{``, ``}``);
* string literals: a short one without spaces stays (``"elu"``, ``"CartPole-v1"``:
  a choice the answer makes, which an honest classmate may make differently),
  quotes normalised; text with spaces (a message, an f-string) becomes one
  placeholder, since rewording it hides nothing of the code's shape.

Written answers (markdown solution cells) are compared as lower-case words.
"""

import ast
import base64
import builtins
import csv
import functools
import hashlib
import html
import io
import itertools
import keyword
import re
import time
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

K = 8            # tokens per k-gram: about one line of code
WINDOW = 4       # winnowing window: a shared run of K + WINDOW - 1 = 11 tokens is always found
COMMON = 10      # a fingerprint in more answers than this is common code (MOSS's default -m)
STUB_RUN = 3     # a run of at least this many tokens equal to the stub's is the stub's
TOP = 20         # pairs shown side by side in the report

NAME, TEXT, NEWLINE, INDENT, DEDENT = "V", "S", ";", "{", "}"
_BUILTINS = frozenset(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)    # Python 3.12+
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)
_WORD = re.compile(r"\w+")
_FALLBACK = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>[rbuRBUfF]{0,2}(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n]*'|"[^"\n]*"))
  | (?P<name>[^\W\d]\w*)
  | (?P<number>\d[\w.]*)
  | (?P<newline>\n)
  | (?P<op>[^\s\w])
""", re.VERBOSE)


# --- normalising -----------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _string_token(text):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return TEXT                      # an f-string, or a broken literal
    if isinstance(value, str) and value and len(value) <= 40 \
            and not any(c.isspace() for c in value):
        return repr(value)
    return TEXT


@functools.lru_cache(maxsize=4096)
def _number_token(text):
    try:
        return repr(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


def _name_token(text, after_dot, keyword_argument):
    if keyword.iskeyword(text) or after_dot or keyword_argument or text in _BUILTINS:
        return text
    return NAME


def code_tokens(source):
    """Normalised tokens of Python code: [(token, start, end)], offsets into ``source``.

    Code Python's tokenizer rejects (an unclosed bracket, a stray dedent,
    a shell escape) is read by a simpler scanner with the same rules.
    """
    try:
        return _python_tokens(source)
    except (tokenize.TokenError, SyntaxError):   # IndentationError is a SyntaxError
        return _scanned_tokens(source)


def _python_tokens(source):
    starts = [0]
    for line in io.StringIO(source):
        starts.append(starts[-1] + len(line))

    def offset(position):
        row, col = position
        return starts[row - 1] + col if row - 1 < len(starts) else len(source)

    raw = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
           if t.type not in _SKIP]
    out, depth, index = [], 0, 0
    while index < len(raw):
        tok = raw[index]
        before = raw[index - 1] if index else None
        after = raw[index + 1] if index + 1 < len(raw) else None
        start, end = offset(tok.start), offset(tok.end)
        index += 1
        if tok.type == _FSTRING_START:      # the whole f-string is one text token
            nested = 1
            while nested and index < len(raw):
                nested += (raw[index].type == _FSTRING_START) - (raw[index].type == _FSTRING_END)
                end = offset(raw[index].end)
                index += 1
            out.append((TEXT, start, end))
        elif tok.type == tokenize.NAME:
            out.append((_name_token(
                tok.string, before is not None and before.string == ".",
                depth > 0 and after is not None and after.string == "="), start, end))
        elif tok.type == tokenize.STRING:
            line_start = before is None or before.type in (
                tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
            if line_start and (after is None or after.type == tokenize.NEWLINE):
                index += 1                       # a docstring or bare string: a comment,
                continue                         # its line break with it
            out.append((_string_token(tok.string), start, end))
        elif tok.type == tokenize.NUMBER:
            out.append((_number_token(tok.string), start, end))
        elif tok.type == tokenize.NEWLINE:
            out.append((NEWLINE, start, start))
        elif tok.type == tokenize.INDENT:
            out.append((INDENT, end, end))
        elif tok.type == tokenize.DEDENT:
            out.append((DEDENT, start, start))
        elif tok.type == tokenize.OP:
            depth += (tok.string in "([{") - (tok.string in ")]}")
            _append_op(out, tok.string, start, end)
        elif tok.string.strip():                 # ERRORTOKEN: `!` of a shell escape, `$`
            out.append((tok.string, start, end))
    return out


def _scanned_tokens(source):
    out = []
    for match in _FALLBACK.finditer(source):
        kind, text = match.lastgroup, match.group()
        start, end = match.span()
        if kind == "comment":
            continue
        if kind == "newline":
            if out and out[-1][0] != NEWLINE:
                out.append((NEWLINE, start, start))
        elif kind == "string":
            out.append((_string_token(text), start, end))
        elif kind == "name":
            after_dot = bool(out) and out[-1][0] == "."
            out.append((_name_token(text, after_dot, False), start, end))
        elif kind == "number":
            out.append((_number_token(text), start, end))
        else:
            _append_op(out, text, start, end)
    return out


def _append_op(out, text, start, end):
    if text in ")]}" and out and out[-1][0] == ",":
        out.pop()                  # a trailing comma is layout (`[a, b,]` is `[a, b]`)
    out.append((NEWLINE if text == ";" else text, start, end))


def word_tokens(text):
    """Lower-case words of a written answer, with their offsets."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


# --- fingerprints ------------------------------------------------------------------

def _hash(texts):
    digest = hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def own_tokens(texts, stub):
    """For each token, False where it belongs to a run of at least STUB_RUN
    tokens equal to the stub's (in order), True where the student wrote it."""
    own = [True] * len(texts)
    if stub:
        matcher = SequenceMatcher(None, stub, texts, autojunk=False)
        for block in matcher.get_matching_blocks():
            if block.size >= STUB_RUN:
                own[block.b:block.b + block.size] = [False] * block.size
    return own


def kgrams(texts, k=K):
    """The hash of every k-gram of a token list (a set, for the release's code)."""
    return {_hash(texts[i:i + k]) for i in range(len(texts) - k + 1)}


def winnow(hashes, window=WINDOW):
    """Indexes into ``hashes`` that winnowing selects: the smallest hash of
    every ``window`` consecutive ones (the rightmost on a tie), each once."""
    if not hashes:
        return []
    if len(hashes) <= window:
        low = min(hashes)
        return [max(i for i, h in enumerate(hashes) if h == low)]
    chosen = []
    for first in range(len(hashes) - window + 1):
        span = hashes[first:first + window]
        low = min(span)
        pick = first + max(i for i, h in enumerate(span) if h == low)
        if not chosen or chosen[-1] != pick:
            chosen.append(pick)
    return chosen


def fingerprints(texts, own, released=frozenset(), k=K, window=WINDOW):
    """{hash: [first token index, ...]} of the winnowed k-grams made only of
    the student's own tokens and found nowhere in the release."""
    found = defaultdict(list)
    run = []
    for index in range(len(texts) + 1):
        if index < len(texts) and own[index]:
            run.append(index)
            continue
        # A run of own tokens ended: fingerprint it on its own.
        starts = run[:len(run) - k + 1] if len(run) >= k else []
        hashes = [_hash(texts[i:i + k]) for i in starts]
        for pick in winnow(hashes, window):
            if hashes[pick] not in released:
                found[hashes[pick]].append(starts[pick])
        run = []
    return dict(found)


@dataclass
class Answer:
    source: str
    tokens: list                  # (token, start, end)
    prints: dict                  # fingerprint -> first token indexes

    def spans(self, hashes, k=K):
        """Character ranges of the k-grams behind ``hashes``."""
        return [(self.tokens[i][1], self.tokens[i + k - 1][2])
                for h in hashes for i in self.prints.get(h, [])]


def _tokens(source, kind):
    return code_tokens(source) if kind == "code" else word_tokens(source)


def answer(source, stub, kind, released):
    """An Answer for one solution cell: ``stub`` is the release's version of
    the cell as tokens, ``released`` the release's k-grams of this kind."""
    tokens = _tokens(source, kind)
    texts = [t[0] for t in tokens]
    return Answer(source, tokens, fingerprints(texts, own_tokens(texts, stub), released))


# --- comparing ---------------------------------------------------------------------

@dataclass
class Pair:
    a: str
    b: str
    score: float                  # Jaccard index over all exercises
    exercises: dict               # exercise -> Jaccard index there
    shared: int                   # fingerprints they share


@dataclass
class Comparison:
    students: list
    exercises: list
    pairs: list                   # Pair, highest score first; only pairs that share code
    common: set                   # (exercise, fingerprint) ignored as common code

    @property
    def total_pairs(self):
        return len(self.students) * (len(self.students) - 1) // 2


def compare(answers, exercises, common=COMMON):
    """Score every pair of students from {student: {exercise: Answer}}.

    Only pairs that share a fingerprint are looked at (an inverted index),
    so the cost grows with the shared code, not with the square of the class.
    """
    index = defaultdict(list)
    for student in sorted(answers):
        for exercise, ans in answers[student].items():
            for print_ in ans.prints:
                index[(exercise, print_)].append(student)
    ignored = {key for key, holders in index.items() if len(holders) > common}
    size = {student: {exercise: sum((exercise, p) not in ignored for p in ans.prints)
                      for exercise, ans in by_exercise.items()}
            for student, by_exercise in answers.items()}
    shared = defaultdict(lambda: defaultdict(int))
    for key, holders in index.items():
        if 1 < len(holders) and key not in ignored:
            for a, b in itertools.combinations(holders, 2):
                shared[(a, b)][key[0]] += 1
    pairs = []
    for (a, b), by_exercise in shared.items():
        both = sum(by_exercise.values())
        union = sum(size[a].values()) + sum(size[b].values()) - both
        scores = {}
        for exercise in exercises:
            common_here = by_exercise.get(exercise, 0)
            either = size[a].get(exercise, 0) + size[b].get(exercise, 0) - common_here
            scores[exercise] = common_here / either if either else 0.0
        pairs.append(Pair(a, b, both / union, scores, both))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return Comparison(sorted(answers), list(exercises), pairs, ignored)


# --- intake --------------------------------------------------------------------------

def released_notebooks(root, assignment):
    """{notebook: student version} from notebooks/<assignment>/: what students started from."""
    import nbformat

    from .workbook import RELEASE_DIR

    folder = Path(root) / RELEASE_DIR / assignment
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not found:
        known = sorted(p.name for p in (Path(root) / RELEASE_DIR).iterdir()
                       if p.is_dir() and any(p.glob("*.ipynb")))
        raise ValueError(f"no assignment {assignment!r} in {Path(root) / RELEASE_DIR}; "
                         f"choose one of: {', '.join(known)}")
    return {p.stem: nbformat.read(str(p), as_version=4) for p in found}


def _solution_cells(notebook):
    """{grade_id: cell} of a notebook's nbgrader solution cells."""
    cells = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if meta.get("solution") and meta.get("grade_id"):
            cells.setdefault(meta["grade_id"], cell)
    return cells


def _release_kgrams(released):
    """The k-grams of every cell of the release, code and prose apart."""
    code, prose = set(), set()
    for notebook in released.values():
        for cell in notebook.cells:
            if cell.cell_type == "code":
                code |= kgrams([t[0] for t in code_tokens(cell.source)])
            else:
                prose |= kgrams([t[0] for t in word_tokens(cell.source)])
    return {"code": code, "markdown": prose}


def read_answers(submissions, released):
    """({student: {exercise: Answer}}, exercises in notebook order)."""
    several = len(released) > 1
    stubs, exercises = {}, []
    for name, notebook in sorted(released.items()):
        for grade_id, cell in _solution_cells(notebook).items():
            exercise = f"{name}/{grade_id}" if several else grade_id
            kind = "code" if cell.cell_type == "code" else "markdown"
            stubs[(name, grade_id)] = (exercise, kind,
                                       [t[0] for t in _tokens(cell.source, kind)])
            exercises.append(exercise)
    subtract = _release_kgrams(released)
    answers = defaultdict(dict)
    for submission in submissions:
        for grade_id, cell in _solution_cells(submission.content).items():
            if (submission.notebook, grade_id) in stubs:
                exercise, kind, stub = stubs[(submission.notebook, grade_id)]
                answers[submission.student][exercise] = answer(cell.source, stub, kind,
                                                               subtract[kind])
    return dict(answers), exercises


# --- the command ---------------------------------------------------------------------

@dataclass
class SimilarityResult:
    out: Path
    comparison: Comparison
    answers: dict
    not_compared: list = field(default_factory=list)     # (student, file, reason)
    seconds: dict = field(default_factory=dict)          # stage -> wall seconds


def similarity(assignment, inbox, out=None, roster=None, root=None, top=TOP, common=COMMON,
               echo=print):
    """Compare every pair of students' answers; write pairs.csv and report.html in ``out``."""
    from .grading import collect
    from .workbook import find_root

    for name, value, least in (("--top", top, 1), ("--common", common, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} should be a whole number of at least {least}, "
                             f"got: {value!r}")
    clock = [time.monotonic()]
    seconds = {}

    def lap(stage):
        clock.append(time.monotonic())
        seconds[stage] = clock[-1] - clock[-2]

    root = find_root(root)
    released = released_notebooks(root, assignment)
    inbox = Path(inbox)
    if not inbox.exists():
        raise FileNotFoundError(f"no submissions at {inbox}: give a folder or a .zip")
    roster = collect.read_roster(roster) if roster else None
    submissions, rejected = collect.collect(inbox, released, roster, assignment)
    lap("intake")
    answers, exercises = read_answers(submissions, released)
    not_compared = [(r.student, r.file, r.reason) for r in rejected]
    if len(answers) < 2:
        raise ValueError(f"{inbox} holds {len(answers)} readable submission(s); comparing "
                         "needs at least two" + "".join(
                             f"\n  {s or '?'} ({f}): {r}" for s, f, r in not_compared))
    lap("fingerprints")
    comparison = compare(answers, exercises, common)
    lap("scoring")
    out = Path(out or Path("similarity") / assignment)
    out.mkdir(parents=True, exist_ok=True)
    write_pairs(out / "pairs.csv", comparison)
    result = SimilarityResult(out, comparison, answers, not_compared, seconds)
    (out / "report.html").write_text(report_html(assignment, result, top, common))
    lap("report")
    seconds["total"] = clock[-1] - clock[0]
    echo(f"{len(answers)} students, {comparison.total_pairs} pairs compared in "
         f"{seconds['total']:.1f} s; {len(comparison.pairs)} pairs share code")
    for pair in comparison.pairs[:5]:
        echo(f"  {pair.score:.3f}  {pair.a} and {pair.b}")
    if not_compared:
        echo(f"{len(not_compared)} not compared (listed in the report)")
    echo(f"report: {out / 'report.html'}   all pairs: {out / 'pairs.csv'}")
    return result


# --- output --------------------------------------------------------------------------

def write_pairs(path, comparison):
    """Every pair that shares code, highest score first."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["student_a", "student_b", "score", "shared", *comparison.exercises])
        for pair in comparison.pairs:
            writer.writerow([pair.a, pair.b, f"{pair.score:.3f}", pair.shared,
                             *(f"{pair.exercises[e]:.3f}" for e in comparison.exercises)])


def histogram_png(comparison):
    """PNG bytes: how many pairs reach each score (pairs sharing nothing at 0)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    edges = np.linspace(0, 1, 21)
    counts, _ = np.histogram([p.score for p in comparison.pairs], bins=edges)
    counts[0] += comparison.total_pairs - len(comparison.pairs)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(edges[:-1], counts, width=edges[1] - edges[0], align="edge", log=True,
           edgecolor="white")
    ax.set_xlim(0, 1)
    ax.set_xlabel("similarity of a pair (Jaccard index of their fingerprints)")
    ax.set_ylabel("pairs (log scale)")
    ax.set_title(f"{comparison.total_pairs} pairs of {len(comparison.students)} students")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def highlight(source, spans):
    """HTML of ``source`` with the character ranges in ``spans`` marked."""
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, last = [], 0
    for start, end in merged:
        parts += [html.escape(source[last:start]), "<mark>",
                  html.escape(source[start:end]), "</mark>"]
        last = end
    parts.append(html.escape(source[last:]))
    return "".join(parts)


_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 80em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; margin: 0; }
mark { background: #ffd966; }
"""


def report_html(assignment, result, top, common):
    comparison = result.comparison
    shown = comparison.pairs[:top]
    png = base64.b64encode(histogram_png(comparison)).decode()
    esc = html.escape
    lines = [
        "<!doctype html>", "<html><head><meta charset='utf-8'>",
        f"<title>Similarity: {esc(assignment)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Similarity of answers: {esc(assignment)}</h1>",
        f"<p>{len(comparison.students)} students, {comparison.total_pairs} pairs; "
        f"{len(comparison.pairs)} pairs share code. Scores are the Jaccard index of two "
        f"students' fingerprints ({K}-token k-grams, winnowed over {WINDOW}), per exercise "
        "and over all answer cells. Code from the release (stubs, given cells, tests) "
        f"never counts; {len(comparison.common)} fingerprints found in more than {common} "
        "students' answers were ignored as common code. A high score is a reason to "
        "read both answers, not a verdict.</p>",
        f"<img alt='histogram of pair scores' src='data:image/png;base64,{png}'>",
        f"<h2>Top {len(shown)} pairs</h2>",
        "<table><tr><th>#</th><th>students</th><th>score</th><th>shared</th>"
        + "".join(f"<th>{esc(e)}</th>" for e in comparison.exercises) + "</tr>",
    ]
    for rank, pair in enumerate(shown, start=1):
        lines.append(
            f"<tr><td class='n'>{rank}</td><td><a href='#pair-{rank}'>{esc(pair.a)} and "
            f"{esc(pair.b)}</a></td><td class='n'>{pair.score:.3f}</td>"
            f"<td class='n'>{pair.shared}</td>"
            + "".join(f"<td class='n'>{pair.exercises[e]:.3f}</td>"
                      for e in comparison.exercises) + "</tr>")
    lines.append("</table>")
    if result.not_compared:
        lines.append("<h2>Not compared</h2><ul>")
        lines += [f"<li>{esc(s or '?')} ({esc(f or 'no file')}): {esc(r)}</li>"
                  for s, f, r in result.not_compared]
        lines.append("</ul>")
    for rank, pair in enumerate(shown, start=1):
        lines.append(f"<h2 id='pair-{rank}'>{rank}. {esc(pair.a)} and {esc(pair.b)}: "
                     f"{pair.score:.3f}</h2>")
        for exercise in comparison.exercises:
            if not pair.exercises[exercise]:
                continue
            left = result.answers[pair.a][exercise]
            right = result.answers[pair.b][exercise]
            both = [h for h in left.prints.keys() & right.prints.keys()
                    if (exercise, h) not in comparison.common]
            lines += [f"<h3>{esc(exercise)}: {pair.exercises[exercise]:.3f}</h3>",
                      "<div class='side'>",
                      f"<div><b>{esc(pair.a)}</b><pre>"
                      f"{highlight(left.source, left.spans(both))}</pre></div>",
                      f"<div><b>{esc(pair.b)}</b><pre>"
                      f"{highlight(right.source, right.spans(both))}</pre></div>",
                      "</div>"]
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"
