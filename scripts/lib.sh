# shellcheck shell=bash
# Sourced by the scripts: paths, ccache, and the one kunit.py invocation
# that builds and boots the KUnit kernel (make test, make run, make bench
# and make test-baseline must build the same kernel, or each would rebuild
# the other's).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$ROOT/build
T=$B/linux

# iopf_identity: print "Name <email>" from git's user.name and user.email
# (as git format-patch -s signs off, and as git writes it in a commit), or
# fail if either is unset.
IOPF_NO_IDENTITY="no git identity <no-identity@invalid>"
iopf_identity() {
	local name email
	name=$(git -C "$ROOT" config user.name) || return 1
	email=$(git -C "$ROOT" config user.email) || return 1
	[ -n "$name" ] && [ -n "$email" ] || return 1
	git -C "$ROOT" -c user.name="$name" -c user.email="$email" \
		var GIT_COMMITTER_IDENT | sed 's/ [0-9]* [-+][0-9]*$//'
}

# iopf_tree_identity: the identity make tree assembles the series as: git's,
# or, without one, IOPF_NO_IDENTITY (with a warning on stderr; make series
# refuses to export that).
iopf_tree_identity() {
	if ! iopf_identity; then
		echo "tree: no git identity (git config user.name / user.email):" \
		     "commits are by '$IOPF_NO_IDENTITY', make series will refuse" >&2
		echo "$IOPF_NO_IDENTITY"
	fi
}

# The patch queue: patches/NNNN-*.patch, one git format-patch file per
# commit, applied in the order of patches/series (quilt's format: one file
# name a line, # comments).  The files hold IOPF_PLACEHOLDER where the
# identity assembling the series goes (From:, Signed-off-by:, MAINTAINERS'
# M: line), and every commit has the date IOPF_DATE (author and
# committer), so that make tree gives the same commits wherever it runs.
Q=$ROOT/patches
# shellcheck disable=SC2034
IOPF_PLACEHOLDER="@IOPF_IDENTITY@"
# shellcheck disable=SC2034
IOPF_DATE="2026-11-23T12:00:00Z"

# iopf_fill IDENTITY < PATCH: PATCH with IDENTITY in place of the
# placeholder, as make tree applies the queue.
iopf_fill() {
	sed "s|$IOPF_PLACEHOLDER|$(printf '%s' "$1" | sed 's/[&|\\]/\\&/g')|g"
}

# iopf_list FILE: FILE's lines without comments, blanks and the spaces
# around them.
iopf_list() {
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
		-e '/^$/d' "$1"
}

# iopf_queue: the patch files of patches/series, in order, one a line.
iopf_queue() {
	iopf_list "$Q/series" | sed 's/[[:space:]].*//'
}

# The identity build/linux was assembled as (make tree records it), else
# the one make tree would use now.
iopf_assembled_identity() {
	if [ -s "$B/.series-identity" ]; then
		cat "$B/.series-identity"
	else
		iopf_tree_identity
	fi
}

# iopf_git_as "Name <email>": commit (author and committer) as that.
iopf_git_as() {
	local email=${1##*<}

	export GIT_AUTHOR_NAME=${1% <*} GIT_AUTHOR_EMAIL=${email%>}
	export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
	export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
}

# ccache: key objects on paths relative to the build, so that a fresh clone
# elsewhere on the machine may reuse them.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
CCACHE=""
if command -v ccache >/dev/null; then
	CCACHE="ccache "
fi
CC="${CCACHE}gcc"

# The architecture of the KUnit kernel: x86_64 (VT-d) or arm64 (SMMUv3).
KUNIT_ARCH=${KUNIT_ARCH:-x86_64}
case $KUNIT_ARCH in
arm64)	CROSS=aarch64-linux-gnu-; CC="${CCACHE}${CROSS}gcc" ;;
*)	CROSS="" ;;
esac

# arm64 has no VT-d: its kunitconfig is lib/tests/.kunitconfig without the
# Intel options, with the SMMUv3 SVA driver instead, and tracing (for the
# iopf_observe suite's trace cases).
arm64_kunitconfig() {
	mkdir -p "$B"
	{
		grep -v -e '^CONFIG_INTEL_IOMMU' "$T/lib/tests/.kunitconfig"
		echo CONFIG_ARM_SMMU_V3=y
		echo CONFIG_ARM_SMMU_V3_SVA=y
		# x86_64's configuration has tracepoints; arm64's needs a tracer
		echo CONFIG_FTRACE=y
		echo CONFIG_ENABLE_DEFAULT_TRACERS=y
	} > "$B/arm64.kunitconfig"
	echo "$B/arm64.kunitconfig"
}

# The KUnit kernel's configuration: lib/tests/.kunitconfig (SMP), with the
# boot-time benchmark built in (not run unless asked), plus $KCONFIG_ADD
# (kunit.py --kconfig_add options: make test-debug, make test-kcsan, the
# debugfs-off kernel).
kunit_opts() {
	local build=$1 o

	if [ "$KUNIT_ARCH" = arm64 ]; then
		echo --arch=arm64 --cross_compile="$CROSS"
		echo --kunitconfig="$(arm64_kunitconfig)"
	else
		echo --arch=x86_64 --kunitconfig=lib/tests/.kunitconfig
	fi
	echo --build_dir="$build" --jobs="$(nproc)"
	echo --kconfig_add=CONFIG_IOPF_BENCH=y
	for o in ${KCONFIG_ADD:-}; do
		echo --kconfig_add="$o"
	done
}

