# iopf: the I/O page fault handler for Linux 6.1 LTS.
#
#   make run            build the patched kernel, boot it in QEMU, run the
#                       suites and the user-space demo
#   make test           what CI runs (tree, KUnit, sparse, W=1, kernel-doc,
#                       checkpatch, arm64 build of the SMMUv3 caller)
#   make test-debug     the suites, a long torture run and the demo in a
#                       KASAN/lockdep/kmemleak kernel
#   make test-kcsan     the suites and a long torture run in a KCSAN
#                       (strict) kernel
#   make matrix         drivers/iommu/ and lib/tests/ with DEBUG_FS,
#                       TRACING, FAULT_INJECTION or SMP off
#   make torture        the torture test alone, 2 rounds of a minute at least
#   make test-baseline  the same suite against upstream's handler
#   make bench          benchmark: upstream's handler vs ours, side by side
#   make tree | export | series | docs | check-commits | deps | clean
#
# The series is the patch queue in patches/ (git format-patch files, in the
# order of patches/series).  make tree applies it with git am to Debian's
# linux-source-6.1 in build/linux (branch master, tag iopf); change a patch
# there (git rebase -i base, commit --amend, ...), then make export writes
# base..master back to patches/.  make tree refuses to re-apply the queue
# over work in build/linux that make export has not written back
# (FORCE=1 discards it).

SHELL := /bin/bash
ROOT := $(CURDIR)
B := $(ROOT)/build

.PHONY: all deps tree export series test test-debug test-kcsan matrix torture test-baseline bench run docs check-commits clean

all: test

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh

export:
	@scripts/export.sh

series: tree
	@scripts/series.sh

test: tree
	@scripts/test.sh

test-debug: tree
	@scripts/test-debug.sh

test-kcsan: tree
	@scripts/test-kcsan.sh

matrix: tree
	@scripts/matrix.sh

torture: tree
	@scripts/torture.sh

test-baseline: tree
	@scripts/baseline.sh

bench: tree
	@scripts/bench.sh

run: tree
	@scripts/run.sh

docs: tree
	@scripts/docs.sh

check-commits: tree
	@scripts/check-commits.sh

clean:
	rm -rf $(B)
