#!/usr/bin/env bash
# Machine setup for building and testing nix-sandbox-mcp offline, as root on a
# fresh Debian 12 (the only network is Debian's archive and npm):
#   1. install the Debian packages that builds and tests need (Nix 2.8 included);
#   2. configure Nix for a daemon-less, cache-less, flake-enabled local store;
#   3. fetch and unpack the Debian sources of cJSON, libseccomp and libmicrohttpd;
#   4. assemble build/offline-nixpkgs/ = tests/offline-nixpkgs/ + host.nix
#      (versions of the host packages it copies) + those sources.
# Idempotent; a re-run that finds everything in place takes about a second.
#   usage: tests/setup.sh          env: SETUP_CACHE (default /var/cache/nix-sandbox-mcp)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
set_src=$here/offline-nixpkgs
dest=$repo/build/offline-nixpkgs
cache=${SETUP_CACHE:-/var/cache/nix-sandbox-mcp}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and /etc/nix need it)"

# ---- 1. Debian packages -----------------------------------------------------
pkgs=(nix-bin musl-tools musl-dev patchelf gperf dpkg-dev bubblewrap python3 python3-yaml python3-matplotlib
      jq curl openssl tree bc file gawk diffutils findutils grep sed coreutils bash gcc g++ make clang clang-format
      valgrind iproute2 linux-libc-dev libc6-dev git xz-utils patch ca-certificates
      libcjson-dev libseccomp-dev libmicrohttpd-dev haproxy binutils procps libclang-rt-14-dev
      systemd)
# Keep an installed `nodejs` (e.g. nodesource's): only install Debian's if none.
if ! dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q 'ok installed'; then
    pkgs+=(nodejs)
