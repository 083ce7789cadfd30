#!/usr/bin/env bash
# Usage: commit-to-main.sh <message> <command> [args...]
#
# Records an edit of stack files on main as the deploy workflow: runs the
# command (which edits files) in a fresh worktree of main's latest commit,
# commits what changed and pushes. When main moved in between, it starts
# again from the new main and re-runs the command instead of rebasing, so
# there is never a conflict to resolve. The job's own checkout is left as
# it is. Needs `contents: write`; the push uses the job's GITHUB_TOKEN,
# whose pushes start no workflow (and the message says [skip ci] as well).
set -euo pipefail

message=$1
shift
worktree="${RUNNER_TEMP:-/tmp}/main-$$"

for attempt in 1 2 3 4 5; do
  git fetch --quiet origin main
  git worktree add --quiet --detach "$worktree" origin/main
  (cd "$worktree" && "$@")
  if git -C "$worktree" diff --quiet; then
    echo "main already records this."
    git worktree remove --force "$worktree"
    exit 0
  fi
  git -C "$worktree" -c user.name="github-actions[bot]" \
    -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
    commit --quiet --all --message "$message"
  if git -C "$worktree" push --quiet origin HEAD:main; then
    echo "Recorded on main as $(git -C "$worktree" rev-parse --short HEAD): $message"
    git worktree remove --force "$worktree"
    exit 0
  fi
  git worktree remove --force "$worktree"
  echo "main moved meanwhile; trying again (attempt $attempt)."
  sleep $((attempt * 3))
done
echo "::error::Could not record on main: $message"
exit 1
