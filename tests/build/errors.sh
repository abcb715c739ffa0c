#!/usr/bin/env bash
# Every error nix/lib.nix, nix/environment.nix and nix/server.nix raise while
# resolving environments: each case must fail evaluation or the build with
# its own message (which names the key or environment and says what to do).
# Sourced by tests/build/run.sh (uses ok/notok, $root, $offline).
err_work=$(mktemp -d /tmp/nsm-errors.XXXXXX)
P="import $offline { system = \"x86_64-linux\"; }"
L="(import $root/nix/lib.nix)"
mkdir -p "$err_work/envs" "$err_work/noflake"
cat > "$err_work/envs/flake.nix" <<'NIX'
{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    packages.x86_64-linux.tool = pkgs.jq;
    notAPackage = { x = 1; };
    devShells.x86_64-linux.default = pkgs.mkShell { packages = [ pkgs.jq ]; };
  }; }
NIX
# A lock file with a node that has no `locked` entry.
mkdir -p "$err_work/half"
cat > "$err_work/half/flake.nix" <<'NIX'
{ outputs = { self, other }: { packages.x86_64-linux.tool = other.packages.x86_64-linux.tool; }; }
NIX
cat > "$err_work/half/flake.lock" <<'LOCK'
{ "version": 7, "root": "root", "nodes": {
  "root": { "inputs": { "other": "other" } },
  "other": { "original": { "type": "github", "owner": "example", "repo": "other" } } } }
LOCK
# case NAME NIX-EXPRESSION EXPECTED-MESSAGE-FRAGMENT
case_() {
	local out
	out=$(nix-build --no-out-link -E "$2" 2>&1)
	if [ $? -ne 0 ] && grep -qF -- "$3" <<<"$out"; then ok "build error: $1"
	else notok "build error: $1" "want: $3"$'\n'"got: $(grep -E 'error|environment' <<<"$out" | head -n 5)"; fi
}
srv() { echo "$L.mkServer { pkgs = $P; config = $1; }"; }
env1() { echo "{ environments.e = { $1 }; }"; }

case_ "a relative flake reference without a config path" \
	"$(srv "$(env1 'flake = "path:./envs#tool"; interpreter_type = "bash";')")" \
	"environments.e: path:./envs is relative to the directory of config.toml: give mkServer the configuration as a path"
case_ "a local flake without flake.nix" \
	"$L.mkServer { pkgs = $P; configDir = $err_work; config = $(env1 'flake = "path:./noflake#x"; interpreter_type = "bash";'); }" \
	"environments.e: $err_work/noflake has no flake.nix"
case_ "a flake.lock node that is not locked" \
	"$L.mkServer { pkgs = $P; configDir = $err_work; config = $(env1 'flake = "path:./half#tool"; interpreter_type = "bash";'); }" \
	"environments.e: $err_work/half/flake.lock: node other is not locked (run nix flake lock there)"
case_ "an attribute the flake does not have" \
	"$L.mkServer { pkgs = $P; configDir = $err_work; config = $(env1 'flake = "path:./envs#nope"; interpreter_type = "bash";'); }" \
	"environments.e: path:./envs#nope: no attribute nope for x86_64-linux (tried packages.x86_64-linux.nope, legacyPackages.x86_64-linux.nope, nope)"
case_ "an attribute nixpkgs does not have" \
	"$(srv "$(env1 'flake = "nixpkgs#noSuchPackage"; interpreter_type = "bash";')")" \
	"environments.e: nixpkgs#noSuchPackage: nixpkgs has no attribute noSuchPackage"
case_ "a devShell the flake does not have" \
	"$L.mkServer { pkgs = $P; configDir = $err_work; config = { project = { use_flake = true; flake = \"path:./envs#ci\"; }; }; }" \
	"project.flake: path:./envs#ci: no devShells.x86_64-linux.ci"
case_ "a value that is neither a package nor a mkSandbox value" \
	"$L.mkServer { pkgs = $P; configDir = $err_work; config = $(env1 'flake = "path:./envs#notAPackage"; interpreter_type = "bash";'); }" \
	"environments.e.flake: path:./envs#notAPackage is neither a package nor a mkSandbox value"
case_ "sandboxes that are not mkSandbox values" \
	"$L.mkServer { pkgs = $P; sandboxes = [ 1 ]; }" \
	"mkServer: sandboxes: expected values of mkSandbox, got int"
case_ "two sandboxes with one name" \
	"let s = $L.mkSandbox { pkgs = $P; name = \"a\"; interpreter_type = \"bash\"; packages = [ ($P).bash ]; }; in $L.mkServer { pkgs = $P; sandboxes = [ s s ]; }" \
	"mkServer: sandboxes: two sandboxes are named a"
