# MAMGD companion: `make test` and `make reproduce` set everything up themselves.
#
#   make test            create .venv if needed, install, run the test suite
#   make test-heavy      the end-to-end tests make test leaves out (CI runs both)
#   make reproduce       run every notebook headlessly (Papermill), then the report
#                        (-j2: two notebooks at a time, the longest first)
#   make lab             JupyterLab on the project (notebooks/*.py open as notebooks)
#   make site            static HTML site of the executed notebooks and figures (build/site)
#   make dashboard       optuna-dashboard on the k-search studies (data/studies.journal)
#   make equal-budget    notebook 11: equal tuning budget (WORKERS=2, STORAGE=journal or URL;
#                        both reach the run through the environment, never its outputs)
#   make functions       Tables 1-6 / Figures 1-6, k search, trajectories
#   make networks        Tables 7-11 / Figures 7-11 (seeds: SEEDS=n, default each task's own)
#   make report          figures/tables/paper_vs_reproduced.csv and figures/REPORT.md
#   make data            fill data/ (or $MAMGD_DATA_DIR) with the Keras datasets
#   make benchmark       optimizer speed against Adam, the engine against Keras fit (ratios)
#   make keras-reference the engine's reference: Keras fit on TensorFlow, 20 seeds of
#                        Tables 7, 8, 10, 11 (about an hour; figures/reference/)
#   make test-torch      also install PyTorch (CPU) and run the backend tests on it
#   QUICK=1 make ...     smoke run into build/quick/ (committed outputs untouched)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Parameters (checked below, before anything runs: python3 -m mamgd_paper.core.make_variables).
# QUICK and SEEDS change results: the notebooks they affect rerun when they change.
# WORKERS and STORAGE change only how notebook 11's studies are filled, not its results.
QUICK ?= 0
SEEDS ?=
WORKERS ?= 2
STORAGE ?=
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export SOURCE_DATE_EPOCH := 0
# The same bits on every x86-64 machine: NumPy's AVX-512 code, TensorFlow's oneDNN
# kernels and oneDNN's AVX-512 sgemm off (mamgd_paper/core/numerics.py says why and what it measured).
export NPY_DISABLE_CPU_FEATURES := $(shell $(PYTHON) -m mamgd_paper.core.numerics NPY_DISABLE_CPU_FEATURES)
export TF_ENABLE_ONEDNN_OPTS := $(shell $(PYTHON) -m mamgd_paper.core.numerics TF_ENABLE_ONEDNN_OPTS)
export ONEDNN_MAX_CPU_ISA := $(shell $(PYTHON) -m mamgd_paper.core.numerics ONEDNN_MAX_CPU_ISA)
export XLA_FLAGS := $(shell $(PYTHON) -m mamgd_paper.core.numerics XLA_FLAGS)

# Tests and CI read the verified dataset copies from ../shared when present.
ifeq ($(origin MAMGD_DATA_DIR), undefined)
ifneq ($(wildcard ../shared/data/keras/SHA256SUMS),)
export MAMGD_DATA_DIR := $(abspath ../shared/data/keras)
endif
endif

# STORAGE may hold a password: it goes to the checker in a file only this user
# can read (the checker deletes it), never on a command line (make 4.3's
# $(shell) sees no exported variable).
ifneq ($(STORAGE),)
STORAGE_CHECK := $(shell umask 077 && mktemp)
$(file >$(STORAGE_CHECK),$(STORAGE))
endif
CHECKED := $(shell $(PYTHON) -m mamgd_paper.core.make_variables \
	QUICK='$(subst ','\'',$(QUICK))' SEEDS='$(subst ','\'',$(SEEDS))' \
	WORKERS='$(subst ','\'',$(WORKERS))' STORAGE_FILE='$(STORAGE_CHECK)'; rm -f '$(STORAGE_CHECK)')
ifeq ($(firstword $(CHECKED)),error:)
# (make ends the message with ". Stop.": drop the message's own final period)
CHECK_MESSAGE := $(wordlist 2,$(words $(CHECKED)),$(CHECKED))
$(error $(wordlist 2,$(words $(CHECK_MESSAGE)),x $(CHECK_MESSAGE)) $(patsubst %.,%,$(lastword $(CHECK_MESSAGE))))
endif
ifeq ($(CHECKED),)
$(error could not check the make variables: $(PYTHON) -m mamgd_paper.core.make_variables printed nothing)
endif
override QUICK := $(patsubst QUICK=%,%,$(filter QUICK=%,$(CHECKED)))
override SEEDS := $(patsubst SEEDS=%,%,$(filter SEEDS=%,$(CHECKED)))
override WORKERS := $(patsubst WORKERS=%,%,$(filter WORKERS=%,$(CHECKED)))