# kunit_build TREE BUILD_DIR: configure and build TREE's x86_64 KUnit
# kernel if needed.
kunit_build() {
	local tree=$1 build=$2

	mkdir -p "$build"
	# shellcheck disable=SC2046
	(cd "$tree" && ./tools/testing/kunit/kunit.py build \
		$(kunit_opts "$build") --make_options "CC=$CC")
}

# kunit_run TREE BUILD_DIR [kunit.py run args]: build TREE's KUnit kernel
# if needed and boot it in QEMU (-smp 2, an SMP kernel).  An oops panics
# the guest and ends QEMU at once.
kunit_run() {
	local tree=$1 build=$2

	shift 2
	mkdir -p "$build"
	# shellcheck disable=SC2046
	(cd "$tree" && ./tools/testing/kunit/kunit.py run \
		$(kunit_opts "$build") --make_options "CC=$CC" --timeout=1800 \
		--qemu_args="-smp 2" \
		--kernel_args=oops=panic --kernel_args=panic=-1 \
		--raw_output=all "$@")
}

# qemu_boot BUILD_DIR LOG TIMEOUT [INITRD [kernel args]]: boot the kernel
# of BUILD_DIR as kunit.py does (2 CPUs, serial console), with INITRD as
# its initramfs.  The KUnit suites run first, then /init of the
# initramfs, which reboots (ending QEMU).  Without an initramfs the kernel
# reboots after the suites.  KUNIT_ARCH=arm64: QEMU virt, cortex-a57, as
# kunit.py's arm64 configuration.
qemu_boot() {
	local build=$1 log=$2 tmo=$3 initrd=${4:-} shutdown=reboot initrd_args=()
	local qemu

	shift $(($# < 4 ? $# : 4))
	if [ -n "$initrd" ]; then
		initrd_args=(-initrd "$initrd")
		shutdown=none
	fi
	if [ "$KUNIT_ARCH" = arm64 ]; then
		qemu=(qemu-system-aarch64 -machine virt -cpu cortex-a57
		      -kernel "$build/arch/arm64/boot/Image.gz")
		set -- console=ttyAMA0 "$@"
	else
		qemu=(qemu-system-x86_64 -bios qboot.rom
		      -kernel "$build/arch/x86/boot/bzImage")
		set -- console=ttyS0 "$@"
	fi
	timeout --foreground -k 10 "$tmo" "${qemu[@]}" -nodefaults -smp 2 \
		-m 1024 "${initrd_args[@]}" \
		-append "$* oops=panic panic=-1 kunit_shutdown=$shutdown" \
		-no-reboot -nographic -serial stdio < /dev/null > "$log" 2>&1
}

# kunit_demo BUILD_DIR LOG [kernel args]: build the demo's initramfs, then
# build the patched tree's KUnit kernel in BUILD_DIR and boot it: the
# suites, then the demo (scripts/kunit.sh; its table goes to stdout).
kunit_demo() {
	local build=$1 log=$2

	shift 2
	"$ROOT/scripts/initramfs.sh" "$B/initramfs.cpio" || return 1
	INITRD="$B/initramfs.cpio" "$ROOT/scripts/kunit.sh" "$T" "$build" \
		"$log" "$@"
}

# bench_boot TREE BUILD_DIR LOG [kunit.py run args]: boot TREE's KUnit
# kernel with the benchmark on and no suite (a filter glob that matches
# none); fail unless the benchmark completed.  tsc=reliable: under TCG the
# guest finds its two vCPUs' TSCs out of sync and marks the TSC unstable;
# local_clock() is then kept within the HPET-based time and can stop
# advancing (a boot gave median reports of 0 ns).  Every kernel boots with
# it; the benchmark compares times taken on one CPU (wake's run_ns
# excepted).
bench_boot() {
	local tree=$1 build=$2 log=$3

	shift 3
	kunit_run "$tree" "$build" --kernel_args=iopf_bench.run=1 \
		--kernel_args=tsc=reliable "$@" 'iopf_bench_no_suite' > "$log" 2>&1
	if ! grep -q "iopf_bench: done (0)" "$log"; then
		echo "bench: $tree did not complete; last lines of $log:"
		tail -30 "$log"
		return 1
	fi
}

# torture_check LOG MIN_GROUPS: print the last 'torture:' line of LOG;
# fail unless it shows at least MIN_GROUPS groups and lost=0 duplicates=0
# leaks=0 splats=0.
torture_check() {
	local t

	t=$(grep -o 'torture: groups=.*' "$1" | tail -1)
	echo "${t:-torture: no result}"
	if ! [[ "$t" =~ groups=([0-9]+)\ answered=([0-9]+)\ duplicates=([0-9]+)\ lost=([0-9]+)\ leaks=(-?[0-9]+)\ splats=([0-9]+) ]]; then
		return 1
	fi
	if [ "${BASH_REMATCH[1]}" -lt "$2" ] ||
	   [ "${BASH_REMATCH[3]}" != 0 ] || [ "${BASH_REMATCH[4]}" != 0 ] ||
	   [ "${BASH_REMATCH[5]}" != 0 ] || [ "${BASH_REMATCH[6]}" != 0 ]; then
		echo "torture figures not as required (at least $2 groups, lost=0 duplicates=0 leaks=0 splats=0)"
		return 1
	fi
}

# on_two_cpus LOG: the booted kernel of LOG ran SMP on the 2 CPUs QEMU gave it.
on_two_cpus() {
	grep -q "smp: Brought up 1 node, 2 CPUs" "$1"
}
