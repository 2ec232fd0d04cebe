# The two commands of the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jupyter-clerk-installed
# The JupyterLab extension: built from labextension/ into jupyter_clerk/labextension/, which the
# venv's JupyterLab sees through a link (the wheel ships it as shared data instead).
NODE_MODULES := labextension/node_modules/.package-lock.json
LABEXT_BUILT := jupyter_clerk/labextension/package.json
LABEXT_SOURCES := $(wildcard labextension/src/*.ts) labextension/style/index.css \
	labextension/package.json labextension/tsconfig.json
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/@jupyter-clerk/labextension
# Debian packages the tests need: one list (chromium drives the browser tests, bubblewrap
# sandboxes kernels, passt's pasta gives sandboxes their user-mode network).
SYSTEM_PACKAGES := chromium bubblewrap passt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo demo-preflight test lint format bench env system-deps hub-env hub-demo

# JupyterHub mode: the Hub's Python packages (the `hub-test` extra) and its proxy from npm.
HUB_STAMP := $(VENV)/.jupyter-clerk-hub-installed
CHP := $(VENV)/bin/configurable-http-proxy

hub-env: $(HUB_STAMP) $(CHP)

$(HUB_STAMP): $(STAMP) pyproject.toml
	$(call pip_install_editable,hub-test)
	@touch $@

$(CHP):
	npm install --no-audit --no-fund --prefix $(VENV)/node configurable-http-proxy@^4.6
	ln -sf $(CURDIR)/$(VENV)/node/node_modules/.bin/configurable-http-proxy $@

hub-demo: env hub-env
	$(PY) -m jupyter_clerk.hub.demo

env: $(STAMP) $(LABEXT_BUILT) $(LABEXT_LINK)

# pip installs the wheel's shared data (install.json) into share/jupyter/labextensions/, where
# LABEXT_LINK points into the source tree: each install runs with the link out of the way and
# puts it back, so the built extension never gains a stray file (the wheel build would refuse).
COMMA := ,
define pip_install_editable
	rm -rf $(LABEXT_LINK)
	SKIP_JUPYTER_BUILDER=1 $(PY) -m pip install --quiet -e ".[$(1)]"
	$(link_labextension)
endef
define link_labextension
	rm -rf $(LABEXT_LINK) && mkdir -p $(dir $(LABEXT_LINK))
	ln -s $(CURDIR)/jupyter_clerk/labextension $(LABEXT_LINK)
endef

$(STAMP): pyproject.toml
	@echo "==> Setting up the virtual environment in $(VENV) (first run takes a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(call pip_install_editable,lab$(COMMA)test$(COMMA)bench)
	$(VENV)/bin/jupyter server extension enable --sys-prefix jupyter_clerk
	# Installed for a test only: jupyter-clerk refuses to start while it is enabled.
	$(VENV)/bin/jupyter server extension disable --sys-prefix jupyter_server_ydoc jupyter_server_fileid
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/collaboration-extension @jupyter/docprovider-extension
	@touch $(STAMP)

# `npm ci`: installs the lock exactly and never writes it, so a build leaves the checkout clean.
# (`npm install` rewrote the lock on machines whose npm records `resolved` registry URLs; the
# lock is kept without them, see labextension/.npmrc, and lists every platform's optional
# packages, which `npm ci` needs.)
$(NODE_MODULES): labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund

$(LABEXT_BUILT): $(STAMP) $(NODE_MODULES) $(LABEXT_SOURCES)
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm run build

$(LABEXT_LINK): $(STAMP)
	$(link_labextension)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "==> Installing$$missing"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Before anything slow: both ports free (JUPYTER_PORT, CLERK_PORT) and Node.js with npm.
# Run as a file with the system Python: the venv may not exist yet.
demo-preflight:
	@$(PYTHON) jupyter_clerk/devinstance/preflight.py

demo: demo-preflight
	@$(MAKE) --no-print-directory env
	$(PY) -m jupyter_clerk.devinstance.demo

test: env hub-env system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd labextension && npm test
	$(PY) -m pytest

bench: env hub-env system-deps
	$(PY) -m bench.verify
	$(PY) -m bench.http
	$(PY) -m bench.sandbox
	$(PY) -m bench.hub
	$(PY) -m bench.hub_switcher

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
