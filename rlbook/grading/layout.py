"""Put a submission back into the shape of the notebook the student received.

nbgrader restores a locked cell whose text changed, but a deleted test cell
is simply not graded, and a test moved above its solution fails. Here every
nbgrader cell (solution, test, locked) is an anchor: the student's own cells
travel with the anchor above them, anchors go back into the released order,
and a deleted anchor is put back from the released notebook (so a deleted
solution scores 0 and a deleted test is still run).
"""

import copy

from nbgrader import utils


def _grade_id(cell):
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    return meta.get("grade_id")


def restore_layout(submitted, released):
    """(notebook in the released layout, notes), or (None, [reason]) if foreign."""
    anchors = [_grade_id(c) for c in released.cells if _grade_id(c)]
    known = set(anchors)
    found = [g for g in (_grade_id(c) for c in submitted.cells) if g in known]
    if not found:
        return None, [
            "holds none of this assignment's graded cells (" + ", ".join(anchors[:3])
            + ", ...): a notebook from another assignment, or one saved without its metadata"]
    notes = []
    kept = {}                  # grade_id -> the student's cell
    attached = {None: []}      # anchor above (None: top) -> the student's own cells
    above = None
    stray = []
    for cell in submitted.cells:
        grade_id = _grade_id(cell)
        if grade_id in known and grade_id not in kept:
            kept[grade_id] = cell
            attached[grade_id] = []
            above = grade_id
            continue
        if grade_id is not None:
            # A copied or foreign nbgrader cell: keep its text, drop its grading role.
            stray.append(grade_id)
            cell = copy.deepcopy(cell)
            del cell.metadata["nbgrader"]
        attached[above].append(cell)

    if stray:
        notes.append("graded as ordinary cells (copies or unknown ids): " + ", ".join(stray))
    missing = [g for g in anchors if g not in kept]
    if missing:
        notes.append("restored deleted cells from the release: " + ", ".join(missing))
    if list(kept) != [g for g in anchors if g in kept]:
        notes.append("cells were out of order; restored the released order")
    by_id = {_grade_id(c): c for c in released.cells if _grade_id(c)}
    edited = [g for g, cell in kept.items()
              if utils.is_locked(by_id[g]) and cell.source != by_id[g].source]
    if edited:
        notes.append("edited locked cells (graded with the original tests): " + ", ".join(edited))

    cells = list(attached[None])
    for grade_id in anchors:
        cells.append(kept.get(grade_id) or copy.deepcopy(by_id[grade_id]))
        cells.extend(attached.get(grade_id, []))
    repaired = copy.deepcopy(submitted)
    repaired.cells = cells
    return repaired, notes
