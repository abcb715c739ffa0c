#!/usr/bin/env bash
# Local flakes as nix/lib.nix evaluates them (config.toml's `path:./envs`,
# `./envs` and [project] use_flake), checked against what Nix itself does:
# flake.lock nodes fetched as locked, `follows` through the root, `flake =
# false` inputs, only the input named `nixpkgs` replaced by the server's
# package set, sourceInfo on self, git semantics for plain references; and a
# devShell's packages with the outputs a user installs (bin/jq, not jq.dev).
# Sourced by tests/build/run.sh (uses its ok/notok and $root, $offline).
flk_work=$(mktemp -d /tmp/nsm-flakes.XXXXXX)
P="import $offline { system = \"x86_64-linux\"; }"
lib="(import $root/nix/lib.nix)"

# Three small flakes that stand for inputs, each locked by its narHash.
mkflake() { mkdir -p "$flk_work/$1"; printf '%s\n' "$2" > "$flk_work/$1/flake.nix"; }
mkflake py '{ outputs = { self }: { marker = "nixpkgs-python"; }; }'
mkflake np2411 '{ outputs = { self }: { marker = "nixpkgs-24_11"; }; }'
mkflake helper '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs }: { hasJq = nixpkgs.legacyPackages.x86_64-linux ? jq; }; }'
mkdir -p "$flk_work/data" && echo hello > "$flk_work/data/hello.txt"
locked() { printf '{"type":"path","path":"%s","narHash":"%s"}' "$flk_work/$1" "$(nix hash path "$flk_work/$1")"; }

mkflake envs '{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    nixpkgs-python.url = "github:cachix/nixpkgs-python";
    nixpkgs-24_11.url = "github:NixOS/nixpkgs/nixos-24.11";
    helper.url = "github:example/helper";
    helper.inputs.nixpkgs.follows = "nixpkgs";
    data = { url = "github:example/data"; flake = false; };
  };
  outputs = { self, nixpkgs, nixpkgs-python, nixpkgs-24_11, helper, data }: {
    facts = {
      python = nixpkgs-python.marker;
      second = nixpkgs-24_11.marker;
      helperFollows = helper.hasJq;
      data = builtins.readFile (data + "/hello.txt");
      serverPkgs = nixpkgs.legacyPackages.x86_64-linux ? jq;
      otherSystem = nixpkgs.legacyPackages ? aarch64-linux;
      selfInfo = [ (self ? lastModified) (self ? lastModifiedDate) (self.sourceInfo ? outPath)
                   (builtins.pathExists (self + "/flake.nix")) ];
    };
  };
}'
cat > "$flk_work/envs/flake.lock" <<LOCK
{ "version": 7, "root": "root", "nodes": {
  "root": { "inputs": { "nixpkgs": "nixpkgs", "nixpkgs-python": "nixpkgs-python",
                        "nixpkgs-24_11": "nixpkgs-24_11", "helper": "helper", "data": "data" } },
  "nixpkgs": { "locked": { "type": "github", "owner": "NixOS", "repo": "nixpkgs",
     "rev": "62c8382960464ceb98ea593cb8321a2cf8f9e3e5", "narHash": "sha256-kKB3bqYJU5nzYeIROI82Ef9VtTbu4uA3YydSk/Bioa8=", "lastModified": 1769789167 } },
  "nixpkgs-python": { "locked": $(locked py) },
  "nixpkgs-24_11": { "locked": $(locked np2411) },
  "helper": { "locked": $(locked helper), "inputs": { "nixpkgs": [ "nixpkgs" ] } },
  "data": { "locked": $(locked data), "flake": false }
} }
LOCK
# nix eval (not nix-instantiate --eval, which cannot add self's source to the store).
facts() { nix eval --impure --json --expr "($lib.callLocalFlake { pkgs = $P; } $flk_work/envs).facts.$1" 2>&1; }
want() { # name expected-json description
	local got; got=$(facts "$1")
	[ "$got" = "$2" ] && ok "local flake: $3" || notok "local flake: $3" "$got"
}
want python '"nixpkgs-python"' "an input whose name contains nixpkgs (nixpkgs-python) is fetched as locked, not replaced"
want second '"nixpkgs-24_11"' "a second pinned nixpkgs (nixpkgs-24_11) is fetched as locked, not replaced"
want helperFollows 'true' "an input's nixpkgs that follows the root's gets the server's package set"
want data '"hello\n"' "a flake = false input is its source tree"
want serverPkgs 'true' "the input named nixpkgs is the server's package set"
want otherSystem 'true' "nixpkgs.legacyPackages has other systems, not only the server's"
want selfInfo '[true,true,true,true]' "self has lastModified, lastModifiedDate, sourceInfo and its files"

# An input flake.nix declares but flake.lock lacks: refused with the fix.
mkflake unlocked '{ inputs.other.url = "github:example/other"; outputs = { self, other }: { x = other.y; }; }'
out=$(nix eval --impure --expr "($lib.callLocalFlake { pkgs = $P; } $flk_work/unlocked).x" 2>&1)
grep -q 'input other of .* is not in its flake.lock (run nix flake lock there)' <<<"$out" \
	&& ok "local flake: an unlocked input is refused with the command that locks it" \
	|| notok "local flake: an unlocked input is refused with the command that locks it" "$out"

