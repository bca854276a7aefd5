#!/bin/bash
# Assemble build/linux: a git repository whose first commit (tag base) is
# the pristine Debian linux-source-6.1 tree, and whose branch master is
# base plus the patch queue of patches/ (git am of the files listed in
# patches/series, in order; tag iopf).  Also build/linux-baseline: a
# worktree of the same repository holding base plus only the patches
# listed in patches/baseline, minus the paths listed with them (the tests,
# run against upstream's handler; branch baseline).
#
# Idempotent: the series is re-applied only when the queue, the git
# identity, this script or lib.sh changed since the last run, and the
# baseline only when its patches did.  It is never re-applied over work
# that would be lost: when build/linux's master is not the last assembled
# (or exported) series, or has uncommitted changes, it refuses, unless
# FORCE=1 (the old master is then kept as branch master-unexported).
#
# tree.sh --exported (make export, once it wrote master back to patches/):
# take master as the assembled series: tag iopf, record the queue, update
# the baseline.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
TARBALL=/usr/src/linux-source-6.1.tar.xz
QB=$B/queue		# the queue with the identity filled in

# The series is authored, signed off and maintained (MAINTAINERS' M: line)
# by whoever assembles it: git's own identity, as `git format-patch -s`
# takes it.  Without one the tree is still assembled for local builds and
# tests, under a name that says so; `make series` refuses to export it.
# make export hands back the series as assembled, under the identity it
# was assembled as.
if [ "${1:-}" = --exported ]; then
	identity=$(iopf_assembled_identity)
else
	identity=$(iopf_tree_identity)
fi
iopf_git_as "$identity"
export GIT_AUTHOR_DATE="$IOPF_DATE"
export GIT_COMMITTER_DATE="$IOPF_DATE"

die() { echo "tree: $*" >&2; exit 1; }

# git in build/linux (or in the worktree $1 for git_w), without the user's
# hooks, signing or line-ending conversion.
git_w() {
	local t=$1
	shift
	git -C "$t" -c core.autocrlf=false -c core.hooksPath=/dev/null \
		-c commit.gpgSign=false "$@"
}
git_t() { git_w "$T" "$@"; }

# am WORKTREE [git am options] PATCH...: apply as the queue is applied,
# exactly (no 3-way merge, no whitespace fixing), committer date = author
# date (IOPF_DATE for the queue's patches).
am() {
	local t=$1
	shift
	git_w "$t" -c am.threeWay=false -c am.keepcr=false -c am.messageid=false \
		am -q --whitespace=nowarn --committer-date-is-author-date \
		--resolvemsg= "$@"
}

make_base() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	echo "tree: unpacking linux-source-6.1 $ver"
	rm -rf "$T" "$B/linux-baseline" "$B/src.tmp"
	mkdir -p "$B/src.tmp"
	tar -C "$B/src.tmp" -xf "$TARBALL"
	mv "$B/src.tmp/linux-source-6.1" "$T"
	rmdir "$B/src.tmp"
	git_t init -q -b master
	git_t add -A -f
	git_t commit -q -m "Linux 6.1 (Debian linux-source-6.1 $ver)" \
		-m "Pristine base: Debian's linux-source-6.1 package, version $ver."
	git_t tag -f base >/dev/null
}

