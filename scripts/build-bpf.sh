#!/usr/bin/env bash
# Builds src/native/bpf/sysflow.bpf.o from its source with Debian's clang (bookworm: clang 14, libbpf-dev 1.1.2),
# reproducibly: the same source and packages give the same bytes from any directory (-fdebug-prefix-map), and the
# object keeps its BTF (.BTF, .BTF.ext: CO-RE needs them) but no DWARF (llvm-strip -g). CI rebuilds it and fails
# when it differs from the committed one.  Usage: scripts/build-bpf.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
src=src/native/bpf
out=${1:-$src/sysflow.bpf.o}
for t in clang llvm-strip; do
  command -v "$t" >/dev/null || { echo "build-bpf: $t not found (apt-get install -y clang llvm libbpf-dev)" >&2; exit 1; }
done
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "build-bpf: libbpf headers not found (apt-get install -y libbpf-dev)" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -fdebug-prefix-map="$PWD"=. -fno-ident \
  -Wall -Werror -Wno-unused-function -I"$src" -c "$src/sysflow.bpf.c" -o "$tmp"
llvm-strip -g "$tmp"
cp "$tmp" "$out"
echo "build-bpf: $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-16))"
