# tests/lib/tap.sh — sourced by suite runners that run several TAP programs.
# tap_emit NAME ERRFILE CMD…: run CMD, renumber its `ok`/`not ok` lines into
# the caller's sequence (globals n, fail), prefix them with NAME, pass `#`
# lines through, and count a non-zero exit as a failure of its own.
tap_emit() {
	local name=$1 errfile=$2 line
	shift 2
	while IFS= read -r line; do
		case "$line" in
		"ok "*) n=$((n + 1)); echo "ok $n - $name: ${line#* - }" ;;
		"not ok "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $name: ${line#* - }" ;;
		"# exit 0") ;;
		"# exit "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $name: exited ${line#\# exit }" ;;
		"#"*) echo "$line" ;;
		esac
	done < <("$@" 2>"$errfile"; echo "# exit $?")
}
