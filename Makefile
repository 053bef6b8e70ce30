# The two commands a newcomer needs (README): `make demo` and `make test`.
VENV ?= .venv
export SITROOM_VENV := $(VENV)

.PHONY: demo test bench clean

demo:  ## install everything, then run the live demo on the embedded store
	scripts/bootstrap app
	$(VENV)/bin/sitroom demo

test:  ## install everything the tests need (PostGIS included), then run the whole suite
	scripts/bootstrap test
	$(VENV)/bin/python -m pytest

bench:  ## run the benchmarks (prints figures; not part of the tests)
	scripts/bootstrap test
	$(VENV)/bin/python bench/bench_store.py
	$(VENV)/bin/python bench/bench_live.py
	$(VENV)/bin/python bench/bench_feeds.py
	$(VENV)/bin/python bench/bench_screens.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
