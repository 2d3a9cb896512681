"""Put a submission back into the shape of the notebook the student received.

nbgrader restores a locked cell whose text changed, but a deleted test cell
is simply not graded, and a test moved above its solution fails. Here every
cell of the release is an anchor, known by its grade_id (nbgrader cells) or
its cell id (JupyterLab keeps ids when cells move). Cells the student added
travel with the anchor above them, anchors go back into the released order,
and a deleted nbgrader cell is put back from the release (so a deleted
solution scores 0 and a deleted test still runs).
"""

import copy

from nbgrader import utils


def _grade_id(cell):
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    return meta.get("grade_id")


def _key(cell, grade_ids, cell_ids):
    """How a cell is recognised: its grade_id, else its released cell id."""
    grade_id = _grade_id(cell)
    if grade_id is not None:
        return ("grade", grade_id) if grade_id in grade_ids else None
    return ("cell", cell.get("id")) if cell.get("id") in cell_ids else None


def restore_layout(submitted, released):
    """(notebook in the released layout, notes), or (None, [reason]) if foreign."""
    grade_ids = [_grade_id(c) for c in released.cells if _grade_id(c)]
    cell_ids = {c.get("id") for c in released.cells if not _grade_id(c) and c.get("id")}
    anchors = [_key(c, set(grade_ids), cell_ids) for c in released.cells]
    if not any(_grade_id(c) in grade_ids for c in submitted.cells):
        return None, [
            "holds none of this assignment's graded cells (" + ", ".join(grade_ids[:3])
            + ", ...): a notebook from another assignment, or one saved without its metadata"]
    notes = []
    kept = {}                  # anchor -> the student's cell
    attached = {None: []}      # anchor above (None: top) -> the student's new cells
    above = None
    stray = []
    for cell in submitted.cells:
        key = _key(cell, set(grade_ids), cell_ids)
        if key is not None and key not in kept:
            kept[key] = cell
            attached[key] = []
            above = key
            continue
        if _grade_id(cell) is not None:
            # A copied or foreign nbgrader cell: keep its text, drop its grading role.
            stray.append(_grade_id(cell))
            cell = copy.deepcopy(cell)
            del cell.metadata["nbgrader"]
        attached[above].append(cell)

    if stray:
        notes.append("graded as ordinary cells (copies or unknown ids): " + ", ".join(stray))
    missing = [g for g in grade_ids if ("grade", g) not in kept]
    if missing:
        notes.append("restored deleted cells from the release: " + ", ".join(missing))
    if list(kept) != [a for a in anchors if a in kept]:
        notes.append("cells were out of order; restored the released order")
    by_key = dict(zip(anchors, released.cells))
    edited = [g for g in grade_ids if ("grade", g) in kept
              and utils.is_locked(by_key[("grade", g)])
              and kept[("grade", g)].source != by_key[("grade", g)].source]
    if edited:
        notes.append("edited locked cells (graded with the original tests): " + ", ".join(edited))

    cells = list(attached[None])
    for key in anchors:
        if key in kept:
            cells.append(kept[key])
        elif key[0] == "grade":
            # Deleted graded cells come back; deleted prose and code stay deleted.
            cells.append(copy.deepcopy(by_key[key]))
        cells.extend(attached.get(key, []))
    repaired = copy.deepcopy(submitted)
    repaired.cells = cells
    return repaired, notes
