# Generic builder of the offline package set: a small subset of nixpkgs'
# stdenv/generic/setup.sh with the same phase names, hooks and defaults.
# Sourced by builder.sh (plain derivations) and by the trivial builders.
set -eu -o pipefail
shopt -s nullglob

if [ -e "${NIX_BUILD_TOP:-.}/.attrs.sh" ]; then
    # __structuredAttrs: Nix 2.8 writes .attrs.sh / .attrs.json here.
    . "$NIX_BUILD_TOP/.attrs.sh"
    export NIX_ATTRS_JSON_FILE="$NIX_BUILD_TOP/.attrs.json"
    export NIX_ATTRS_SH_FILE="$NIX_BUILD_TOP/.attrs.sh"
    # shellcheck disable=SC2154
    for _o in "${!outputs[@]}"; do eval "$_o=\${outputs[\$_o]}"; export "${_o?}"; done
    unset _o
    # Lists arrive as bash arrays; the phases below expect words.
    for _v in nativeBuildInputs buildInputs propagatedBuildInputs propagatedNativeBuildInputs _stdenvInputs srcs patches \
              configureFlags makeFlags buildFlags installFlags checkFlags; do
        if declare -p "$_v" >/dev/null 2>&1; then
            eval "_t=\"\${$_v[*]}\""; unset "$_v"; eval "$_v=\$_t"; export "${_v?}"
        fi
    done
    unset _v _t
fi

: "${NIX_BUILD_CORES:=1}"
[ "$NIX_BUILD_CORES" -gt 0 ] 2>/dev/null || NIX_BUILD_CORES=$(nproc)
export NIX_BUILD_CORES
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-315532800}
export HOME=/homeless-shelter
export TZ=UTC LC_ALL=C
export SHELL=/bin/bash CONFIG_SHELL=/bin/bash

# PATH: the inputs' bin/, the compiler wrapper, then the host.
# Like nixpkgs: an input's include/ and lib/ go to the compiler flags of its
# platform (buildInputs -> NIX_CFLAGS_COMPILE / NIX_LDFLAGS; in a cross/static
# stdenv nativeBuildInputs -> the *_FOR_BUILD variables read by the build cc).
_path=""
_cflags=""; _ldflags=""; _cflagsB=""; _ldflagsB=""
_pkgconfig=""
_addInput() { # dir role(host|build|none)
    local p=$1
    [ -d "$p/bin" ] && _path="${_path:+$_path:}$p/bin"
    case "$2" in
        host)
            [ -d "$p/include" ] && _cflags="$_cflags -isystem $p/include"
            [ -d "$p/lib" ] && _ldflags="$_ldflags -L$p/lib"
            [ -d "$p/lib/pkgconfig" ] && _pkgconfig="${_pkgconfig:+$_pkgconfig:}$p/lib/pkgconfig"
            [ -d "$p/share/pkgconfig" ] && _pkgconfig="${_pkgconfig:+$_pkgconfig:}$p/share/pkgconfig" ;;
        build)
            [ -d "$p/include" ] && _cflagsB="$_cflagsB -isystem $p/include"
            [ -d "$p/lib" ] && _ldflagsB="$_ldflagsB -L$p/lib" ;;
    esac
    return 0
}
# Like findInputs in nixpkgs' pkgs/stdenv/generic/setup.sh: an input's
# nix-support/propagated-build-inputs are inputs too, recursively.
_seen=" "
_findInputs() { # dir role
    local p=$1 q
    case "$_seen" in *" $p:$2 "*) return 0 ;; esac
    _seen="$_seen$p:$2 "
    _addInput "$p" "$2"
    if [ -f "$p/nix-support/propagated-build-inputs" ]; then
        for q in $(< "$p/nix-support/propagated-build-inputs"); do _findInputs "$q" "$2"; done
    fi
    if [ -f "$p/nix-support/propagated-native-build-inputs" ]; then
        for q in $(< "$p/nix-support/propagated-native-build-inputs"); do _findInputs "$q" "${_nativeRole:-host}"; done
    fi
    return 0
}
for _p in ${nativeBuildInputs:-}; do _findInputs "$_p" "${_nativeRole:-host}"; done
for _p in ${buildInputs:-} ${propagatedBuildInputs:-}; do _findInputs "$_p" host; done
for _p in ${_stdenvInputs:-}; do _addInput "$_p" none; done
export PATH="${_path:+$_path:}/usr/bin:/bin:/usr/sbin:/sbin"
export NIX_CFLAGS_COMPILE="${_cflags# } ${NIX_CFLAGS_COMPILE:-}"
export NIX_LDFLAGS="${_ldflags# } ${NIX_LDFLAGS:-}"
export NIX_CFLAGS_COMPILE_FOR_BUILD="${_cflagsB# } ${NIX_CFLAGS_COMPILE_FOR_BUILD:-}"
export NIX_LDFLAGS_FOR_BUILD="${_ldflagsB# } ${NIX_LDFLAGS_FOR_BUILD:-}"
if [ -n "$_pkgconfig" ]; then export PKG_CONFIG_PATH="$_pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"; fi
unset _p _path _cflags _ldflags _cflagsB _ldflagsB _pkgconfig _seen

