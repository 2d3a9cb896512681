# The workbook's commands. `make lab` and `make test` are all a newcomer needs:
# each builds .venv from requirements.lock first (once; again when the lock changes).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
LAB_ARGS ?=
# The folder JupyterLab opens (the browser test serves a scratch copy).
LAB_ROOT ?= notebooks
# Jupyter refuses to start as root (containers, CI) unless told it is fine.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=
# `make gallery`: quick or full runs, all chapters unless CHAPTERS="01 03".
MODE ?= quick
CHAPTERS ?=

.PHONY: help setup test-deps lab test release check-release grade gallery bench lock clean

help:
	@echo "make lab      set up .venv and open the workbook (notebooks/) in JupyterLab"
	@echo "make test     set up .venv (and chromium for the browser test) and run the whole test suite"
	@echo "make release  regenerate the student notebooks in notebooks/ from solutions/"
	@echo "make grade ASSIGNMENT=01_gym_and_policies SUBMISSIONS=class.zip [ROSTER=roster.csv]"
	@echo "             autograde a folder or zip of submissions into grading/<assignment>/"
	@echo "make gallery [MODE=full] [CHAPTERS=\"01 03\"]"
	@echo "             execute the chapters and write HTML pages with their plots and videos to gallery/"
	@echo "make bench    run the benchmark scripts in benchmarks/"
	@echo "make lock     re-resolve requirements.in into requirements.lock"
	@echo "make clean    remove .venv"

setup: $(READY)

$(READY): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ] || ! command -v "$(PYTHON)" >/dev/null 2>&1; then \
	  echo "error: no Python 3.11 found (looked for '$(or $(PYTHON),python3.11)'). Install Python 3.11"; \
	  echo "       (for example 'apt-get install python3.11 python3.11-venv', or 'pyenv install 3.11')"; \
	  echo "       or point at one: make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)"; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { \
	  echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'),"; \
	  echo "       but the pinned stack needs Python 3.11 (pygame 2.1.3, required by tf-agents,"; \
	  echo "       has no wheel for 3.12). Run: make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)"; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { echo "error: 'python -m venv' failed; on Debian/Ubuntu install python3.11-venv"; exit 1; }
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> installing the pinned stack from requirements.lock (a few minutes the first time)"
	@$(BIN)/python -m pip install --quiet --requirement requirements.lock || { \
	  echo "error: installing requirements.lock failed (see pip's message above)."; \
	  echo "       Check the network to PyPI, then run the same make command again."; exit 1; }
	@$(BIN)/python -m pip install --quiet --no-deps --editable .
	@$(BIN)/python -m pip check
	@$(BIN)/python -m rlbook.frame_replay_op --build || true
	@touch $@
	@echo "==> $(VENV) is ready"

lab: $(READY)
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

test: $(READY) test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

release: $(READY)
	$(BIN)/rlbook release

grade: $(READY)
	@if [ -z "$(ASSIGNMENT)" ] || [ -z "$(SUBMISSIONS)" ]; then \
	  echo "usage: make grade ASSIGNMENT=01_gym_and_policies SUBMISSIONS=path/to/folder-or.zip [ROSTER=roster.csv]"; exit 2; fi
	$(BIN)/rlbook grade $(ASSIGNMENT) $(SUBMISSIONS) $(if $(ROSTER),--roster $(ROSTER))

gallery: $(READY)
	$(BIN)/rlbook gallery --mode $(MODE) $(if $(strip $(CHAPTERS)),--chapters $(CHAPTERS))

bench: $(READY)
	@for script in benchmarks/*.py; do echo "==> $$script"; $(BIN)/python $$script || exit 1; done


lock:
	@rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet --requirement requirements.in
	.lock-venv/bin/python -m pip check
	@{ echo "# Exact pins for Python 3.11 that resolve together (pip check clean)."; \
	   echo "# One source of truth: the Makefile, environment.yml and binder/ all install this file."; \
	   echo "# Regenerate with: make lock"; \
	   .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)=='; } > requirements.lock
	@rm -rf .lock-venv
	@{ echo "# repo2docker reads only binder/: a copy of ../requirements.lock, pin for pin (make lock rewrites it)."; \
	   grep -v '^#' requirements.lock; } > binder/requirements.txt
	@echo "==> requirements.lock and binder/requirements.txt rewritten; run 'make test'"

clean:
	rm -rf $(VENV)
