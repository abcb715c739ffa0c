#!/usr/bin/env bash
# Benchmark (not a test): size of the built server and its idle resident
# memory after the MCP handshake. Prints a small table.
set -eu
cd "$(dirname "$0")/../.."
bin=${1:-result/bin/nix-sandbox-mcp}
[ -x "$bin" ] || { echo "build first: make" >&2; exit 1; }
size=$(stat -L -c %s "$bin")
closure=$(nix-store -qR "$(readlink -f "$(dirname "$bin")/..")" 2>/dev/null | wc -l || echo "?")
closure_size=$(nix path-info -S "$(readlink -f "$(dirname "$bin")/..")" 2>/dev/null | awk '{print $2}')

fifo=$(mktemp -u)
mkfifo "$fifo"
"$bin" < "$fifo" > /dev/null 2>&1 &
pid=$!
exec 3> "$fifo"
printf '%s\n' \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}' \
	'{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	'{"jsonrpc":"2.0","id":2,"method":"tools/list"}' >&3
sleep 0.5
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
exec 3>&-
wait "$pid" || true
rm -f "$fifo"

printf '| measure | value |\n|---|---|\n'
printf '| stripped static binary | %d bytes (%d KiB) |\n' "$size" $((size / 1024))
printf '| idle resident memory after handshake (VmRSS) | %s KiB |\n' "$rss"
printf '| peak resident memory (VmHWM) | %s KiB |\n' "$hwm"
printf '| store paths in the runtime closure | %s |\n' "$closure"
[ -n "$closure_size" ] && printf '| closure size | %d MiB |\n' $((closure_size / 1048576))
exit 0
