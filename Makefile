# nix-sandbox-mcp — the two commands a newcomer needs:
#   make run     build the server with the bundled presets and serve MCP on stdio
#   make check   install what is missing (apt, Nix settings, offline package set)
#                and run every test
# `make` alone builds the server into ./result/bin/nix-sandbox-mcp.
#
# Offline mode: with no nixpkgs reachable, the build uses the offline package
# set that tests/setup.sh assembles under build/offline-nixpkgs. It is chosen
# automatically when that set exists or when Nix is not installed yet (a fresh
# Debian machine); OFFLINE=0 forces the pinned nixpkgs, OFFLINE=1 the set.
OFFLINE_SET := $(CURDIR)/build/offline-nixpkgs
ifeq ($(origin OFFLINE),undefined)
  OFFLINE := $(if $(or $(wildcard $(OFFLINE_SET)/flake.nix),$(if $(shell command -v nix 2>/dev/null),,none)),1,0)
endif
ifeq ($(OFFLINE),1)
  NIX_OVERRIDE := --override-input nixpkgs path:$(OFFLINE_SET)
endif
NIX_BUILD := nix --extra-experimental-features 'nix-command flakes' build --no-write-lock-file $(NIX_OVERRIDE)

all: build

setup:
ifeq ($(OFFLINE),1)
	bash tests/setup.sh
endif

build: setup
	$(NIX_BUILD) .#default -o result
	@ls -l result/bin/nix-sandbox-mcp

run: build
	exec ./result/bin/nix-sandbox-mcp --stdio

check: setup
	bash tests/run.sh

bench: build
	bash tests/bench/run.sh

.PHONY: all setup build run check bench
