# Multiple outputs, as nixpkgs' pkgs/build-support/setup-hooks/multiple-outputs.sh
# does them (sourced by setup.sh and copy-deb.sh): the output variables
# (outputDev, outputBin, outputLib, …) with nixpkgs' defaults, configure flags
# that send each kind of file to its output, moveToOutput, and the dev
# output's nix-support/propagated-build-inputs naming the bin, include and lib
# outputs. Like nixpkgs, an output the build leaves empty is an error of Nix
# ("failed to produce output path"): nothing here creates it.

getAllOutputNames() {
    if [[ "$(declare -p outputs 2>/dev/null)" == "declare -A"* ]]; then
        echo "${!outputs[@]}"
    else
        echo "${outputs:-out}"
    fi
}

# _assignFirst VAR CANDIDATE…: VAR = the first candidate naming a set variable.
_assignFirst() {
    local varName=$1 var
    shift
    for var in "$@"; do
        if [ -n "${!var-}" ]; then eval "$varName=$var"; return 0; fi
    done
    echo "error: _assignFirst: none of $* is an output for $varName" >&2
    return 1
}
_overrideFirst() { if [ -z "${!1-}" ]; then _assignFirst "$@"; fi; }

_overrideFirst outputDev dev out
_overrideFirst outputBin bin out
_overrideFirst outputInclude "$outputDev"
_overrideFirst outputLib lib out
_overrideFirst outputDoc doc out
_overrideFirst outputMan man "$outputBin"
_overrideFirst outputInfo info "$outputBin"
_overrideFirst outputDevman devman devdoc "$outputMan"

_multioutConfigureFlags() {
    [ "$(getAllOutputNames)" = out ] && return 0
    echo "--bindir=${!outputBin}/bin --sbindir=${!outputBin}/sbin" \
        "--includedir=${!outputInclude}/include --oldincludedir=${!outputInclude}/include" \
        "--mandir=${!outputMan}/share/man --infodir=${!outputInfo}/share/info" \
        "--docdir=${!outputDoc}/share/doc --libdir=${!outputLib}/lib" \
        "--libexecdir=${!outputLib}/libexec --localedir=${!outputLib}/share/locale"
}

# moveToOutput GLOB DEST: move GLOB (relative to each other output) to DEST.
moveToOutput() {
    local patt=$1 dstOut=$2 output srcPath dstPath
    for output in $(getAllOutputNames); do
        [ "${!output}" = "$dstOut" ] && continue
        for srcPath in "${!output}"/$patt; do
            [ -e "$srcPath" ] || [ -L "$srcPath" ] || continue
            dstPath="$dstOut${srcPath#"${!output}"}"
            if [ -d "$dstPath" ] && [ -d "$srcPath" ]; then
                rmdir "$srcPath" --ignore-fail-on-non-empty
                if [ -d "$srcPath" ]; then mv -t "$dstPath" "$srcPath"/*; rmdir "$srcPath"; fi
            else
                mkdir -p "$(readlink -m "$dstPath/..")"
                mv "$srcPath" "$dstPath"
            fi
            rmdir -p --ignore-fail-on-non-empty "$(readlink -m "$srcPath/..")" 2>/dev/null || true
        done
    done
}

_multioutDocs() {
    moveToOutput share/info "${!outputInfo}"
    moveToOutput share/doc "${!outputDoc}"
    moveToOutput share/man "${!outputMan}"
    # Then section 3 (the C API), for developers: devman, else devdoc.
    moveToOutput share/man/man3 "${!outputDevman}"
}

_multioutDevs() {
    [ "$(getAllOutputNames)" = out ] && return 0
    moveToOutput include "${!outputInclude}"
    moveToOutput lib/pkgconfig "${!outputDev}"
    moveToOutput share/pkgconfig "${!outputDev}"
    moveToOutput lib/cmake "${!outputDev}"
    moveToOutput share/aclocal "${!outputDev}"
}

# The dev output propagates the bin, include and lib outputs (those that are
# not itself): a package that takes pkg.dev as an input also gets them.
_multioutPropagateDev() {
    [ "$(getAllOutputNames)" = out ] && return 0
    local po output
    po=$(echo "$outputBin $outputInclude $outputLib" | tr -s ' ' '\n' | grep -v -F "$outputDev" | sort -u | tr '\n' ' ' || true)
    [ -n "$po" ] || return 0
    mkdir -p "${!outputDev}/nix-support"
    for output in $po; do
        echo -n " ${!output}" >> "${!outputDev}/nix-support/propagated-build-inputs"
    done
}
