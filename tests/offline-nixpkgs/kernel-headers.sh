# Include dir with linux/, asm/, asm-generic/ for musl-gcc, which does not
# search the glibc-side /usr/include where Debian puts the kernel headers.
set -eu
mkdir -p "$out/include"
for d in linux asm-generic; do ln -s "$linuxDir/$d" "$out/include/$d"; done
ln -s "$asmDir" "$out/include/asm"
