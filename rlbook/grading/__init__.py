"""The nbgrader pipeline behind `rlbook release` (and, later, `rlbook grade`)."""
