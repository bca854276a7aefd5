#!/bin/bash
# make export: write build/linux's series (base..master) back to the patch
# queue in patches/, after it was changed there (git rebase -i base, git
# commit --amend, new commits, ...): one git format-patch file per commit
# (the old patch files are removed) and patches/series listing them.
#
# The files are the same wherever and by whomever they are exported: the
# identity make tree assembled the series as is replaced by the
# placeholder (From:, Signed-off-by:, MAINTAINERS' M: line), every Date:
# is IOPF_DATE, and the format is fixed (no signature, zero commit id in
# the From line, no numbering in the subject).  The diffs have no index
# lines (but for binary files): their blob ids would change with every
# change to an earlier patch of the same file (and with the identity), so
# a change to one patch changes its file only.  Before writing, the export
# is checked: applied to the base as make tree applies it, each patch
# gives its commit's tree and message.
#
# patches/baseline names the baseline's patches by file name; an entry
# follows its patch to its new name (same subject, or same diff when the
# subject changed); an entry whose patch is gone is dropped, with a
# warning.  Last, build/linux's master is taken as the assembled series
# (tag iopf), so that make tree does not re-apply it.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
X=$B/export

die() { echo "export: $*" >&2; exit 1; }
warn() { echo "export: warning: $*" >&2; }
git_t() { git -C "$T" "$@"; }

git_t rev-parse -q --verify base >/dev/null 2>&1 ||
	die "no build/linux (or no tag base in it): run make tree"

# The identity the series was assembled as (commits made since in
# build/linux are by git's identity, the same one unless it changed).
identity=$(iopf_assembled_identity)
if cur=$(iopf_identity) && [ "$cur" != "$identity" ]; then
	warn "build/linux was assembled as '$identity', git's identity is now '$cur':" \
	     "'$identity' is replaced by the placeholder"
fi

# What is exported is master, committed.
if [ -d "$T/.git/rebase-merge" ] || [ -d "$T/.git/rebase-apply" ]; then
	die "a git rebase or git am is in progress in build/linux: finish it first"
fi
[ "$(git_t symbolic-ref -q HEAD)" = refs/heads/master ] ||
	die "build/linux's HEAD is not branch master: export exports master"
if [ -n "$(git_t status --porcelain --untracked-files=no)" ]; then
	git_t status --short --untracked-files=no | sed -n 1,20p >&2
	die "build/linux has uncommitted changes: commit them (or git stash) first"
fi
# New files: Debian's .gitignore hides most (git add -f them).
u=$(git_t status --porcelain --ignored |
	awk '/^(\?\?|!!) / && !/__pycache__/ && n++ < 10 { printf "%s ", substr($0, 4) }')
[ -z "$u" ] || warn "files in build/linux that no commit has (not exported; git add -f): $u"
git_t merge-base --is-ancestor base master ||
	die "build/linux's master is not based on tag base"
[ -z "$(git_t rev-list --merges base..master)" ] ||
	die "base..master has merge commits: the queue is a straight series"
