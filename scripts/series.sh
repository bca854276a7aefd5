#!/bin/bash
# Export the series with a cover letter to build/series/, From: and
# Signed-off-by: the git identity of whoever runs it (make tree assembled
# the commits under that identity), then check that `git am` of the
# exported patches on the pristine base gives make tree's result.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
OUT=$ROOT/build/series
AM=$B/series-am

# --check (make test): without an identity, export anyway for checkpatch
# and the git am check, under make tree's stand-in; not for sending.
if ! who=$(iopf_identity) && [ "${1:-}" = --check ]; then
	echo "series: no git identity: exported for checking only, as '$IOPF_NO_IDENTITY'" >&2
	who=$IOPF_NO_IDENTITY
elif [ -z "$who" ]; then
	echo "series: no git identity: set the patches' From: and Signed-off-by:" >&2
	echo "series:   git config --global user.name 'Your Name'" >&2
	echo "series:   git config --global user.email you@example.com" >&2
	exit 1
fi
author=$(git -C "$T" log -1 --format='%an <%ae>' iopf)
if [ "$author" != "$who" ]; then
	echo "series: build/linux is by '$author', not '$who': run make tree" >&2
	exit 1
fi

if [ "$(git -C "$T" rev-parse master)" != "$(git -C "$T" rev-parse iopf)" ]; then
	echo "series: build/linux's master differs from the queue (tag iopf), which is" \
	     "what is exported here: run make export first to send master" >&2
fi

rm -rf "$OUT"
git -C "$T" format-patch -q --cover-letter -o "$OUT" base..iopf
python3 "$ROOT/scripts/cover.py" "$Q/cover.txt" "$OUT"/0000-cover-letter.patch

# git am on the pristine base, in a scratch worktree.
rm -rf "$AM"
git -C "$T" worktree prune
git -C "$T" worktree add -q --detach "$AM" base
iopf_git_as "$who"
patches=()
for p in "$OUT"/*.patch; do
	[ "${p##*/}" = 0000-cover-letter.patch ] || patches+=("$p")
done
if ! git -C "$AM" am -q "${patches[@]}"; then
	echo "series: git am of build/series on the base failed" >&2
	exit 1
fi
want=$(git -C "$T" rev-parse 'iopf^{tree}')
got=$(git -C "$AM" rev-parse 'HEAD^{tree}')
git -C "$T" worktree remove --force "$AM"
if [ "$want" != "$got" ]; then
	echo "series: git am gives tree $got, make tree gave $want" >&2
	exit 1
fi
ls "$OUT"
echo "series: From: and Signed-off-by: $who; git am on the base gives make tree's tree $want"
