# MAMGD companion: `make test` and `make reproduce` set everything up themselves.
#
#   make test            create .venv if needed, install, run the test suite
#   make reproduce       run every notebook headlessly (Papermill), then the report
#   make functions       Tables 1-6 / Figures 1-6, k search, trajectories
#   make networks        Tables 7-11 / Figures 7-11 (seeds: SEEDS=5)
#   make report          figures/tables/paper_vs_reproduced.csv and figures/REPORT.md
#   make data            fill data/ (or $MAMGD_DATA_DIR) with the Keras datasets
#   make benchmark       optimizer speed against Adam (ratios)
#   make test-torch      also install PyTorch (CPU) and run the backend tests on it
#   QUICK=1 make ...     smoke run into build/quick/ (committed outputs untouched)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
QUICK ?= 0
SEEDS ?= 5
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export SOURCE_DATE_EPOCH := 0

# Tests and CI read the verified dataset copies from ../shared when present.
ifeq ($(origin MAMGD_DATA_DIR), undefined)
ifneq ($(wildcard ../shared/data/keras/SHA256SUMS),)
export MAMGD_DATA_DIR := $(abspath ../shared/data/keras)
endif
endif

ifeq ($(QUICK),1)
OUT := build/quick
EXECUTED := $(OUT)/notebooks
FIGURES := $(OUT)/figures
QUICK_PARAM := True
else
EXECUTED := notebooks/executed
FIGURES := figures
QUICK_PARAM := False
endif

NOTEBOOK_SOURCES := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
FUNCTION_NOTEBOOKS := $(sort $(wildcard notebooks/0[1-3]_*.py))
NETWORK_NOTEBOOKS := $(sort $(wildcard notebooks/0[4-8]_*.py))
EXECUTED_ALL := $(patsubst notebooks/%.py,$(EXECUTED)/%.ipynb,$(NOTEBOOK_SOURCES))
PACKAGE := $(wildcard mamgd/*.py) mamgd/data/paper_tables.csv

.PHONY: all test test-torch venv reproduce functions networks report data benchmark lock clean-quick help
.DELETE_ON_ERROR:

help:
	@sed -n '1,/^$$/p' Makefile

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

# Optional: the PyTorch backend (CPU wheel; a bare `pip install torch` pulls CUDA packages).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
test-torch: $(STAMP)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0 \
		--extra-index-url $(TORCH_CPU_INDEX)
	$(PY) -m pytest -q tests/test_backends.py

$(EXECUTED)/%.ipynb: notebooks/%.py $(PACKAGE) | $(STAMP)
	$(PY) -m mamgd.notebooks $< $@ --figures-dir $(FIGURES) \
		-p quick $(QUICK_PARAM) -p seeds $(SEEDS)

# The ablation reads the k-search sensitivity grid that notebook 02 writes.
$(EXECUTED)/09_curvature_ablation.ipynb: | $(EXECUTED)/02_decay_search.ipynb

functions: $(patsubst notebooks/%.py,$(EXECUTED)/%.ipynb,$(FUNCTION_NOTEBOOKS))
networks: $(patsubst notebooks/%.py,$(EXECUTED)/%.ipynb,$(NETWORK_NOTEBOOKS))

reproduce: $(EXECUTED_ALL)
	$(MAKE) --no-print-directory report

report: $(STAMP)
	$(PY) -m mamgd.report --figures-dir $(FIGURES) --executed-dir $(EXECUTED) \
		$(if $(MAMGD_DATA_DIR),--data-dir $(MAMGD_DATA_DIR),)

data: $(STAMP)
	$(PY) -m mamgd.datasets fetch $(if $(MAMGD_DATA_DIR),--data-dir $(MAMGD_DATA_DIR),)

benchmark: $(STAMP)
	$(PY) benchmarks/optimizer_speed.py
	$(PY) benchmarks/functions_walltime.py
	$(PY) benchmarks/networks_walltime.py

lock: $(STAMP)
	{ sed -n '1,3p' requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^mamgd'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-quick:
	rm -rf build/quick
