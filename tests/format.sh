#!/usr/bin/env bash
# The C format check: every C file of the tree (git ls-files *.c *.h, the
# generated env_table.gen.h headers excepted) matches .clang-format. Prints
# one TAP line per file that does not, with the first lines of the diff, and
# one line for the whole; sourced by tests/unit/run.sh (n and fail are its).
# Fix with: clang-format -i $(git ls-files '*.c' '*.h' | grep -v 'gen\.h$')
format_check() {
	local cf bad=0 files f
	cf=$(command -v clang-format-14 || command -v clang-format)
	n=$((n + 1))
	if [ -z "$cf" ]; then
		fail=$((fail + 1)); echo "not ok $n - clang-format is installed (tests/setup.sh installs Debian's clang-format)"
		return
	fi
	if ! files=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -v 'gen\.h$'); then
		echo "ok $n - every C file matches .clang-format # SKIP not a git checkout"
		return
	fi
	for f in $files; do
		if ! "$cf" --style=file "$f" | diff -u "$f" - > build/unit/format.diff 2>&1; then
			bad=$((bad + 1))
			[ "$bad" -le 5 ] && { echo "#   $f differs from .clang-format:"; sed -n '3,12p' build/unit/format.diff | sed 's/^/#   /'; }
		fi
	done
	if [ "$bad" -eq 0 ]; then
		echo "ok $n - every C file ($(wc -w <<<"$files")) matches .clang-format ($("$cf" --version | grep -o 'version [0-9.]*'))"
	else
		fail=$((fail + 1)); echo "not ok $n - $bad C file(s) do not match .clang-format (clang-format -i them)"
	fi
}