ifeq ($(QUICK),1)
OUT := build/quick
EXECUTED := $(OUT)/notebooks
FIGURES := $(OUT)/figures
RECORDS := $(OUT)/records
QUICK_PARAM := True
else
EXECUTED := notebooks/executed
FIGURES := figures
RECORDS := notebooks/records
QUICK_PARAM := False
endif

# Executed notebooks (by name): 01-03 and 09-10 from their own notebooks/NN_*.py;
# 04-08 from one template, notebooks/network_task.py, run with `-p table N`.
NOTEBOOK_SOURCES := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
NETWORK_TEMPLATE := notebooks/network_task.py
NETWORK_TABLES := 04_approximation:7 05_mnist:8 06_imdb:9 07_reuters:10 08_boston_housing:11
NETWORK_NOTEBOOKS := $(foreach pair,$(NETWORK_TABLES),$(firstword $(subst :, ,$(pair))))
FUNCTION_NOTEBOOKS := $(patsubst notebooks/%.py,%,$(sort $(wildcard notebooks/0[1-3]_*.py)))
ALL_NOTEBOOKS := $(sort $(patsubst notebooks/%.py,%,$(NOTEBOOK_SOURCES)) $(NETWORK_NOTEBOOKS))
# `make -j2 reproduce` starts the notebooks in this order, the longest first
# (run times in README.md), so that no long one runs alone at the end. make
# starts them one by one as job slots free up; 09 needs 02's k-sensitivity
# table, so 02 comes before it and the short 01 holds 09 back until 02 is done.
LONGEST_FIRST := 05_mnist 02_decay_search 11_equal_budget 01_test_functions 09_curvature_ablation \
	07_reuters 10_from_scratch 04_approximation 08_boston_housing
NOTEBOOKS := $(filter $(ALL_NOTEBOOKS),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(ALL_NOTEBOOKS))
EXECUTED_ALL := $(NOTEBOOKS:%=$(EXECUTED)/%.ipynb)
notebook_source = $(if $(filter $(1),$(NETWORK_NOTEBOOKS)),$(NETWORK_TEMPLATE),notebooks/$(1).py)
network_table = $(lastword $(subst :, ,$(filter $(1):%,$(NETWORK_TABLES))))
# Notebook 09 reads the k-sensitivity table that notebook 02 writes.
K_SENSITIVITY := $(FIGURES)/tables/k_sensitivity.csv
comma := ,

.PHONY: all notebooks verify manifest test test-torch venv pipeline-path reproduce run-times functions networks report data \
	benchmark lock clean-quick help lab site dashboard equal-budget keras-reference test-heavy FORCE
.DELETE_ON_ERROR:
# make never deletes an executed notebook (on an interrupt or a failed recipe):
# the runner publishes it all-or-nothing with the figures, and it is committed.
.PRECIOUS: $(EXECUTED_ALL)

help:
	@sed -n '1,/^$$/p' Makefile

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(MAKE) --no-print-directory pipeline-path PY=$(PY)
	@touch $@

# The paper pipeline (mamgd_paper/) is not in the library's wheel: it runs from
# this checkout, put on the interpreter's path by a .pth file (conda users:
# `make pipeline-path PY=python`).
pipeline-path:
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "mamgd_paper.pth").write_text("$(CURDIR)\n")'


test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not heavy" --durations=10

# The end-to-end runs (a quick reproduce, the password scan of a two-worker run, whole
# notebooks in quick mode, the TensorFlow-backend tests in a child process): CI runs them
# beside `make test`, which stays a few minutes.
test-heavy: $(STAMP)
	$(PY) -m pytest -q -m heavy

# Optional: the PyTorch backend (CPU wheel; a bare `pip install torch` pulls CUDA packages).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
test-torch: $(STAMP)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0 \
		--extra-index-url $(TORCH_CPU_INDEX)
	$(PY) -m pytest -q tests/library/test_backends.py

