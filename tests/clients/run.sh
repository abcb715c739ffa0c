#!/usr/bin/env bash
# Client tests: drive the built server with real MCP clients from npm — the
# official TypeScript SDK (sdk.test.mjs, over stdio and over Streamable HTTP)
# and the MCP Inspector in CLI mode (inspector.test.mjs) — at the versions
# pinned in package-lock.json; files and plots through the SDK
# (files.test.mjs); then the conformance suite over HTTP
# (tests/conformance/run.sh, its own lock file).
# Installs them with `npm ci` into tests/clients/node_modules (skipped when
# that tree was installed from the same lock file). Prints TAP; a test marked
# `# TODO` is reported but does not fail the suite.
#
#   bash tests/clients/run.sh        env: NSM_SERVER (default: ./result/bin/nix-sandbox-mcp,
#                                         built with `make` when missing)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/clients
mkdir -p "$out"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$fail" -eq 0 ]; exit; }

# ---- Node and npm --------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
	not_ok "node is installed (the client tests need Node.js >= 18 and npm; none found in PATH)"
	finish
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
echo "# node $(node --version 2>/dev/null), npm $(npm --version 2>/dev/null || echo missing)"
if [ "$node_major" -lt 18 ]; then
	not_ok "node is >= 18 (@modelcontextprotocol/sdk needs it; found $(node --version))"
	finish
fi
if ! command -v npm >/dev/null 2>&1; then
	not_ok "npm is installed (needed for npm ci; Debian ships it as the separate package npm)"
	finish
fi

# ---- npm ci, unless node_modules already matches the lock -------------------------
stamp=$here/node_modules/.nsm-lock.sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	ok "the pinned clients are installed (npm ci skipped: node_modules matches package-lock.json)"
else
	start=$(date +%s)
	if (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$out/npm-ci.log" 2>&1; then
		echo "$want" > "$stamp"
		ok "npm ci installs the pinned clients ($(( $(date +%s) - start )) s)"
	else
		not_ok "npm ci installs the pinned clients (no registry and no matching node_modules?)"
		tail -n 15 "$out/npm-ci.log" | sed 's/^/#   /'
		finish
	fi
fi
versions=$(cd "$here" && node -e '
	for (const p of ["@modelcontextprotocol/sdk", "@modelcontextprotocol/inspector"])
		process.stdout.write(`${p}@${require(`./node_modules/${p}/package.json`).version} `)' 2>/dev/null)
echo "# clients: $versions"

# ---- the server ----------------------------------------------------------------------
server=${NSM_SERVER:-$root/result/bin/nix-sandbox-mcp}
if [ -z "${NSM_SERVER:-}" ] && [ ! -x "$server" ]; then
	echo "# $server is missing: building it with make"
	make -s -C "$root" >"$out/build.log" 2>&1 || tail -n 20 "$out/build.log" | sed 's/^/#   /'
fi
if [ ! -x "$server" ]; then
	not_ok "the server binary exists: $server (run make, or set NSM_SERVER)"
	finish
fi
echo "# server: $server"
export NSM_SERVER=$server

# ---- the tests: each script's TAP renumbered into this one ---------------------------
emit() {
	local name=$1 script=$2 line rest start=$(date +%s) failed_before=$fail
	while IFS= read -r line; do
		case "$line" in
		"ok "*) n=$((n + 1)); echo "ok $n - $name: ${line#* - }" ;;
		"not ok "*)
			n=$((n + 1)); rest=${line#* - }
			case "$rest" in *" # TODO"*) ;; *) fail=$((fail + 1)) ;; esac
			echo "not ok $n - $name: $rest" ;;
		"# exit 0") ;;
		"# exit "*)
			# Exited non-zero without saying which test failed: it crashed.
			if [ "$fail" -eq "$failed_before" ]; then
				not_ok "$name: exited ${line#\# exit } (see $out/$name.stderr)"
				tail -n 10 "$out/$name.stderr" | sed 's/^/#   /'
			fi ;;
		"#"*) echo "$line" ;;
		esac
	done < <(cd "$here" && timeout 150 node "$script" 2>"$out/$name.stderr"; echo "# exit $?")
	echo "# $name: $(( $(date +%s) - start )) s"
}
emit sdk sdk.test.mjs
NSM_TRANSPORT=http emit sdk-http sdk.test.mjs
emit inspector inspector.test.mjs

# ---- files and plots: a server with the python-plot environment --------------------
# (the integration tests' server, tests/integration/server.nix; NSM_PLOT_SERVER
# overrides)
if [ -z "${NSM_PLOT_SERVER:-}" ]; then
	offline=$root/build/offline-nixpkgs
	if [ -f "$offline/default.nix" ]; then pkgs="import $offline { system = \"x86_64-linux\"; }"
	else pkgs="import <nixpkgs> { }"; fi
	if built=$(nix-build --no-out-link -E "import $root/tests/integration/server.nix { pkgs = $pkgs; }" \
		2>"$out/plot-server.log"); then
		export NSM_PLOT_SERVER=$(tail -n 1 <<<"$built")/bin/nix-sandbox-mcp
	fi
fi
if [ -n "${NSM_PLOT_SERVER:-}" ]; then
	emit files files.test.mjs
else
	not_ok "the test server with python-plot builds (see $out/plot-server.log)"
	tail -n 10 "$out/plot-server.log" | sed 's/^/#   /'
fi
# The official conformance suite over --http (its own lock file and Node 22).
while IFS= read -r line; do
	case "$line" in
	"ok "*) n=$((n + 1)); echo "ok $n - conformance: ${line#* - }" ;;
	"not ok "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - conformance: ${line#* - }" ;;
	"1.."*) ;;
	*) echo "$line" ;;
	esac
done < <(bash "$root/tests/conformance/run.sh")
finish
