#!/bin/bash
# Assemble build/linux: a git repository whose first commit is the pristine
# Debian linux-source-6.1 tree and whose following commits are our series,
# one per series/NNNN-*.msg file.  Also build/linux-baseline: a worktree of
# the same repository holding the base plus only the commits marked
# "baseline: yes" (the tests, run against upstream's handler).
#
# Idempotent: the series commits are rebuilt only when linux/, patches/ or
# series/ changed since the last run.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
TARBALL=/usr/src/linux-source-6.1.tar.xz

# The series is authored, signed off and maintained (MAINTAINERS' M: line)
# by whoever assembles it: git's own identity, as `git format-patch -s`
# takes it.  Without one the tree is still assembled for local builds and
# tests, under a name that says so; `make series` refuses to export it.
if ! identity=$(iopf_identity); then
	echo "tree: no git identity (git config user.name / user.email):" \
	     "commits are by '$IOPF_NO_IDENTITY', make series will refuse" >&2
	identity=$IOPF_NO_IDENTITY
fi
iopf_git_as "$identity"
export GIT_AUTHOR_DATE="2026-11-23T12:00:00Z"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
identity_sed=$(printf '%s' "$identity" | sed 's/[&|\\]/\\&/g')

git_t() { git -C "$T" -c core.autocrlf=false "$@"; }

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

series_hash() {
	{ echo "$identity"
	  (cd "$ROOT" && find linux patches series scripts/tree.sh scripts/lib.sh \
		-type f -print0 | sort -z | xargs -0 sha256sum); } |
		sha256sum | cut -d' ' -f1
}

# Fields of a series message: everything after the line "---".
field() { sed -n '/^---$/,$p' "$1" | sed -n "s/^$2: *//p"; }
message() { sed '/^---$/,$d' "$1"; }

# apply_commit TREE MSG [baseline]: copy the commit's files, unapply the
# patches listed under unapply (a file of linux/ is its last version: an
# earlier commit gets it without what later commits add, which they add
# back as patches), apply its patches (for the baseline, minus those listed
# under baseline-skip) and commit with the message.
apply_commit() {
	local t=$1 msg=$2 mode=${3:-} f p skip
	skip=" $(field "$msg" baseline-skip) "
	for f in $(field "$msg" files); do
		mkdir -p "$(dirname "$t/$f")"
		cp "$ROOT/linux/$f" "$t/$f"
		# Debian's .gitignore hides new files: add ours explicitly.
		git -C "$t" add -f -- "$f"
	done
	for p in $(field "$msg" unapply); do
		git -C "$t" apply -R --index "$ROOT/$p" ||
			{ echo "tree: $p does not unapply from linux/" >&2; exit 1; }
	done
	for p in $(field "$msg" patches); do
		if [ "$mode" = baseline ] && [[ "$skip" == *" $p "* ]]; then
			continue
		fi
		# MAINTAINERS names the identity assembling the series.
		sed "s|@IOPF_MAINTAINER@|$identity_sed|" "$ROOT/$p" |
			git -C "$t" apply --index - ||
			{ echo "tree: $p does not apply" >&2; exit 1; }
	done
	message "$msg" | git -C "$t" commit -q -s -F -
}

build_series() {
	local msg
	echo "tree: applying the series"
	git_t checkout -q -f master
	git_t reset -q --hard base
	git_t clean -q -fdx
	for msg in "$ROOT"/series/[0-9]*.msg; do
		apply_commit "$T" "$msg"
	done
	# Files that later commits patch back: the series ends with
	# linux/'s version of them.
	for msg in "$ROOT"/series/[0-9]*.msg; do
		for p in $(field "$msg" unapply); do
			for f in $(sed -n 's|^+++ b/||p' "$ROOT/$p"); do
				cmp -s "$ROOT/linux/$f" "$T/$f" ||
					{ echo "tree: the series does not end with linux/$f" >&2; exit 1; }
			done
		done
	done
	git_t tag -f iopf >/dev/null

	# Baseline: upstream's handler plus our tests only.  The worktree is
	# reused so that only the files that changed get new timestamps (and
	# the baseline kernel is rebuilt incrementally).
	local bt=$B/linux-baseline
	if ! git -C "$bt" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		rm -rf "$bt"
		git_t worktree prune
		git_t worktree add -q --detach "$bt" base
	fi
	git -C "$bt" checkout -q -f --detach base
	git -C "$bt" clean -q -fdx
	for msg in "$ROOT"/series/[0-9]*.msg; do
		[ "$(field "$msg" baseline)" = yes ] || continue
		apply_commit "$bt" "$msg" baseline
	done
	git_t branch -q -f baseline "$(git -C "$bt" rev-parse HEAD)"
}

mkdir -p "$B"
if ! git_t rev-parse -q --verify base >/dev/null 2>&1; then
	make_base
fi
h=$(series_hash)
if [ "$(cat "$B/.series-hash" 2>/dev/null)" != "$h" ] ||
   ! git_t rev-parse -q --verify iopf >/dev/null 2>&1; then
	build_series
	echo "$h" > "$B/.series-hash"
fi
git_t log --oneline base..iopf