# ---- Notebooks ------------------------------------------------------------
# An executed notebook is out of date when what it is made from changed: the
# hash of its source, its parameters (quick, seeds, table), every pipeline
# module it imports (transitively, with the data files those modules read),
# the library mamgd/*.py and, for 09, notebook 02's k-sensitivity table,
# differs from the hash in its record $(RECORDS)/NN.json, which the runner
# writes as the last step of publishing it. File times play no part: in a fresh
# clone git writes the files in any order. `python3 -m mamgd_paper.runner
# stale` (standard library only, the system python3, before the venv exists)
# names the notebooks out of date; make reruns exactly those (FORCE), 09 after
# 02. Editing mamgd_paper/audit/ or the runner reruns none.
#: Notebooks whose results depend on SEEDS (only they are passed it).
SEEDS_NOTEBOOKS := $(NETWORK_NOTEBOOKS) 09_curvature_ablation 10_from_scratch
notebook_parameters = $(if $(and $(SEEDS),$(filter $(1),$(SEEDS_NOTEBOOKS))), -p seeds $(SEEDS),)$(if \
	$(call network_table,$(1)), -p table $(call network_table,$(1)),)
notebook_spec = '$(1)=$(call notebook_source,$(1))$(if $(and $(SEEDS),$(filter $(1),$(SEEDS_NOTEBOOKS))),$(comma)seeds=$(SEEDS),)$(if $(call network_table,$(1)),$(comma)table=$(call network_table,$(1)),)'

# Goals that run no notebook do not look.
ifneq ($(filter-out help test test-heavy test-torch venv pipeline-path report data benchmark lock clean-quick lab site dashboard run-times verify manifest keras-reference,$(or $(MAKECMDGOALS),help)),)
STALE := $(shell $(PYTHON) -m mamgd_paper.runner stale $(if $(REBUILD),--all,) \
	--executed $(EXECUTED) --records $(RECORDS) -p quick $(QUICK_PARAM) \
	--input 09_curvature_ablation=$(K_SENSITIVITY) --after 09_curvature_ablation=02_decay_search \
	$(foreach nb,$(NOTEBOOKS),$(call notebook_spec,$(nb))) || echo STALE-CHECK-FAILED)
ifneq ($(filter STALE-CHECK-FAILED,$(STALE)),)
$(error could not tell which notebooks are out of date: $(PYTHON) -m mamgd_paper.runner stale failed)
endif
$(foreach nb,$(STALE),$(eval $(EXECUTED)/$(nb).ipynb: FORCE))
endif
FORCE:

# `--if-stale`: 09 is rerun whenever 02 is; if 02 published the same table,
# the runner finds 09's inputs unchanged and does nothing.
RUN_NOTEBOOK = $(PY) -m mamgd_paper.runner $(call notebook_source,$*) $@ --figures-dir $(FIGURES) \
	$(if $(REBUILD),,--if-stale )-p quick $(QUICK_PARAM)$(call notebook_parameters,$*)

$(EXECUTED_ALL): $(EXECUTED)/%.ipynb: | $(STAMP)
	$(RUN_NOTEBOOK)

# Notebook 02 writes $(K_SENSITIVITY), notebook 09 reads it (and reruns when 02 does).
$(K_SENSITIVITY): | $(EXECUTED)/02_decay_search.ipynb
	@test -f $@ || { echo "$@ is missing: notebook 02 writes it (make -W notebooks/02_decay_search.py, or rm $(EXECUTED)/02_decay_search.ipynb, and rerun make)" >&2; exit 1; }
