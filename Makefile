# Two commands do all set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test default-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/legal-tagger serve

test: install
	$(BIN)/python -m pytest -q

# Retrain the shipped default model from labels/corpus.csv and record its gold-set scores.
default-model: install
	$(BIN)/legal-tagger train labels/corpus.csv --out models/ --cv
	$(BIN)/python -m bench.record_gold

clean:
	rm -rf $(VENV) build *.egg-info
