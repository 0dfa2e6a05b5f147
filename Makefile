# Two entry points: `make sandbox` and `make test`. Both build .venv from requirements.txt.
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# multihub covers both platforms that run here (Debian 12 + Docker, Debian 13 + Podman + firewalld)
# in one classroom; debian12 and debian13 are the same hubs alone (SCENARIOS="debian12 debian13").
SCENARIOS ?= multihub
# make sandbox DISTRO=debian12|debian13 ENGINE=docker|podman FIREWALL=none|firewalld|ufw HUBS=1|2
export DISTRO ENGINE FIREWALL HUBS
# A directory of upstream's archives (lticontainerspawner, JunkBox_Lib) at the pinned commits, for
# machines that cannot reach GitHub; by default ../shared/upstream when there is one. Empty: GitHub.
LTICONTAINER_UPSTREAM_DIR ?= $(wildcard $(abspath ../shared/upstream))
export LTICONTAINER_UPSTREAM_DIR

.PHONY: sandbox sandbox-down bench test lint unit molecule docs changelog venv clean

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

.collections/ansible_collections/lticontainer/hub:
	mkdir -p $(@D)
	ln -sfn ../../.. $@

venv: $(VENV)/.installed .collections/ansible_collections/lticontainer/hub

sandbox: venv
	scripts/sandbox.sh

sandbox-down: venv
	SANDBOX_DOWN=1 scripts/sandbox.sh

# The launch storm: STUDENTS (50) launches at once against the sandbox's hub, measured and plotted
# into .cache/bench (docs/benchmark.md has the method). Converges the sandbox first.
STUDENTS ?= 50
bench: sandbox
	python scripts/bench_storm.py --students $(STUDENTS)

test: lint unit molecule

lint: venv
	yamllint -s .
	ansible-lint
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	ansible-galaxy collection build --force --output-path .cache/dist >/dev/null

unit: venv
	python -m pytest -q tests/unit

# Each role's README.md from its meta/argument_specs.yml; `make unit` fails on a stale one.
docs: venv
	python scripts/role_docs.py

# The changelog the next release will get (.cache/changelog/CHANGELOG.md); fragments stay.
changelog: venv
	scripts/changelog.sh

molecule: venv
	scripts/engine.sh
	$(if $(filter rocky9 ubuntu2404,$(SCENARIOS)),,@echo "molecule rocky9 ubuntu2404: skipped, their official images need a registry (.github/workflows/molecule.yml runs them)")
	scripts/molecule.sh $(SCENARIOS)

clean: sandbox-down
	rm -rf $(VENV) .collections .cache
