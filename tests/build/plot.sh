# Sourced by tests/build/run.sh (offline package set present): matplotlib in
# the package set and the python-plot preset (presets/python-plot.nix).
#  - python3.withPackages (ps: [ ps.matplotlib ]) builds with what matplotlib
#    propagates, as in nixpkgs, and an unknown module fails as in nixpkgs;
#  - its fonts and rc file are inside the closure (no host path);
#  - the shell and node environments are the same store paths with and
#    without python-plot beside them, and hold no matplotlib, numpy, pillow or
#    freetype; the default python preset has none of them either.

plot_expr="with $pkgs; python3.withPackages (ps: [ ps.matplotlib ])"
if penv=$(nix-build --no-out-link -E "$plot_expr" 2>&1); then
	penv=$(tail -n 1 <<<"$penv")
	ok "python3.withPackages (ps: [ ps.matplotlib ]) builds"
	mods="matplotlib numpy contourpy cycler fontTools kiwisolver packaging PIL pyparsing dateutil six"
	out=$(cd / && "$penv/bin/python3" -c "import sys; [__import__(m) for m in sys.argv[1:]]" $mods 2>&1)
	[ -z "$out" ] && ok "the env imports the modules matplotlib propagates (requiredPythonModules)" \
		|| notok "the env imports the modules matplotlib propagates (requiredPythonModules)" "$out"
	data=$penv/lib/python3/dist-packages/matplotlib/mpl-data
	font=$(readlink -f "$data/fonts/ttf/DejaVuSans.ttf")
	rc=$(readlink -f "$data/matplotlibrc")
	case "$font $rc" in
	/nix/store/*" "/nix/store/*) [ -s "$font" ] && [ -s "$rc" ] && ok "mpl-data's fonts and matplotlibrc are in the store" \
		|| notok "mpl-data's fonts and matplotlibrc are in the store" "$font $rc" ;;
	*) notok "mpl-data's fonts and matplotlibrc are in the store" "$font $rc" ;;
	esac
	host=$(find -L "$penv/lib/python3/dist-packages/matplotlib" -type l 2>/dev/null | head -n 5)
	[ -z "$host" ] && ok "no dangling or host link in matplotlib's files" || notok "no dangling or host link in matplotlib's files" "$host"
else
	notok "python3.withPackages (ps: [ ps.matplotlib ]) builds" "$(tail -n 20 <<<"$penv")"
fi
out=$(nix-instantiate --eval -E "with $pkgs; (python3.withPackages (ps: [ ps.matplotlib ps.no-such-module ])).drvPath" 2>&1)
grep -q "attribute 'no-such-module' missing" <<<"$out" && ok "an unknown Python module fails at evaluation, as in nixpkgs" \
	|| notok "an unknown Python module fails at evaluation, as in nixpkgs" "$out"

# The default server (result, built above) against one with python-plot too.
with_plot='{ environments = { shell = { }; python = { }; node = { }; python-plot = { }; }; }'
if out=$(nix-build --no-out-link -E "(import $root/nix/lib.nix).mkServer { pkgs = $pkgs; config = $with_plot; }" 2>&1); then
	pj=$(tail -n 1 <<<"$out")/share/nix-sandbox-mcp/env.json
	dj=$(readlink -f result)/share/nix-sandbox-mcp/env.json
	closure_of() { jq -r --arg n "$2" '.environments[] | select(.name == $n) | .closure[]' "$1" | sort; }
	for e in shell node python; do
		before=$(closure_of "$dj" "$e"); after=$(closure_of "$pj" "$e")
		[ -n "$before" ] && [ "$before" = "$after" ] && ok "$e: the same closure with python-plot beside it" \
			|| notok "$e: the same closure with python-plot beside it" "$(diff <(echo "$before") <(echo "$after"))"
		bad=$(printf '%s\n' "$before" "$after" | grep -E -- '-(matplotlib|numpy|pillow|freetype|contourpy|fonttools|nsm-plot)' || true)
		[ -z "$bad" ] && ok "$e: no matplotlib, numpy, pillow or freetype in its closure" \
			|| notok "$e: no matplotlib, numpy, pillow or freetype in its closure" "$bad"
	done
	plot=$(closure_of "$pj" python-plot)
	has=$(grep -cE -- '-(matplotlib|numpy|pillow)-|-nsm-plot-backend$' <<<"$plot")
	[ "$has" = 4 ] && ok "python-plot: matplotlib, numpy, pillow and the backend in its closure" \
		|| notok "python-plot: matplotlib, numpy, pillow and the backend in its closure" "$plot"
	# The figures quoted in README.md ("Plots") come from this line.
	jq -r '.environments[] | select(.name == "python" or .name == "python-plot") | "# \(.name): \(.closure | length) store paths"' "$pj"
else
	notok "a server with python-plot builds" "$(tail -n 20 <<<"$out")"
fi
