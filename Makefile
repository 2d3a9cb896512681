# The workbook's commands. `make lab` and `make test` are all a newcomer needs:
# each builds .venv from requirements.lock first (once; again when the lock or
# the Python changes), with Python 3.11, 3.12 or 3.13.

# Empty: the first working Python 3.11-3.13 (scripts/find-python); or PYTHON=/path.
PYTHON ?=
export PYTHON
VENV   ?= .venv
BIN    := $(VENV)/bin
LAB_ARGS ?=
# The folder JupyterLab opens (the browser test serves a scratch copy).
LAB_ROOT ?= notebooks
# Jupyter refuses to start as root (containers, CI) unless told it is fine.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=
# `make gallery`: quick or full runs, all chapters unless CHAPTERS="01 03".
MODE ?= quick
CHAPTERS ?=

.PHONY: help setup test-deps lab test test-fast lint release check-release grade similarity gallery bench lock clean

help:
	@echo "make lab      set up .venv and open the workbook (notebooks/) in JupyterLab"
	@echo "make test     set up .venv (and chromium for the browser test) and run the whole test suite"
	@echo "make test-fast  the suite without the slow and notebook-executing tests (a few minutes)"
	@echo "make lint     ruff, as configured in pyproject.toml (the suite runs it too)"
	@echo "make release  regenerate the student notebooks in notebooks/ from solutions/"
	@echo "make grade ASSIGNMENT=01_gym_and_policies SUBMISSIONS=class.zip [ROSTER=roster.csv] [DEADLINES=deadlines.toml]"
	@echo "             autograde a folder or zip of submissions into grading/<assignment>/"
	@echo "make similarity ASSIGNMENT=01_gym_and_policies SUBMISSIONS=class.zip"
	@echo "             rank pairs of students whose answers look alike: similarity/<assignment>/report.html"
	@echo "make gallery [MODE=full] [CHAPTERS=\"01 03\"]"
	@echo "             execute the chapters and write HTML pages with their plots and videos to gallery/"
	@echo "make bench    run the benchmark scripts in benchmarks/"
	@echo "make lock     re-resolve requirements.in into requirements.lock"
	@echo "make clean    remove .venv"

setup:
	@scripts/setup-venv $(VENV)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=$(LAB_ROOT) $(ROOT_ARGS) $(LAB_ARGS)

# The browser test drives Debian's chromium (Playwright never downloads one)
# and the parallel-grading test starts a throwaway PostgreSQL. Install the
# missing ones as root; otherwise those tests say why they skip.
CHROMIUM := /usr/bin/chromium
TEST_DEBS = $(strip $(if $(wildcard $(CHROMIUM)),,chromium) $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(wildcard /usr/bin/bwrap),,bubblewrap))

test-deps:
	@if [ -z "$(TEST_DEBS)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "==> installing Debian packages for the tests: $(TEST_DEBS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	else \
	  echo "note: $(TEST_DEBS) missing, so the tests that need them will be skipped;"; \
	  echo "      install with: sudo apt-get install $(TEST_DEBS)"; fi

test: setup test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The markers are declared in pyproject.toml: `slow` (more than a few seconds)
# and `notebook` (executes a whole chapter).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not notebook" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

release: setup
	$(BIN)/rlbook release

grade: setup
	@if [ -z "$(ASSIGNMENT)" ] || [ -z "$(SUBMISSIONS)" ]; then \
	  echo "usage: make grade ASSIGNMENT=01_gym_and_policies SUBMISSIONS=path/to/folder-or.zip [ROSTER=roster.csv] [DEADLINES=deadlines.toml]"; exit 2; fi
	$(BIN)/rlbook grade $(ASSIGNMENT) $(SUBMISSIONS) $(if $(ROSTER),--roster $(ROSTER)) $(if $(DEADLINES),--deadlines $(DEADLINES))

similarity: setup
	@if [ -z "$(ASSIGNMENT)" ] || [ -z "$(SUBMISSIONS)" ]; then \
	  echo "usage: make similarity ASSIGNMENT=01_gym_and_policies SUBMISSIONS=path/to/folder-or.zip [ROSTER=roster.csv]"; exit 2; fi
	$(BIN)/rlbook similarity $(ASSIGNMENT) $(SUBMISSIONS) $(if $(ROSTER),--roster $(ROSTER))

gallery: setup
	$(BIN)/rlbook gallery --mode $(MODE) $(if $(strip $(CHAPTERS)),--chapters $(CHAPTERS))

bench: setup
	@for script in benchmarks/*.py; do echo "==> $$script"; $(BIN)/python $$script || exit 1; done


# Resolve on every Python 3.11-3.13 found here and merge into one lock.
lock:
	$(or $(PYTHON),python3) scripts/lock.py $$(scripts/find-python --all)
	@{ echo "# repo2docker reads only binder/: a copy of ../requirements.lock, pin for pin (make lock rewrites it)."; \
	   grep -v '^#' requirements.lock; } > binder/requirements.txt
	@echo "==> requirements.lock and binder/requirements.txt rewritten; run 'make test'"

clean:
	rm -rf $(VENV)
