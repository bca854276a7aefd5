# shellcheck shell=bash
# Sourced by the scripts: paths, ccache, and the one kunit.py invocation
# that builds and boots the KUnit kernel (make test, make run, make bench
# and make test-baseline must build the same kernel, or each would rebuild
# the other's).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$ROOT/build
T=$B/linux

# ccache: key objects on paths relative to the build, so that a fresh clone
# elsewhere on the machine may reuse them.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
CCACHE=""
if command -v ccache >/dev/null; then
	CCACHE="ccache "
fi
CC="${CCACHE}gcc"

# kunit_run TREE BUILD_DIR [kunit.py run args]: build TREE's x86_64 KUnit
# kernel if needed (the iopf suite and the benchmark built in) and boot it
# in QEMU with 2 CPUs.  An oops panics the guest and ends QEMU at once.
kunit_run() {
	local tree=$1 build=$2

	shift 2
	mkdir -p "$build"
	(cd "$tree" && ./tools/testing/kunit/kunit.py run --arch=x86_64 \
		--kunitconfig=lib/tests/.kunitconfig --build_dir="$build" \
		--jobs="$(nproc)" --make_options "CC=$CC" --timeout=1800 \
		--kconfig_add=CONFIG_IOPF_BENCH=y --qemu_args="-smp 2" \
		--kernel_args=oops=panic --kernel_args=panic=-1 \
		--raw_output=all "$@")
}