# shellcheck source=multiple-outputs.sh
. "$multioutSetup"

runHook() {
    local hook=$1 v
    v=${!hook:-}
    [ -n "$v" ] && eval "$v"
    return 0
}

# Run a phase by name: its attribute (if set) overrides the default function.
runPhase() {
    local phase=$1
    echo "@ $phase"
    if [ -n "${!phase:-}" ]; then eval "${!phase}"; else "$phase"; fi
}

unpackPhase() {
    runHook preUnpack
    if [ -z "${src:-}" ] && [ -z "${srcs:-}" ]; then
        echo "no src"; exit 1
    fi
    local s
    for s in ${src:-} ${srcs:-}; do
        local dest
        dest=$(stripHash "$s")
        if [ -d "$s" ]; then
            cp -r --preserve=mode --no-preserve=ownership "$s" "$dest"
        else
            case "$s" in
                *.tar*|*.tgz|*.tbz2|*.txz) tar xf "$s" ;;
                *.zip) unzip -q "$s" ;;
                *) cp --preserve=mode --no-preserve=ownership "$s" "$dest" ;;
            esac
        fi
    done
    if [ -z "${sourceRoot:-}" ]; then
        local dirs=()
        for s in */; do dirs+=("${s%/}"); done
        if [ "${#dirs[@]}" -eq 1 ]; then sourceRoot=${dirs[0]}; else sourceRoot=.; fi
    fi
    chmod -R u+w -- "$sourceRoot"
    cd "$sourceRoot"
    runHook postUnpack
}

stripHash() { local b; b=$(basename "$1"); if [[ $b =~ ^[a-z0-9]{32}- ]]; then echo "${b:33}"; else echo "$b"; fi; }

patchPhase() {
    runHook prePatch
    local p
    for p in ${patches:-}; do
        echo "applying patch $p"
        case "$p" in
            *.gz) gzip -dc "$p" ;; *.xz) xz -dc "$p" ;; *) cat "$p" ;;
        esac | patch ${patchFlags:--p1}
    done
    runHook postPatch
}

configurePhase() {
    runHook preConfigure
    : "${configureScript:=}"
    if [ -z "$configureScript" ] && [ -x ./configure ]; then configureScript=./configure; fi
    if [ -n "$configureScript" ]; then
        # shellcheck disable=SC2086
        $configureScript --prefix="$prefix" $(_multioutConfigureFlags) ${configureFlags:-}
    else
        echo "no configure script, doing nothing"
    fi
    runHook postConfigure
}

_makeJobs() { [ -n "${enableParallelBuilding:-}" ] && echo "-j$NIX_BUILD_CORES"; return 0; }

buildPhase() {
    runHook preBuild
    if [ -z "${makeFlags:-}" ] && [ -z "${makefile:-}" ] && ! [ -e Makefile ] && ! [ -e makefile ] && ! [ -e GNUmakefile ]; then
        echo "no Makefile or custom buildPhase, doing nothing"
    else
        # shellcheck disable=SC2086
        make ${makefile:+-f $makefile} $(_makeJobs) SHELL="$SHELL" ${makeFlags:-} ${buildFlags:-}
    fi
    runHook postBuild
}

checkPhase() {
    runHook preCheck
    if [ -z "${checkTarget:-}" ]; then
        if make -n ${makefile:+-f $makefile} check >/dev/null 2>&1; then checkTarget=check
        elif make -n ${makefile:+-f $makefile} test >/dev/null 2>&1; then checkTarget=test; fi
    fi
    if [ -z "${checkTarget:-}" ]; then
        echo "no check/test target, doing nothing"
    else
        # shellcheck disable=SC2086
        make ${makefile:+-f $makefile} $(_makeJobs) SHELL="$SHELL" ${makeFlags:-} ${checkFlags:-} $checkTarget
    fi
    runHook postCheck
}

installPhase() {
    runHook preInstall
    mkdir -p "$prefix"
    # shellcheck disable=SC2086
    make ${makefile:+-f $makefile} SHELL="$SHELL" ${makeFlags:-} ${installFlags:-} ${installTargets:-install}
    runHook postInstall
}

