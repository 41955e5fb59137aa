# The two commands the README gives: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test migrate worker

run: $(VENV)/.installed
	$(BIN)/flask --app wsgi serve

demo: $(VENV)/.installed
	$(BIN)/flask --app wsgi demo

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.installed
	$(BIN)/flask --app wsgi migrate

worker: $(VENV)/.installed
	$(BIN)/flask --app wsgi worker

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $(VENV)/.installed $@
