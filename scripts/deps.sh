#!/bin/bash
# Install the Debian packages the project needs, when missing.
# Run as root on Debian 12; a no-op when everything is there.
set -euo pipefail

PKGS="linux-source-6.1 qemu-system-x86 qemu-system-arm qemu-system-data gcc make flex bison
libelf-dev libssl-dev bc cpio kmod rsync xz-utils sparse gcc-aarch64-linux-gnu
python3 python3-sphinx libc6-dev linux-libc-dev python3-sphinx-rtd-theme ccache git perl busybox-static
gnuplot-nox graphviz"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: must run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
