# nix-sandbox-mcp — the two commands a newcomer needs:
#   make run     build the server with the bundled presets and serve MCP on stdio
#   make check   install what is missing (apt packages, Nix settings, offline
#                package set: tests/setup.sh, Debian/root) and run every test
# `make` alone builds the server into ./result/bin/nix-sandbox-mcp.
#
# Offline mode: with no nixpkgs reachable, the build uses the offline package
# set that tests/setup.sh assembles under build/offline-nixpkgs. It is used
# whenever that set exists; when Nix is not installed yet (a fresh Debian
# machine) `make` runs tests/setup.sh first. OFFLINE=0 forces the nixpkgs
# pinned in flake.lock, OFFLINE=1 the offline set.
OFFLINE_SET := $(CURDIR)/build/offline-nixpkgs
# Recursive (=) on purpose: decided when a recipe runs, i.e. after setup.
OFFLINE ?= $(if $(wildcard $(OFFLINE_SET)/flake.nix),1,0)
NIX_OVERRIDE = $(if $(filter 1,$(OFFLINE)),--override-input nixpkgs path:$(OFFLINE_SET))
NIX_BUILD = nix --extra-experimental-features 'nix-command flakes' build --no-write-lock-file $(NIX_OVERRIDE)
HAVE_NIX := $(shell command -v nix 2>/dev/null)

all: build

setup:
	bash tests/setup.sh

ifeq ($(HAVE_NIX),)
build: setup
endif
build:
	$(NIX_BUILD) .#default -o result
	@ls -l result/bin/nix-sandbox-mcp

# stdout carries only protocol messages (an MCP client may run `make run`):
# the build and make's own lines go to stderr.
run:
	@$(MAKE) --no-print-directory build >&2
	@exec ./result/bin/nix-sandbox-mcp --stdio

check: setup
	bash tests/run.sh

# The mutation check (tests/mutants): about 5-10 minutes; ends with
# "N killed, N survived". Run by .ci/run after make check.
mutants: setup
	bash tests/mutants/run.sh

bench: build
	bash tests/bench/size-rss.sh
	python3 tests/bench/oneshot.py result/bin/nix-sandbox-mcp 100
	python3 tests/bench/concurrency.py result/bin/nix-sandbox-mcp 5
	python3 tests/bench/session-latency.py
	python3 tests/bench/memory-pressure.py result/bin/nix-sandbox-mcp 16

# The soak (tests/bench/soak.py): 2000 one-shot runs and 300 sessions through
# the session table, every result checked, with the server's memory, open
# descriptors and processes before and after; about 2 minutes on 2 cores.
soak: build
	python3 tests/bench/soak.py result/bin/nix-sandbox-mcp 2000 300

.PHONY: all setup build run check mutants bench soak