# The queue's files, checked against patches/: every listed file exists
# and every patch file is listed.
mapfile -t QUEUE < <(iopf_queue)
[ ${#QUEUE[@]} -gt 0 ] || die "patches/series lists no patch"
for p in "${QUEUE[@]}"; do
	[ -f "$Q/$p" ] || die "patches/series lists $p, which is not in patches/"
done
in_queue() {
	local q
	for q in "${QUEUE[@]}"; do
		[ "$q" = "$1" ] && return 0
	done
	return 1
}
for f in "$Q"/*.patch; do
	[ -e "$f" ] || continue
	in_queue "${f##*/}" ||
		die "patches/${f##*/} is not listed in patches/series"
done

# patches/baseline: "PATCH [PATH...]" lines: a patch of the queue that the
# baseline takes too, without the PATHs (git am --exclude).
baseline_entries() {
	iopf_list "$Q/baseline"
}

# fill PATCH: the queue's PATCH with the identity in place of the
# placeholder, in build/queue/.
fill() {
	mkdir -p "$QB"
	iopf_fill "$identity" < "$Q/$1" > "$QB/$1"
	echo "$QB/$1"
}

series_hash() {
	{ echo "$identity"
	  (cd "$ROOT" && sha256sum scripts/tree.sh scripts/lib.sh patches/series &&
	   for p in "${QUEUE[@]}"; do sha256sum "patches/$p"; done); } |
		sha256sum | cut -d' ' -f1
}

baseline_hash() {
	local p x
	{ echo "$identity"
	  (cd "$ROOT" && sha256sum scripts/tree.sh scripts/lib.sh)
	  baseline_entries | while read -r p x; do
		echo "$p $x"
		sha256sum < "$Q/$p"
	  done; } | sha256sum | cut -d' ' -f1
}

# unexported: print why build/linux holds work that re-applying the queue
# would lose (nothing when it holds none): master is not the last
# assembled series (tag iopf), HEAD is not master, or there are
# uncommitted changes or new files.
unexported() {
	local top=base st
	git_t rev-parse -q --verify iopf >/dev/null && top=iopf
	if [ "$(git_t rev-parse master)" != "$(git_t rev-parse "$top")" ]; then
		echo "its master ($(git_t rev-parse --short master)) is not the series" \
		     "last assembled or exported ($top, $(git_t rev-parse --short "$top")):" \
		     "$(git_t rev-list --count "$top..master") commits of master" \
		     "are not in patches/ (git log $top..master)"
	fi
	if [ -d "$T/.git/rebase-merge" ] || [ -d "$T/.git/rebase-apply" ]; then
		echo "a git rebase or git am is in progress in it"
	elif [ "$(git_t symbolic-ref -q HEAD)" != refs/heads/master ]; then
		echo "its HEAD is not branch master"
	fi
	st=$(git_t status --porcelain | sed -n 1,20p)
	if [ -n "$st" ]; then
		echo "it has uncommitted changes:"
		printf '  %s\n' "${st//$'\n'/$'\n'  }"
	fi
}

build_series() {
	local files=() p why n

	why=$(unexported)
	if [ -n "$why" ]; then
		if [ "${FORCE:-}" != 1 ]; then
			{ echo "tree: build/linux is to be re-assembled (patches/, the git identity or" \
			       "tree.sh changed), but it holds work that is not in patches/:"
			  printf 'tree: %s\n' "${why//$'\n'/$'\n'tree: }"
			  echo "tree: run 'make export' to write build/linux's master back to patches/,"
			  echo "tree: or 'make tree FORCE=1' to discard that work and re-apply patches/."; } >&2
			exit 1
		fi
		echo "tree: FORCE=1: discarding build/linux's work; its old master is branch master-unexported" >&2
		if [ -d "$T/.git/rebase-merge" ] || [ -d "$T/.git/rebase-apply" ]; then
			git_t am --abort 2>/dev/null || git_t rebase --abort 2>/dev/null || true
		fi
		git_t branch -f master-unexported master
	fi

	echo "tree: applying the queue (${#QUEUE[@]} patches)"
	rm -rf "$QB"
	for p in "${QUEUE[@]}"; do
		files+=("$(fill "$p")")
	done
	git_t checkout -q -f --detach base
	git_t clean -q -fdx
	if ! am "$T" "${files[@]}"; then
		n=$(cat "$T/.git/rebase-apply/next" 2>/dev/null || echo 1)
		git_t am --abort || true
		git_t checkout -q -f master
		die "patches/${QUEUE[$((n - 1))]} does not apply; build/linux is back at its master"
	fi
	git_t checkout -q -B master
	git_t tag -f iopf >/dev/null
}

# Baseline: upstream's handler plus our tests only.  The worktree is
# reused so that only the files that changed get new timestamps (and the
# baseline kernel is rebuilt incrementally).
build_baseline() {
	local bt=$B/linux-baseline p x ex path

	[ -f "$Q/baseline" ] || die "no patches/baseline"
	while read -r p x; do
		in_queue "$p" ||
			die "patches/baseline names $p, which is not in patches/series"
	done < <(baseline_entries)
	echo "tree: applying the baseline's patches"
	if ! git -C "$bt" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		rm -rf "$bt"
		git_t worktree prune
		git_t worktree add -q --detach "$bt" base
	fi
	git_w "$bt" am --abort >/dev/null 2>&1 || true
	git_w "$bt" checkout -q -f --detach base
	git_w "$bt" clean -q -fdx
	while read -r p x; do
		ex=()
		for path in $x; do ex+=("--exclude=$path"); done
		am "$bt" "${ex[@]}" "$(fill "$p")" ||
			{ git_w "$bt" am --abort || true
			  die "patches/$p does not apply to the base (baseline)"; }
	done < <(baseline_entries)
	git_t branch -q -f baseline "$(git_w "$bt" rev-parse HEAD)"
}

mkdir -p "$B"
if ! git_t rev-parse -q --verify base >/dev/null 2>&1; then
	make_base
fi
h=$(series_hash)
if [ "${1:-}" = --exported ]; then
	git_t tag -f iopf master >/dev/null
	echo "$identity" > "$B/.series-identity"
	echo "$h" > "$B/.series-hash"
elif [ "$(cat "$B/.series-hash" 2>/dev/null)" != "$h" ] ||
     ! git_t rev-parse -q --verify iopf >/dev/null 2>&1; then
	build_series
	echo "$identity" > "$B/.series-identity"
	echo "$h" > "$B/.series-hash"
fi
h=$(baseline_hash)
if [ "$(cat "$B/.baseline-hash" 2>/dev/null)" != "$h" ] ||
   ! git_t rev-parse -q --verify baseline >/dev/null 2>&1 ||
   ! git -C "$B/linux-baseline" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	build_baseline
	echo "$h" > "$B/.baseline-hash"
fi
rm -rf "$QB"
git_t log --oneline base..iopf
if [ "$(git_t rev-parse master)" != "$(git_t rev-parse iopf)" ]; then
	echo "tree: build/linux's master differs from the queue in patches/ (make export writes it back)"
fi
