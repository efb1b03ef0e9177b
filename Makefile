# Two commands: `make run` starts the app, `make test` runs every test. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench browser

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app-installed
	$(PY) -m streamlit run app.py

# Debian's Chromium for the browser tests; they skip, saying why, where it cannot be installed.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: browser tests will be skipped"

test: $(VENV)/.dev-installed browser
	$(PY) -m pytest

bench: $(VENV)/.dev-installed
	$(PY) bench/ingest.py
	$(PY) bench/predict.py
	$(PY) bench/folders_videos.py
	$(PY) bench/evaluate.py
	$(PY) bench/train_throughput.py
	$(PY) bench/hostile_bounds.py