# Git semantics: a plain reference inside a git work tree sees what git
# tracks; a path: reference sees the whole directory (as Nix copies them).
repo=$flk_work/repo
mkdir -p "$repo/envs"
printf '%s\n' '{ outputs = { self }: { sees = builtins.pathExists (self + "/untracked.txt"); }; }' > "$repo/envs/flake.nix"
echo x > "$repo/envs/untracked.txt"
git -C "$repo" init -q && git -C "$repo" add envs/flake.nix
for ref in ./envs path:./envs; do
	got=$(nix eval --impure --expr "($lib.callLocalFlake { pkgs = $P; ref = \"$ref\"; } $repo/envs).sees" 2>"$flk_work/err") || got=$(cat "$flk_work/err")
	case $ref in path:*) w=true ;; *) w=false ;; esac
	[ "$got" = "$w" ] && ok "local flake $ref: self sees untracked files: $w" || notok "local flake $ref: self sees untracked files: $w" "$got"
done

# [project] use_flake: a devShell with jq, curl and openssl (packages and
# buildInputs) gives an environment with their programs.
mkflake shell '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell {
      packages = [ pkgs.jq pkgs.curl ];
      buildInputs = [ pkgs.openssl ];
    };
  }; }'
printf '[project]\nuse_flake = true\nflake = "path:./shell"\n[environments.shell]\npreset = "shell"\n' > "$flk_work/devshell.toml"
if out=$(nix-build --no-out-link -E "let s = $lib.mkServer { pkgs = $P; config = $flk_work/devshell.toml; }; in (builtins.head (builtins.filter (e: e.name == \"project\") s.passthru.environments)).root" 2>&1); then
	proot=$(tail -n 1 <<<"$out")
	for b in jq curl openssl; do
		[ -x "$proot/bin/$b" ] && ok "use_flake: the devShell's $b is bin/$b in the project environment" \
			|| notok "use_flake: the devShell's $b is bin/$b in the project environment" "$(ls "$proot" "$proot/bin" 2>&1 | head -n 40)"
	done
else notok "use_flake: the project environment builds" "$(tail -n 20 <<<"$out")"; fi

# The original nix-sandbox-mcp's config.example.toml with every commented
# example uncommented, as written (but the two github: environments, which
# cannot be fetched here): its [daemon] transport, backend = "jail",
# [backends.*], path = ".", [project.inherit_env], use_flake = true (the
# flake beside the file), "bash -s" and "python3 -c". Served from the
# project's directory, every environment runs.
orig=$flk_work/orig
mkdir -p "$orig"
cp "$flk_work/shell/flake.nix" "$orig/flake.nix"
cat > "$orig/config.toml" <<'TOML'
[daemon]
transport = "stdio"
log_level = "info"

[defaults]
backend = "jail"          # "jail" (fast, namespace isolation) or "microvm" (secure, VM isolation)
timeout_seconds = 30      # Maximum execution time per invocation
memory_mb = 512           # Memory limit for sandbox

[project]
path = "."               # Project directory (default: current directory)
mount_point = "/project" # Where to mount inside sandbox (default: /project)
use_flake = true       # Create "project" env from project's devShell (requires flake.nix)

[project.inherit_env]
vars = ["DATABASE_URL", "RUST_LOG"]  # Host env vars to pass into sandbox

[environments.shell]
preset = "shell"

[environments.python]
preset = "python"

[environments.node]
preset = "node"

[environments.jq-shell]
flake = "nixpkgs#jq"          # Any flake reference (nixpkgs, github:, local path)
interpreter = "bash -s"       # Optional: default is "bash -s"

[environments.python-alt]
flake = "nixpkgs#python3"
interpreter = "python3 -c"

[backends.jail]

[backends.microvm]
hypervisor = "cloud-hypervisor"  # "cloud-hypervisor" | "qemu" | "firecracker"
TOML
if out=$(nix-build --no-out-link -E "$lib.mkServer { pkgs = $P; config = $orig/config.toml; }" 2>&1); then
	obin=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
	call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"run","arguments":{"env":"%s","code":%s}}}' "$1" "$2" "$3"; }
	resp=$(cd "$orig" && { printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}'
		call 2 shell '"echo \"$DATABASE_URL ${RUST_LOG-unset}\"; test -f /project/config.toml && echo project"'; echo
		call 3 python '"import os; print(os.environ[\"DATABASE_URL\"])"'; echo
		call 4 node '"console.log(6 * 7)"'; echo
		call 5 jq-shell '"echo {\\\"a\\\":6} | jq .a"'; echo
		call 6 python-alt '"print(7 * 6)"'; echo
		call 7 project '"jq -n 1+1; command -v curl >/dev/null && echo curl"'; echo; } \
		| DATABASE_URL=postgres://db/x "$obin" 2>"$flk_work/orig.err")
	got=$(jq -s -c '[.[] | select(.id >= 2)] | sort_by(.id) | map(.result.structuredContent.stdout)' <<<"$resp")
	want='["postgres://db/x unset\nproject\n","postgres://db/x\n","42\n","6\n","42\n","2\ncurl\n"]'
	[ "$got" = "$want" ] && ok "the original's config.example.toml, every example uncommented, builds and runs unchanged" \
		|| notok "the original's config.example.toml, every example uncommented, builds and runs unchanged" "$got $(tail -n 5 "$flk_work/orig.err")"
else notok "the original's config.example.toml builds" "$(tail -n 20 <<<"$out")"; fi
rm -rf "$flk_work"