case_ "no environment at all" \
	"$L.mkServer { pkgs = $P; config = { environments = { }; }; }" \
	"config.toml: environments: at least one environment is needed"
case_ "an interpreter PROGRAM missing from the environment" \
	"$(srv "$(env1 'flake = "nixpkgs#jq"; interpreter_type = "python";')")" \
	"environment e: bin/python3 is not in the environment; add the package providing it to packages (or set interpreter)"
case_ "an absolute interpreter outside the environment's closure" \
	"$(srv "$(env1 'flake = "nixpkgs#jq"; interpreter_type = "bash"; interpreter = "/bin/sh";')")" \
	"environment e: /bin/sh is not in its closure; add its package to packages"
# mkSandbox's spec lives in passthru, so a sandbox changed with
# overrideAttrs is still usable as a sandbox.
got=$(nix eval --impure --json --expr "let s = $L.mkSandbox { pkgs = $P; name = \"a\"; interpreter_type = \"bash\"; packages = [ ($P).bash ]; }; in (s.overrideAttrs (_: { })).sandbox.spec.name" 2>&1)
[ "$got" = '"a"' ] && ok "mkSandbox: the spec survives overrideAttrs" || notok "mkSandbox: the spec survives overrideAttrs" "$got"
rm -rf "$err_work"

# The original nix-sandbox-mcp's interpreter forms build and run unchanged:
# interpreter_type inferred, code on stdin ("bash -s") or as an argument
# ("python3 -c") handed over as a file.
orig="{ environments = { jq = { flake = \"nixpkgs#jq\"; interpreter = \"bash -s\"; }; py = { flake = \"nixpkgs#python3\"; interpreter = \"python3 -c\"; }; }; }"
if out=$(nix-build --no-out-link -E "$L.mkServer { pkgs = $P; config = $orig; }" 2>&1); then
	obin=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
	resp=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
		'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run","arguments":{"env":"jq","code":"echo '"'"'{\"a\":6}'"'"' | jq .a; echo $0"}}}' \
		'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"run","arguments":{"env":"py","code":"import sys; print(7 * 6, sys.argv[0].startswith(\"/\"))"}}}' \
		| "$obin" 2>/dev/null)
	got=$(jq -s -c '[.[] | select(.id == 2 or .id == 3)] | sort_by(.id) | map(.result.structuredContent | [.exit_code, .stdout])' <<<"$resp")
	case $got in '[[0,"6\n'*'],[0,"42 True\n"]]') ok "the original's interpreter = \"bash -s\" and \"python3 -c\" build and run" ;;
		*) notok "the original's interpreter = \"bash -s\" and \"python3 -c\" build and run" "$got" ;; esac
else notok "the original's interpreter forms build" "$(tail -n 20 <<<"$out")"; fi

# An interpreter that cannot host the session agent (`jq -n -f`, a bash-type
# environment): one-shot runs work, sessions are refused by name, and the
# tool's schema and --list-envs say which environment has none.
nosess="{ environments = { jqf = { flake = \"nixpkgs#jq\"; interpreter_type = \"bash\"; interpreter = \"jq -n -f\"; }; shell = { preset = \"shell\"; }; }; }"
if out=$(nix-build --no-out-link -E "$L.mkServer { pkgs = $P; config = $nosess; }" 2>&1); then
	nbin=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
	resp=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
		'{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
		'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"run","arguments":{"env":"jqf","code":"[1, 2] | add"}}}' \
		'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"run","arguments":{"env":"jqf","code":"1","session":"s"}}}' \
		'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"run","arguments":{"env":"shell","code":"x=5; echo $x","session":"t"}}}' \
		| "$nbin" --no-project 2>/dev/null)
	got=$(jq -s -c '[.[] | select(.id >= 2)] | sort_by(.id) | [(.[0].result.tools[0].inputSchema.properties.session.description | test("Not in env jqf[.]$")),
		.[1].result.structuredContent.stdout, .[2].result.isError, (.[2].result.content[0].text | test("\"jqf\" has no sessions")),
		.[3].result.structuredContent.stdout]' <<<"$resp")
	[ "$got" = '[true,"3\n",true,true,"5\n"]' ] \
		&& ok "an interpreter that cannot host the session agent: one-shot runs work, sessions are refused by name, the schema says which" \
		|| notok "an interpreter that cannot host the session agent: one-shot runs work, sessions are refused by name, the schema says which" "$got"
	got=$("$nbin" --list-envs | jq -c '[.environments[] | [.name, .sessions]]')
	[ "$got" = '[["jqf",false],["shell",true]]' ] && ok "--list-envs says which environment has sessions" \
		|| notok "--list-envs says which environment has sessions" "$got"
else notok "an environment whose interpreter cannot host the agent builds" "$(tail -n 20 <<<"$out")"; fi
