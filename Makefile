# audiotag — set-up, build, tests and demo. Every target is safe to run again.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# What the toolkit needs at run time.
APT_PACKAGES := libtorch-dev ffmpeg sox libsndfile1-dev libsoxr-dev
# The demo's data: General-MIDI instruments rendered by FluidSynth (FluidR3 soundfont), words by espeak-ng.
APT_PACKAGES += fluidsynth fluid-soundfont-gm espeak-ng
# Reports and the web app are tested in Debian's Chromium; the distributed queue runs on Redis;
# data-parallel training uses libtorch's c10d with Gloo.
APT_PACKAGES += chromium redis-server libgloo-dev
# oneDNN's headers: the addon asks libtorch's own oneDNN for Winograd convolutions (native/src/winograd.cc).
APT_PACKAGES += libdnnl-dev
# Reference implementations for fixtures and peer benchmarks only (never imported at run time).
PEER_PACKAGES := python3-torch python3-torchaudio python3-sklearn python3-numpy python3-scipy
NODE_STAMP := node_modules/.package-lock.json
ADDON := build/Release/audiotag_native.node

help:
	@echo "make setup   apt packages, npm ci, native addon, TypeScript build (idempotent)"
	@echo "make build   native addon + TypeScript"
	@echo "make web     the web app (web/dist, Vite)"
	@echo "make test    setup if needed, then lint, typecheck and the whole test suite"
	@echo "make demo    setup, then the tour of the toolkit on generated data (docs/demo.md)"
	@echo "make bench   the benchmarks in bench/ (JSON lines on stdout)"
	@echo "make peers   Debian's python3-torch/torchaudio/sklearn for fixtures and peer benchmarks"

# ---- set-up -------------------------------------------------------------------------------
setup: apt $(NODE_STAMP) build web

apt:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PACKAGES)"

peers:
	@$(MAKE) --no-print-directory apt-install PKGS="$(PEER_PACKAGES)"

apt-install:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(NODE_STAMP): package.json package-lock.json
	# better-sqlite3 (allowScripts) builds from source against Debian's Node headers: no header download.
	npm_config_nodedir=/usr ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	@touch $@

build: native ts

native: $(NODE_STAMP)
	$(MAKE) -C native audio
	$(MAKE) -C native

ts: $(NODE_STAMP)
	npx tsc -p tsconfig.json

# The web app (web/, Vite): web/dist/, served by `audiotag serve` at / and usable as a static site.
web: $(NODE_STAMP)
	npx vite build --config web/vite.config.ts

# ---- checks -------------------------------------------------------------------------------
test: setup
	npx biome check src test bench scripts web
	npx tsc -p web/tsconfig.json
	node scripts/run-tests.mjs

demo: setup
	bin/audiotag demo

bench: setup peers
	bin/audiotag bench train --model cnn-model-1 --batch 32 --size 64 --steps 5 --json
	bin/audiotag bench infer --model cnn-model-1 --batch 32 --size 64 --steps 5 --json

clean:
	rm -rf dist build

.PHONY: help setup apt peers apt-install build native ts web test demo bench clean
