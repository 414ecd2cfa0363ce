#!/usr/bin/env bash
# deploy/run_shard.sh: one shard of a sharded sinkscope scan, as one task of a batch array runs
# it (a Slurm array task, a Kubernetes Indexed Job pod). Maps the scheduler's task index and
# count to --shard=i/n, writes the shard's report to the shared output folder and, when that
# report already exists and is a valid report of this shard (report_merge --check), does nothing:
# a re-submitted array only redoes what is missing. The scans write atomically (temp file +
# rename), so a task killed half-way leaves no report behind.
#
# Usage: run_shard.sh TOOL [SCAN FLAGS...]    TOOL: weight_scan, activation_scan or quant_eval
# Environment:
#   SINKSCOPE_BIN          folder holding TOOL and report_merge (bazel-bin/tools, an install dir)
#   SINKSCOPE_OUT          shared output folder; the report goes to shards/shard-I-of-N.pb in it
#   SINKSCOPE_SHARDS       N (default: SLURM_ARRAY_TASK_COUNT)
#   SINKSCOPE_SHARD_INDEX  I (default: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX)
# Threads: weight_scan gets --threads=$SLURM_CPUS_PER_TASK unless the flags set --threads;
# OMP_NUM_THREADS defaults to SLURM_CPUS_PER_TASK (else 1).
set -euo pipefail

die() { echo "run_shard: error: $*" >&2; exit 2; }
tool="${1:-}"
[ $# -ge 1 ] && shift
case "$tool" in
  weight_scan | activation_scan | quant_eval) ;;
  *) die "TOOL must be weight_scan, activation_scan or quant_eval, got '$tool'" ;;
esac
bin="${SINKSCOPE_BIN:-}"
out="${SINKSCOPE_OUT:-}"
n="${SINKSCOPE_SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}"
i="${SINKSCOPE_SHARD_INDEX:-${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}}"
[ -n "$bin" ] || die "set SINKSCOPE_BIN to the folder holding $tool and report_merge"
[ -x "$bin/$tool" ] || die "$bin/$tool is not an executable (SINKSCOPE_BIN)"
[ -x "$bin/report_merge" ] || die "$bin/report_merge is not an executable (SINKSCOPE_BIN)"
[ -n "$out" ] || die "set SINKSCOPE_OUT to the shared output folder"
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] ||
  die "shard count '$n' is not a positive integer (SINKSCOPE_SHARDS or SLURM_ARRAY_TASK_COUNT)"
[[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -lt "$n" ] ||
  die "shard index '$i' is not in 0..$((n - 1)) (SINKSCOPE_SHARD_INDEX, SLURM_ARRAY_TASK_ID or" \
    "JOB_COMPLETION_INDEX; submit the array as 0-$((n - 1)))"

mkdir -p "$out/shards"
report="$out/shards/shard-$i-of-$n.pb"
if [ -e "$report" ]; then
  if check=$("$bin/report_merge" --check --shards="$n" "$report" 2>&1) &&
    grep -qxF "$report: $tool shard $i/$n ok" <<<"$check"; then
    echo "run_shard: $report is a valid $tool shard $i/$n report: done already, skipping"
    exit 0
  fi
  echo "run_shard: $report exists but is not a valid $tool shard $i/$n report; scanning again:" \
    "$check" >&2
fi

flags=("$@")
if [ "$tool" = weight_scan ] && [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
  case " $* " in
    *" --threads="*) ;;
    *) flags+=("--threads=$SLURM_CPUS_PER_TASK") ;;
  esac
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"
echo "run_shard: $tool shard $i/$n on $(hostname) -> $report"
exec "$bin/$tool" "${flags[@]}" --shard="$i/$n" --out="$report"
