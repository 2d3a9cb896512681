"""What the `rlbook` command runs: the instructor's and the machine's tools.

cli.py         the `rlbook` command (`release`, `doctor`, `badges`, `grade`, `similarity`,
               `gallery`)
workbook.py    the checkout's layout: root, sources, releases, nbgrader config
release.py     solutions/ -> notebooks/ (student versions), and the sync check
badges.py      the Colab and Binder badges and launch blocks, from [tool.rlbook]
gallery.py     every chapter executed and exported to HTML
grading/       `rlbook grade`: a class's submissions autograded in a sandbox
similarity.py  `rlbook similarity`: pairs of students whose answers look alike

Imports run one way: these modules use the library (``rlbook.*``); no library
module imports them (tests/test_imports.py).
"""
