# Builder of the compiler wrappers (like nixpkgs' cc-wrapper): bin/<prefix>cc
# runs the real compiler with $NIX_CFLAGS_COMPILE<suffix> and, when linking,
# $NIX_LDFLAGS<suffix> (plain ld options become -Wl,...).
set -eu
mkdir -p "$out/bin" "$out/nix-support"
mkw() { # name real-compiler
    cat > "$out/bin/$1" <<SH
#!/bin/bash
link=1
for a in "\$@"; do case "\$a" in -c|-S|-E|-M|-MM) link=0 ;; esac; done
ldf=()
if [ \$link = 1 ]; then
    for f in \${NIX_LDFLAGS$roleSuffix:-}; do
        case "\$f" in -L*|-l*|-Wl,*|-static|-shared|-pthread) ldf+=("\$f") ;; *) ldf+=("-Wl,\$f") ;; esac
    done
fi
exec $2 $extraFlags \${NIX_CFLAGS_COMPILE$roleSuffix:-} "\$@" \${ldf[@]+"\${ldf[@]}"}
SH
    chmod +x "$out/bin/$1"
}
for n in $ccNames; do mkw "$n" "$realCC"; done
for n in $cxxNames; do mkw "$n" "$realCXX"; done
for t in ar ranlib strip nm ld objcopy objdump readelf size strings as; do
    ln -s "/usr/bin/$t" "$out/bin/$targetPrefix$t"
done
echo "$realCC" > "$out/nix-support/orig-cc"
