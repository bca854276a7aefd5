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
#   make tree | series | docs | check-commits | deps | clean

SHELL := /bin/bash
ROOT := $(CURDIR)
B := $(ROOT)/build

.PHONY: all deps tree series test test-debug test-kcsan matrix torture test-baseline bench run docs check-commits clean

all: test

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh

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