fi

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed'; }
apt_updated=0
apt_update() {
    # Refresh the lists at most once per run, and not at all when they are fresh.
    if [ "$apt_updated" = 0 ] && { [ "${1:-}" = force ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 2>/dev/null | head -n1)" ]; }; then
        log "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}
missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    apt_update
    log "installing: ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. Nix configuration ---------------------------------------------------
mkdir -p /etc/nix
registry=/etc/nix/empty-flake-registry.json
want_registry='{"version":2,"flakes":[]}'
[ "$(cat "$registry" 2>/dev/null)" = "$want_registry" ] || printf '%s\n' "$want_registry" > "$registry"
want_conf="# written by nix-sandbox-mcp tests/setup.sh: no daemon, no build users,
# no sandbox (builders read the host's Debian files), no binary cache (offline).
build-users-group =
sandbox = false
substituters =
experimental-features = nix-command flakes
flake-registry = $registry"
if [ "$(cat /etc/nix/nix.conf 2>/dev/null)" != "$want_conf" ]; then
    log "writing /etc/nix/nix.conf"
    printf '%s\n' "$want_conf" > /etc/nix/nix.conf
fi
mkdir -p /nix/var/nix/gcroots/per-user/root /nix/var/nix/profiles/per-user/root

# ---- 3. Debian sources of cJSON, libseccomp and libmicrohttpd ---------------
has_deb_src() {
    grep -rqsE '^[[:space:]]*deb-src[[:space:]]|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_deb_src; then
    log "adding deb-src entries"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            > /etc/apt/sources.list.d/nix-sandbox-mcp-src.sources
    elif [ -f /etc/apt/sources.list ]; then
        sed -nE 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list \
            > /etc/apt/sources.list.d/nix-sandbox-mcp-src.list
    else
        die "no apt sources found to derive a deb-src entry from"
    fi
    apt_update force
fi

mkdir -p "$cache/debsrc"
# The static libraries the server links (nix/server.nix), built from source.
static_srcs="cjson libseccomp libmicrohttpd"
src_dir() { # package -> newest extracted source dir in the cache
    find "$cache/debsrc" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | sort -V | tail -n1
}
for p in $static_srcs; do
    [ -n "$(src_dir "$p")" ] && continue
    if ! (cd "$cache/debsrc" && apt-get source --download-only -qq "$p" >/dev/null 2>&1); then
        apt_update force
        (cd "$cache/debsrc" && apt-get source --download-only -qq "$p" >/dev/null) || die "apt-get source $p failed"
    fi
    dsc=$(find "$cache/debsrc" -maxdepth 1 -name "${p}_*.dsc" | sort -V | tail -n1)
    [ -n "$dsc" ] || die "no .dsc for $p"
    log "unpacking $(basename "$dsc")"
    (cd "$cache/debsrc" && dpkg-source -q -x "$(basename "$dsc")" >/dev/null 2>&1)
done

# ---- 4. host.nix and build/offline-nixpkgs ----------------------------------
multiarch=$(gcc -print-multiarch)
debs=$(nix-instantiate --eval --strict --json -E "builtins.concatLists (builtins.attrValues (import $set_src/debian-packages.nix))" \
       | jq -r '.[]' | sort -u | tr '\n' ' ')
extra_debs="libc6 linux-libc-dev gcc musl-tools"
ver() { dpkg-query -W -f='${Version}' "$1"; }

# Key: the versions of every listed package; unchanged key -> reuse host.nix.
key=$( { for d in $debs $extra_debs; do printf '%s=%s\n' "$d" "$(ver "$d")"; done
         cat "$set_src/debian-packages.nix"; echo "sources: $static_srcs"; } | sha256sum | cut -c1-32)
host_nix=$cache/host-$key.nix
if [ ! -s "$host_nix" ]; then
    log "computing host.nix (versions and shared-library packages)"
    owner_of() { # lib paths on stdin -> owning Debian packages
        local l paths=()
        while IFS= read -r l; do
            paths+=("$l" "$(readlink -f "$l")")
            case "$l" in /usr/*) paths+=("${l#/usr}") ;; *) paths+=("/usr$l") ;; esac
        done
        [ "${#paths[@]}" -gt 0 ] || return 0
        dpkg-query -S "${paths[@]}" 2>/dev/null | sed -E 's/:.*//; s/, /\n/g' | sed 's/:.*//' | sort -u || true
    }
    tmp=$(mktemp)
    {
        echo "# generated by tests/setup.sh from the host's dpkg database; DO NOT EDIT"
        echo "{"
        echo "  multiarch = \"$multiarch\";"
        echo "  kernelHeaders = { linux = \"/usr/include\"; asm = \"/usr/include/$multiarch/asm\"; };"
        echo "  versions = {"
        for d in $debs $extra_debs; do printf '    "%s" = "%s";\n' "$d" "$(ver "$d")"; done
        libdebs=""
        libs_block=""
        for d in $debs; do
            owners=$(dpkg-query -L "$d" | while IFS= read -r f; do
                         [ -f "$f" ] && [ ! -L "$f" ] || continue
                         [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
                         ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' || true
                     done | sort -u | owner_of | grep -vxF "$d" || true)
            libdebs="$libdebs $owners"
            libs_block="$libs_block    \"$d\" = [$(for o in $owners; do printf ' "%s"' "$o"; done) ];\n"
        done
        for o in $(printf '%s\n' $libdebs | sort -u); do
            case " $debs $extra_debs " in *" $o "*) continue ;; esac
            printf '    "%s" = "%s";\n' "$o" "$(ver "$o")"
        done
        echo "  };"
        echo "  libs = {"
        printf "%b" "$libs_block"
        echo "  };"
        echo "  sources = {"
        for p in $static_srcs; do
            dir=$(src_dir "$p")
            v=$(dpkg-parsechangelog -l "$dir/debian/changelog" -S Version)
            printf '    %s = { version = "%s"; };\n' "$p" "$v"
        done
        echo "  };"
        echo "}"
    } > "$tmp"
    nix-instantiate --parse "$tmp" >/dev/null || die "generated host.nix does not parse: $tmp"
    mv "$tmp" "$host_nix"
fi

# Assemble the set (copied, not linked: a path: flake input must be self-contained).
stage=$(mktemp -d "$repo/build/.offline-nixpkgs.XXXXXX" 2>/dev/null || { mkdir -p "$repo/build"; mktemp -d "$repo/build/.offline-nixpkgs.XXXXXX"; })
cp -r "$set_src/." "$stage/"
cp "$host_nix" "$stage/host.nix"
mkdir -p "$stage/sources"
for p in $static_srcs; do
    cp -r "$(src_dir "$p")" "$stage/sources/$p"
    rm -rf "$stage/sources/$p/.pc"
done
if [ -d "$dest" ] && diff -rq "$stage" "$dest" >/dev/null 2>&1; then
    rm -rf "$stage"
else
    rm -rf "$dest"
    mv "$stage" "$dest"
    log "assembled $dest"
fi