mapfile -t commits < <(git_t rev-list --reverse base..master)
[ ${#commits[@]} -gt 0 ] || die "base..master is empty: nothing to export"

# format-patch, with every option that changes its output given (the
# user's format.* and diff.* configuration do not matter).
rm -rf "$X"
mkdir -p "$X/raw" "$X/new" "$X/check"
git -C "$T" -c diff.renames=true -c diff.orderFile=/dev/null \
	-c diff.mnemonicPrefix=false -c diff.noprefix=false \
	format-patch -q -o "$X/raw" --zero-commit --no-signature -N \
	--subject-prefix=PATCH --no-cover-letter --no-signoff --no-thread \
	--no-to --no-cc --no-add-header --no-base --no-notes --no-attach \
	--suffix=.patch --filename-max-length=64 --encode-email-headers \
	--src-prefix=a/ --dst-prefix=b/ --no-relative -U3 \
	--inter-hunk-context=0 --diff-algorithm=myers --no-ext-diff \
	--no-textconv base..master
mapfile -t raw < <(cd "$X/raw" && ls -- *.patch)
[ ${#raw[@]} = ${#commits[@]} ] ||
	die "format-patch wrote ${#raw[@]} files for ${#commits[@]} commits"

date_hdr=$(LC_ALL=C date -u -R -d "$IOPF_DATE")
export ID=$identity PH=$IOPF_PLACEHOLDER DATE_HDR=$date_hdr

# subst: stdin with the identity replaced by the placeholder.
subst() { perl -pe 's/\Q$ENV{ID}\E/$ENV{PH}/g'; }

for i in "${!commits[@]}"; do
	c=${commits[$i]}
	f=${raw[$i]}
	# From: the placeholder when the identity wrote the commit.
	MINE=0
	[ "$(git_t log -1 --format='%an <%ae>' "$c")" = "$identity" ] && MINE=1
	# MIME headers only when the message (with the placeholder) needs
	# them, not because the identity's name does.
	git_t log -1 --format=%B "$c" > "$X/msg"
	ASCII=0
	subst < "$X/msg" | LC_ALL=C grep -c '[^ -~[:space:]]' >/dev/null || ASCII=1
	grep -q '^Signed-off-by: ' "$X/msg" || warn "$f has no Signed-off-by:"
	export MINE ASCII
	perl -e '
		my ($hdr, $skip, $diffhdr, $index) = (1, 0, 0, undef);
		while (<STDIN>) {
			if ($hdr) {
				if (/^$/) { $hdr = 0; print; next; }
				next if $skip && /^[ \t]/;
				$skip = 0;
				if ($ENV{MINE} && /^From: /) {
					print "From: $ENV{PH}\n"; $skip = 1; next;
				}
				if (/^Date: /) {
					print "Date: $ENV{DATE_HDR}\n"; $skip = 1; next;
				}
				if ($ENV{ASCII} && /^(MIME-Version|Content-Type|Content-Transfer-Encoding):/i) {
					$skip = 1; next;
				}
				print; next;
			}
			# A diff header: its index line goes, unless the
			# diff is binary (git apply needs the blob ids then).
			$diffhdr = 1 if /^diff --git /;
			if ($diffhdr) {
				if (/^index /) { $index = $_; next; }
				if (/^(--- |\+\+\+ |@@ |GIT binary patch|Binary files )/) {
					print $index if defined $index && /^(GIT binary|Binary)/;
					($diffhdr, $index) = (0, undef);
				}
			}
			s/\Q$ENV{ID}\E/$ENV{PH}/g;
			print;
		}' < "$X/raw/$f" > "$X/new/$f"
done

# The check: make tree's git am, on a scratch index from base: each patch
# (with the identity back) gives its commit's tree, message and author.
export GIT_INDEX_FILE=$X/check/index
git_t read-tree base
for i in "${!commits[@]}"; do
	c=${commits[$i]}
	f=${raw[$i]}
	iopf_fill "$identity" < "$X/new/$f" > "$X/check/patch"
	git_t apply --cached --whitespace=nowarn "$X/check/patch" ||
		die "$f does not apply to the previous ones"
	[ "$(git_t write-tree)" = "$(git_t rev-parse "$c^{tree}")" ] ||
		die "$f does not give the tree of commit $(git_t log -1 --format='%h %s' "$c")"
	git_t mailinfo "$X/check/msg" /dev/null < "$X/check/patch" > "$X/check/info"
	{ sed -n 's/^Subject: //p' "$X/check/info"; echo; cat "$X/check/msg"; } |
		git stripspace > "$X/check/got"
	git_t cat-file commit "$c" | sed '1,/^$/d' > "$X/check/want"
	cmp -s "$X/check/got" "$X/check/want" ||
		{ diff -u "$X/check/want" "$X/check/got" >&2 || true
		  die "$f: git am would not give the message of commit $(git_t log -1 --format=%h "$c")" \
		      "(a line '---' or 'diff ' in it?)"; }
	[ "$(sed -n 's/^Author: //p' "$X/check/info") <$(sed -n 's/^Email: //p' "$X/check/info")>" = \
	  "$(git_t log -1 --format='%an <%ae>' "$c")" ] ||
		die "$f: git am would not give the author of commit $(git_t log -1 --format=%h "$c")"
done
unset GIT_INDEX_FILE

# patches/baseline: each entry follows its patch to its new file name.
subject() { git mailinfo /dev/null /dev/null < "$1" | sed -n 's/^Subject: //p'; }
patch_id() { git patch-id --stable < "$1" | cut -d' ' -f1; }
new_name() {	# new_name OLD_FILE: the new file of the same patch
	local s p f
	s=$(subject "$1")
	for f in "${raw[@]}"; do
		[ "$(subject "$X/new/$f")" = "$s" ] && { echo "$f"; return; }
	done
	p=$(patch_id "$1")
	for f in "${raw[@]}"; do
		[ "$(patch_id "$X/new/$f")" = "$p" ] && { echo "$f"; return; }
	done
}
touch "$Q/baseline"
while IFS= read -r line; do
	entry=$(printf '%s' "$line" | sed -e 's/#.*//' -e 's/^[[:space:]]*//')
	if [ -z "$entry" ]; then
		printf '%s\n' "$line"
		continue
	fi
	read -r p x <<< "$entry"
	n=""
	[ -f "$Q/$p" ] && n=$(new_name "$Q/$p")
	if [ -z "$n" ]; then
		warn "patches/baseline's $p is gone from the series (dropped from" \
		     "patches/baseline: add the patch that replaces it there)"
		continue
	fi
	[ "$n" = "$p" ] || echo "export: patches/baseline: $p is now $n" >&2
	echo "$n${x:+ $x}"
done < "$Q/baseline" > "$X/baseline"

# Write the queue.
rm -f "$Q"/*.patch
cp "$X/new/"*.patch "$Q/"
printf '%s\n' "${raw[@]}" > "$Q/series"
cp "$X/baseline" "$Q/baseline"
rm -rf "$X"

"$ROOT/scripts/tree.sh" --exported >/dev/null
echo "export: ${#raw[@]} patches in patches/ (build/linux's base..master, tagged iopf)"
git -C "$ROOT" status --short -- patches/
