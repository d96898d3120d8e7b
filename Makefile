# Two commands do all set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test default-model clean spark-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/legal-tagger serve

test: install spark-deps
	$(BIN)/python -m pytest -q

# The Spark engine's tests need pyspark (the `spark` extra) and Java 17: install whichever is missing.
spark-deps: install
	@$(BIN)/python -c 'import pyspark, pandas' 2>/dev/null || { \
	  echo "spark-deps: installing pyspark and pandas (pip install -e '.[spark]')"; \
	  $(BIN)/python -m pip install --quiet -e '.[spark]' || { echo "spark-deps: FAILED to install pyspark" >&2; exit 1; }; }
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
