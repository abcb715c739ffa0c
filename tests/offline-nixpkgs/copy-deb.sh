# Builder of the Debian-copy packages: copy the files of installed Debian
# packages ($debs) into $out with /usr stripped, copy the shared libraries they
# need (and the dynamic loader) into $out/lib/$pname-deps, and patch every ELF so it
# loads only from $out.  Nothing of /usr is needed at run time.
set -eu -o pipefail
export PATH=/usr/bin:/bin:/usr/sbin:/sbin LC_ALL=C
shopt -s nullglob

# The copied libraries and loader go to a directory of their own, so that
# buildEnv/symlinkJoin of several such packages does not see collisions.
deps="$out/lib/$pname-deps"
mkdir -p "$deps"

# rel PATH: /usr/bin/x -> bin/x, /lib/x -> lib/x, /etc/x -> etc/x
rel() { local r=${1#/usr/}; r=${r#/}; printf '%s' "$r"; }

# Keep a path?  $include: if set, only these globs; $exclude: never these.
read -ra excl <<< "${exclude:-}"   # (read: no pathname expansion of the globs)
read -ra incl <<< "${include:-}"
keep() {
    local r=$1 g
    for g in ${excl[@]+"${excl[@]}"}; do [[ $r == $g ]] && return 1; done
    [ "${#incl[@]}" = 0 ] && return 0
    for g in "${incl[@]}"; do [[ $r == $g ]] && return 0; done
    return 1
}

for d in $debs; do dpkg-query -L "$d"; done | sort -u > files.txt
while IFS= read -r f; do
    [ -n "$f" ] && [ "$f" != /. ] || continue
    [ -d "$f" ] && continue   # directories (also merged-usr links like /bin)
    [ -e "$f" ] || [ -L "$f" ] || continue
    r=$(rel "$f")
    keep "$r" || continue
    mkdir -p "$out/$(dirname "$r")"
    if [ -L "$f" ]; then
        t=$(readlink "$f")
        case "$t" in
            /*) if grep -qxF "$t" files.txt && keep "$(rel "$t")"; then
                    ln -sfn "$out/$(rel "$t")" "$out/$r"
                else
                    cp -L --no-preserve=ownership "$f" "$out/$r"
                fi ;;
            *) ln -sfn "$t" "$out/$r" ;;
        esac
    else
        cp --preserve=mode --no-preserve=ownership -f "$f" "$out/$r"
    fi
    # Python bytecode lives beside the sources but is not listed by dpkg.
done < files.txt

# Relative links whose target was left out: copy the host's file instead.
while IFS= read -r -d '' l; do
    [ -e "$l" ] && continue
    r=${l#"$out"/}
    for h in "/usr/$r" "/$r"; do
        if [ -e "$h" ]; then rm -f "$l"; cp -L --no-preserve=ownership "$h" "$l"; break; fi
    done
done < <(find "$out" -type l -print0)

eval "${preFixup:-}"

isElf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Shared libraries needed by every ELF, with the dynamic loader.
: > elves.txt
while IFS= read -r -d '' f; do isElf "$f" && echo "$f" >> elves.txt; done < <(find "$out" -type f -print0)
rpath="$deps"
while IFS= read -r f; do
    ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' || true
done < elves.txt | sort -u > needed.txt
while IFS= read -r lib; do
    r=$(rel "$(dirname "$(readlink -f "$lib")")")
    b=$(basename "$lib")
    if [ -e "$out/$r/$b" ]; then
        case ":$rpath:" in *":$out/$r:"*) ;; *) rpath="$rpath:$out/$r" ;; esac
    elif [ ! -e "$deps/$b" ]; then
        cp -L --no-preserve=ownership "$lib" "$deps/$b"
        chmod u+w "$deps/$b"
        echo "$deps/$b" >> elves.txt
    fi
done < needed.txt
ld=$(ls "$deps"/ld-linux-*.so.* | head -n1)

while IFS= read -r f; do
    case "$(basename "$f")" in ld-linux-*|libc.so.*) continue ;; esac
    chmod u+w "$f"
    if interp=$(patchelf --print-interpreter "$f" 2>/dev/null) && [ -n "$interp" ]; then
        patchelf --set-interpreter "$ld" "$f"
    fi
    if [ -n "$(patchelf --print-needed "$f" 2>/dev/null)" ]; then
        patchelf --set-rpath "$rpath" "$f"
    fi
done < elves.txt

# "#!/usr/bin/X" -> "#!$out/bin/X" when this package has X.
while IFS= read -r -d '' f; do
    [ -x "$f" ] || continue
    IFS= read -r line < "$f" 2>/dev/null || continue
    case "$line" in '#!'/*) ;; *) continue ;; esac
    interp=${line#'#!'}; interp=${interp%% *}
    b=$(basename "$interp")
    if [ -e "$out/bin/$b" ]; then sed -i "1s|^#! *$interp|#!$out/bin/$b|" "$f"; fi
done < <(find "$out" -type f -print0)

eval "${postInstall:-}"

# Multiple outputs (only packages that have them in nixpkgs): split as
# nixpkgs' multiple-outputs hook does; bin/ goes to the bin output (its ELF
# files keep loading their libraries from $out). Outputs the copy leaves
# empty (docs, man pages: not copied) are created empty.
if [ "${outputs:-out}" != out ]; then
    # shellcheck source=multiple-outputs.sh
    . "$multioutSetup"
    _multioutDocs
    _multioutDevs
    moveToOutput bin "${!outputBin}"
    moveToOutput sbin "${!outputBin}"
    for o in $(getAllOutputNames); do mkdir -p "${!o}"; done
    _multioutPropagateDev
fi
