# tests/lib/tap.sh — sourced by suite runners that run several TAP programs.
# tap_emit NAME ERRFILE CMD…: run CMD, renumber its `ok`/`not ok` lines into
# the caller's sequence (globals n, fail), prefix them with NAME, pass `#`
# lines through, and count as a failure of its own a non-zero exit, or an
# exit 0 without a plan `1..N` matching the test lines CMD printed (it stopped
# early, or lost checks, and still said all is well).
tap_emit() {
	local name=$1 errfile=$2 line ran=0 plan=
	shift 2
	while IFS= read -r line; do
		case "$line" in
		"ok "*) n=$((n + 1)) ran=$((ran + 1)); echo "ok $n - $name: ${line#* - }" ;;
		"not ok "*) n=$((n + 1)) ran=$((ran + 1)) fail=$((fail + 1)); echo "not ok $n - $name: ${line#* - }" ;;
		1..*) plan=${line#1..} plan=${plan%%[!0-9]*} ;;
		"# exit 0")
			if [ "$plan" != "$ran" ]; then
				n=$((n + 1)) fail=$((fail + 1))
				echo "not ok $n - $name: planned ${plan:-none (no 1..N line)}, ran $ran"
			fi ;;
		"# exit "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $name: exited ${line#\# exit }" ;;
		"#"*) echo "$line" ;;
		esac
	done < <("$@" 2>"$errfile"; echo "# exit $?")
}
