"""The tools only the `rlbook` command runs (see docs/house.md).

similarity.py  `rlbook similarity`: pairs of students whose answers look alike
"""
