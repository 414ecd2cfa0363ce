#!/usr/bin/env bash
# deploy/merge_shards.sh: the merge step after a sharded scan (a Slurm job that runs afterok the
# array, a Kubernetes Job after the Indexed Job completes): report_merge over all N shard reports
# of the shared output folder into report.pb and report.json there. report_merge refuses a
# partial merge: a missing or corrupt shard report, or shards of different checkpoints, tools or
# configurations, exit 1 naming them, and nothing is written.
#
# Usage: merge_shards.sh [REPORT_MERGE FLAGS...]
# Environment: SINKSCOPE_BIN (folder holding report_merge), SINKSCOPE_OUT (the shared output
# folder), SINKSCOPE_SHARDS (N).
set -euo pipefail

die() { echo "merge_shards: error: $*" >&2; exit 2; }
bin="${SINKSCOPE_BIN:-}"
out="${SINKSCOPE_OUT:-}"
n="${SINKSCOPE_SHARDS:-}"
[ -n "$bin" ] && [ -x "$bin/report_merge" ] || die "set SINKSCOPE_BIN to the folder holding report_merge"
[ -n "$out" ] || die "set SINKSCOPE_OUT to the shared output folder"
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || die "set SINKSCOPE_SHARDS to the shard count, got '$n'"

shards=()
for ((i = 0; i < n; ++i)); do shards+=("$out/shards/shard-$i-of-$n.pb"); done
exec "$bin/report_merge" --shards="$n" "${shards[@]}" --out="$out/report.pb" \
  --json="$out/report.json" "$@"
