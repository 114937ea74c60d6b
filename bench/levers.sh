#!/usr/bin/env bash
# CPU per request of each commit's app, in-process: this checkout's bench/profile.py run against
# a worktree of every commit given, in rotation, ROUNDS times (medians make the table in README).
#
#   bench/levers.sh USERS_FILE ROUNDS COMMIT... > levers.tsv   # round, commit, kind, ms
#
# USERS_FILE: a bench run's results/logs-*/users.txt (its database must still be there).
# Each commit runs with this checkout's venv and its own code first on PYTHONPATH.
set -euo pipefail
users=$(realpath "$1"); rounds=$2; shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'for wt in "$scratch"/*; do git -C "$repo" worktree remove --force "$wt"; done; rm -rf "$scratch"' EXIT
for commit in "$@"; do
  git -C "$repo" worktree add --detach -q "$scratch/$commit" "$commit"
  # profile.py's harness imports tests/process_groups.py, which older commits lack
  cp -n "$repo/tests/process_groups.py" "$scratch/$commit/tests/" 2>/dev/null || true
done
for round in $(seq 1 "$rounds"); do
  for commit in "$@"; do
    (cd "$scratch/$commit" && PYTHONPATH="$scratch/$commit" "$repo/.venv/bin/python" \
       "$repo/bench/profile.py" --users "$users" -n 2000 \
       health rest_list rest_get gql_list gql_get10 rest_update 2>/dev/null) \
      | awk -v r="$round" -v c="$commit" '/cpu\/request/ {print r "\t" c "\t" $1 "\t" $3}'
  done
done
