"""The nbgrader pipeline behind `rlbook release` and `rlbook grade`.

release.py   solutions/ -> notebooks/ (student versions), and the sync check
validate.py  run a notebook the way the Validate button does
collect.py   submissions in (folder or zip): name -> student, JSON, repair
layout.py    put a submission back into the released layout
course.py    the grading folder and its explicit nbgrader configuration
autograde.py one student per process, under time and memory limits
feedback.py  feedback HTML without hidden tests
report.py    grades.csv, problems.csv, summary.png and the terminal summary
grade.py     the `rlbook grade` pipeline
"""
