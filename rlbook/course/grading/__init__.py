"""The nbgrader pipeline behind `rlbook grade` (and the notebook check behind the tests).

validate.py  run a notebook the way the Validate button does
collect.py   submissions in (folder or zip): name -> student, JSON, repair
layout.py    put a submission back into the released layout
course.py    the grading folder and its explicit nbgrader configuration
restore.py   instructor cells run with the instructor's metadata and tags
tamper.py    static scan of the student's cells for tampering with the tests
probe.py     run-time check, before and after the notebook, of that machinery
sandbox/     the untrusted step: a notebook executed in a bubblewrap sandbox
executed.py  scoring reads the sandbox run's outputs, nothing else
leaks.py     outputs that quote a hidden test are replaced
autograde.py the trusted steps per student: prepare, score, feedback
feedback.py  feedback HTML without hidden tests
report.py    grades.csv, problems.csv, summary.png and the terminal summary
grade.py     the `rlbook grade` pipeline
"""