# Rewrite "#!/usr/bin/env prog" and "#!/abs/prog" to a store path found on PATH.
patchShebangs() {
    local f line interp args prog new
    while IFS= read -r -d '' f; do
        [ -x "$f" ] || continue
        IFS= read -r line < "$f" 2>/dev/null || continue
        [[ $line == '#!'* ]] || continue
        line=${line#'#!'}; line=${line# }
        interp=${line%% *}; args=""; [[ $line == *' '* ]] && args=" ${line#* }"
        [[ $interp == /nix/store/* ]] && continue
        if [ "$(basename "$interp")" = env ] && [ -n "$args" ]; then
            args=${args# }; prog=${args%% *}; args=""; [[ ${line#* } == *' '* ]] && args=" ${line#* * }"
        else
            prog=$(basename "$interp")
        fi
        new=$(type -P "$prog" || true)
        [[ $new == /nix/store/* ]] || continue
        echo "patching script interpreter of $f: $interp -> $new"
        sed -i "1s|.*|#!$new$args|" "$f"
    done < <(find "$@" -type f -print0)
}

# As nixpkgs' fixupPhase (pkgs/stdenv/generic/setup.sh): the multiple-output
# moves (preFixupHooks), strip and patchShebangs in every output, then
# propagatedBuildInputs written to the dev output's
# nix-support/propagated-build-inputs (a runtime reference of that output),
# then the dev output's propagation of its sibling outputs (postFixupHooks,
# which run before the postFixup attribute).
fixupPhase() {
    local output dir
    _multioutDocs
    _multioutDevs
    runHook preFixup
    for output in $(getAllOutputNames); do
        dir=${!output}
        if [ -z "${dontStrip:-}" ] && [ -d "$dir" ]; then
            local d f
            for d in bin sbin lib lib32 lib64 libexec; do
                [ -d "$dir/$d" ] || continue
                while IFS= read -r -d '' f; do
                    case "$(head -c4 "$f" | od -An -c | tr -d ' ')" in
                        '177ELF') $STRIP ${stripFlags:--S} "$f" 2>/dev/null || true ;;
                        '!<ar') $STRIP ${stripFlags:--S} "$f" 2>/dev/null || true ;;
                    esac
                done < <(find "$dir/$d" -type f -print0)
            done
        fi
        if [ -z "${dontPatchShebangs:-}" ] && [ -d "$dir" ]; then patchShebangs "$dir"; fi
    done
    if [ -n "${propagatedBuildInputs:-}" ]; then
        mkdir -p "${!outputDev}/nix-support"
        # shellcheck disable=SC2086
        echo $propagatedBuildInputs > "${!outputDev}/nix-support/propagated-build-inputs"
    fi
    if [ -n "${propagatedNativeBuildInputs:-}" ]; then
        mkdir -p "${!outputDev}/nix-support"
        # shellcheck disable=SC2086
        echo $propagatedNativeBuildInputs > "${!outputDev}/nix-support/propagated-native-build-inputs"
    fi
    _multioutPropagateDev
    runHook postFixup
}

installCheckPhase() {
    runHook preInstallCheck
    if [ -n "${installCheckTarget:-}" ]; then make $installCheckTarget; fi
    runHook postInstallCheck
}

genericBuild() {
    if [ -f "${buildCommandPath:-}" ]; then . "$buildCommandPath"; return; fi
    if [ -n "${buildCommand:-}" ]; then eval "$buildCommand"; return; fi
    local phases_ curPhase
    phases_=${phases:-"${prePhases:-} unpackPhase patchPhase ${preConfigurePhases:-} configurePhase ${preBuildPhases:-} buildPhase checkPhase ${preInstallPhases:-} installPhase ${preFixupPhases:-} fixupPhase installCheckPhase ${preDistPhases:-} ${postPhases:-}"}
    for curPhase in $phases_; do
        case "$curPhase" in
            unpackPhase) [ -n "${dontUnpack:-}" ] && continue ;;
            configurePhase) [ -n "${dontConfigure:-}" ] && continue ;;
            buildPhase) [ -n "${dontBuild:-}" ] && continue ;;
            checkPhase) [ -n "${doCheck:-}" ] || continue ;;
            installPhase) [ -n "${dontInstall:-}" ] && continue ;;
            fixupPhase) [ -n "${dontFixup:-}" ] && continue ;;
            installCheckPhase) [ -n "${doInstallCheck:-}" ] || continue ;;
        esac
        runPhase "$curPhase"
    done
}

: "${prefix:=${out:-}}"
: "${STRIP:=strip}"
