#!/usr/bin/env bash
# The README's shell blocks marked `<!-- runnable -->` (the line before the
# fence) run as written, from the repository's root, each in a fresh bash
# with -e: a newcomer's copy and paste works on a machine set up by
# `make check`. Sourced by tests/build/run.sh (uses ok/notok and $root).
rd_work=$(mktemp -d /tmp/nsm-readme.XXXXXX)
awk -v dir="$rd_work" '
	/^<!-- runnable -->$/ { want = 1; next }
	want && /^```/ { inb = 1; want = 0; k++; f = sprintf("%s/block-%d.sh", dir, k); printf "" > f; next }
	inb && /^```/ { inb = 0; close(f); next }
	inb { print >> f }
	{ want = 0 }' "$root/README.md"
blocks=$(ls "$rd_work"/block-*.sh 2>/dev/null | wc -l)
[ "$blocks" -ge 1 ] && ok "README: $blocks block(s) marked runnable" || notok "README: no block marked runnable"
for b in "$rd_work"/block-*.sh; do
	[ -f "$b" ] || continue
	name=$(head -n 1 "$b")
	if out=$(cd "$root" && bash -e "$b" 2>&1); then ok "README runnable block runs as written: $name"
	else notok "README runnable block runs as written: $name" "$(tail -n 20 <<<"$out")"; fi
done
rm -rf "$rd_work" /tmp/nsm-readme-calc
