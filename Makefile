# Two commands do all set-up: `make serve` and `make test` (system packages included).
# PYTHON picks the interpreter (3.11, 3.12 or 3.13); switching it rebuilds .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions of every dependency, the same on all supported Pythons; `make lock` upgrades them.
CONSTRAINTS := constraints.txt
# pyenv's `python3.12` shim fails unless that version is selected: then use pyenv's own copy.
PY := $(shell for p in $(PYTHON) $(wildcard $(HOME)/.pyenv/versions/*/bin/$(notdir $(PYTHON))); do \
        "$$p" -c 'import sys' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
PYVER := $(if $(PY),$(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))
PYTAG := $(VENV)/.python-$(PYVER)
# Debian packages the browser tests need: Chromium, and a CJK font so Chinese text renders.
SYSTEM_PACKAGES := chromium fonts-noto-cjk
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: install serve test test-fast system-packages spark-deps lock default-model clean

$(PYTAG):
	@test -n "$(PYVER)" || { echo "error: cannot run '$(PYTHON)'; install Python 3.11-3.13 or pass PYTHON=/path/to/python3.1x" >&2; exit 1; }
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

# PIP_CONSTRAINT also pins the build backend (setuptools) in pip's isolated build env.
$(STAMP): $(PYTAG) pyproject.toml setup.py $(CONSTRAINTS)
	PIP_CONSTRAINT=$(abspath $(CONSTRAINTS)) $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@

install: $(STAMP)

serve: install
	$(BIN)/legal-tagger serve

test: install system-packages spark-deps
	$(PYTEST)

# Everything but the browser and Spark tests (no Chromium, no JVM): CI runs it on the other Pythons.
test-fast: install
	$(PYTEST) --ignore=tests/test_ui_browser.py --ignore=tests/test_batch_spark.py

# Install the missing ones with apt-get (sudo when not root); fail loudly when that is impossible.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || [ -x "$${TAGGER_CHROMIUM:-/nonexistent}" ] || missing=" chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	[ -z "$$missing" ] && exit 0; \
	echo "installing system packages the tests need:$$missing"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: missing$$missing and no apt-get here; install them (Debian names: $(SYSTEM_PACKAGES)) and rerun make test" >&2; exit 1; \
	fi; \
	apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600"; \
	{ $$apt update -qq && $$apt install -y -qq --no-install-recommends $$missing >/dev/null; } || \
	  { echo "error: could not install$$missing with apt-get (needs root or sudo); install them and rerun make test" >&2; exit 1; }

# Re-resolve every dependency to the newest allowed by pyproject.toml, one set for all Pythons.
lock: $(PYTAG)
	$(BIN)/python -m pip install --quiet 'uv>=0.13,<0.14'
	$(BIN)/uv pip compile --quiet --upgrade --universal --fork-strategy fewest --python-version 3.11 \
	    --extra test --extra spark --custom-compile-command "make lock" pyproject.toml -o $(CONSTRAINTS)

# The Spark engine's tests need pyspark (the `spark` extra) and Java 17: install whichever is missing.
spark-deps: install
	@$(BIN)/python -c 'import pyspark, pandas' 2>/dev/null || { \
	  echo "spark-deps: installing pyspark and pandas (pip install -e '.[spark]')"; \
	  PIP_CONSTRAINT=$(abspath $(CONSTRAINTS)) $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[spark]' || { echo "spark-deps: FAILED to install pyspark" >&2; exit 1; }; }
	@ls /usr/lib/jvm/java-17-openjdk-*/bin/java >/dev/null 2>&1 || { \
	  echo "spark-deps: installing Java 17 (apt-get install openjdk-17-jre-headless)"; \
	  for try in 1 2 3 4 5 6 7 8 9 10; do \
	    apt-get -o DPkg::Lock::Timeout=120 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq openjdk-17-jre-headless && break; \
	    echo "spark-deps: apt-get failed (dpkg lock held?); retrying in 15 s" >&2; sleep 15; done; \
	  ls /usr/lib/jvm/java-17-openjdk-*/bin/java >/dev/null 2>&1 || { echo "spark-deps: FAILED to install Java 17 (openjdk-17-jre-headless); the Spark tests cannot run" >&2; exit 1; }; }

# Retrain the shipped default model from labels/corpus.csv and record its gold-set scores.
default-model: install
	$(BIN)/legal-tagger train labels/corpus.csv --out models/ --cv
	$(BIN)/python -m bench.record_gold

clean:
	rm -rf $(VENV) build *.egg-info
