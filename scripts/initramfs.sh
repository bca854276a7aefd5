#!/bin/bash
# Build the demo's initramfs: busybox-static (Debian's) for the shell,
# demo/init as /init and demo/iopf-demo.c built static.
# Usage: initramfs.sh OUT.cpio
set -euo pipefail

. "$(dirname "$0")/lib.sh"
OUT=$1
W=$B/initramfs

rm -rf "$W"
mkdir -p "$W/bin" "$W/proc" "$W/sys" "$W/dev" "$W/tmp"
gcc -static -O2 -Wall -Wextra -Werror -I "$T/lib/tests" \
	-o "$W/iopf-demo" "$ROOT/demo/iopf-demo.c"
cp /bin/busybox "$W/bin/busybox"
cp "$ROOT/demo/init" "$W/init"
chmod +x "$W/init"
(cd "$W" && find . -print0 | sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