$(EXECUTED)/09_curvature_ablation.ipynb: RUN_NOTEBOOK += --input $(K_SENSITIVITY)
$(EXECUTED)/09_curvature_ablation.ipynb: | $(K_SENSITIVITY)
# Equal-budget comparison (notebook 11): WORKERS processes fill the Optuna studies;
# STORAGE: a journal file or an SQLAlchemy URL (default data/equal_budget.journal).
# Neither is a notebook parameter: they reach the run (and its workers) through
# the environment, so that no output and no process's arguments hold them.
# Other machines join with: .venv/bin/python -m mamgd_paper.experiments.equal_budget worker --storage URL
$(EXECUTED)/11_equal_budget.ipynb: export MAMGD_EQUAL_BUDGET_WORKERS := $(WORKERS)
ifneq ($(STORAGE),)
$(EXECUTED)/11_equal_budget.ipynb: export MAMGD_EQUAL_BUDGET_STORAGE := $(if $(findstring ://,$(STORAGE)),$(STORAGE),$(abspath $(STORAGE)))
endif
equal-budget: $(EXECUTED)/11_equal_budget.ipynb

functions: $(FUNCTION_NOTEBOOKS:%=$(EXECUTED)/%.ipynb)
networks: $(NETWORK_NOTEBOOKS:%=$(EXECUTED)/%.ipynb)

# `make reproduce` regenerates every notebook, figure and table whatever their
# records say (REBUILD=1: every notebook counts as out of date), then the report,
# prints the run's wall time and each notebook's, and ends with `make verify`
# (outputs against the committed manifest published.sha256; it prints what
# differs, and reproduce still exits 0 then: `make verify` is the strict check).
# `make all`: only the notebooks whose inputs changed, then the report.
ifneq ($(filter reproduce,$(MAKECMDGOALS)),)
REPRODUCE_START := $(shell date +%s; rm -rf build/run-times)
endif
notebooks: $(EXECUTED_ALL)

reproduce: $(STAMP)
	$(MAKE) --no-print-directory REBUILD=1 notebooks
	$(MAKE) --no-print-directory report
	@echo "make reproduce: $$(( $$(date +%s) - $(REPRODUCE_START) )) s wall clock; the notebooks it ran:"
	@$(PY) -m mamgd_paper.runner times
ifneq ($(QUICK),1)
	@$(PY) -m mamgd_paper.audit.verify || true
endif

all: $(EXECUTED_ALL)
	$(MAKE) --no-print-directory report

# Are figures/ and notebooks/executed/ the published files? (exit 1 and the
# names of the files when not). `make manifest` rewrites published.sha256 from
# the files on disk: run it when publishing regenerated outputs.
verify:
	@$(PYTHON) -m mamgd_paper.audit.verify

manifest: $(STAMP)
	$(PY) -m mamgd_paper.audit.verify --write

run-times: $(STAMP)
	$(PY) -m mamgd_paper.runner times

report: $(STAMP)
	$(PY) -m mamgd_paper.runner.quiet mamgd_paper.audit --figures-dir $(FIGURES) --executed-dir $(EXECUTED) \
		$(if $(MAMGD_DATA_DIR),--data-dir $(MAMGD_DATA_DIR),)

data: $(STAMP)
	$(PY) -m mamgd_paper.datasets fetch $(if $(MAMGD_DATA_DIR),--data-dir $(MAMGD_DATA_DIR),)

benchmark: $(STAMP)
	$(PY) -m mamgd_paper.runner.quiet benchmarks/optimizer_speed.py
	$(PY) -m mamgd_paper.runner.quiet benchmarks/functions_walltime.py
	$(PY) -m mamgd_paper.runner.quiet benchmarks/engine_speed.py

# The committed reference the engine is compared with (make report): Keras fit on
# TensorFlow, one model at a time; resumes from build/keras-reference/.
keras-reference: $(STAMP)
	KERAS_BACKEND=tensorflow $(PY) -m mamgd_paper.engine.keras_reference \
		$(if $(MAMGD_DATA_DIR),--data-dir $(MAMGD_DATA_DIR),)

lock: $(STAMP)
	{ sed -n '1,3p' requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^mamgd'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-quick:
	rm -rf build/quick

# ---- Browsing ---------------------------------------------------------------
# JupyterLab opens notebooks/*.py (jupytext py:percent) as notebooks by
# default (jupytext.toml states the pairing); a notebook run by hand writes
# to build/interactive/, never to figures/.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# Lab's settings overrides: notebooks/*.py open as notebooks; the first-run
# "get notified about Jupyter news?" prompt and the update check are answered no.
$(LAB_SETTINGS): $(STAMP) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}},' \
		' "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

# JupyterLab on the repository. Jupyter's own JUPYTER_PORT and JUPYTER_TOKEN
# environment variables choose the port and the token; LAB_IP (default
# localhost) the interface. As root (containers, CI) it adds --allow-root.
LAB_IP ?= localhost
lab: $(STAMP) $(LAB_SETTINGS)
	$(PY) -m jupyter lab --ServerApp.root_dir=. --ServerApp.ip=$(LAB_IP) --no-browser \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

site: $(STAMP)
	$(PY) -m mamgd_paper.site --output build/site

STUDIES ?= data/studies.journal
dashboard: $(STAMP)
	@test -f $(STUDIES) || { echo "$(STUDIES) does not exist: run notebook 02 first (make functions)" >&2; exit 1; }
	$(PY) -m mamgd_paper.experiments.ksearch.search dashboard --storage $(STUDIES)
