# One entry point for the dev loop. Every target builds the local virtualenv from the pinned
# requirements first, so a fresh clone needs nothing but python3 (>= 3.11) and make.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: app demo test lint format bench sample screenshots clean

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

app: $(STAMP)    ## the app on the bundled sample district (embedded SQLite under ./data/)
	$(VENV)/bin/streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port 8501

demo: $(STAMP)   ## grade the bundled sample district and print the color counts per month
	$(VENV)/bin/fivecolor demo

test: $(STAMP)   ## the whole suite: lint, format check, tests
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n 2 --dist loadfile

screenshots: $(STAMP)  ## refresh docs/screenshots/ from the browser tests
	FIVECOLOR_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/app/test_browser.py

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)  ## benchmarks: grading 10k/100k/600k units, a weight change on a city
	$(PY) benchmarks/bench_grade.py
	$(PY) benchmarks/bench_weights.py

sample: $(STAMP) ## regenerate sample_data/ from its seeded generator
	$(VENV)/bin/fivecolor sample --out sample_data

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
