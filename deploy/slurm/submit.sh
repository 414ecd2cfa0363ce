#!/usr/bin/env bash
# deploy/slurm/submit.sh: submits a sharded sinkscope scan to Slurm: an N-task array of
# TOOL.sbatch (task I runs --shard=I/N into OUT_DIR/shards/shard-I-of-N.pb), then merge.sbatch
# with --dependency=afterok:<array> (and --kill-on-invalid-dep=yes: a failed task cancels the
# merge instead of leaving it pending) into OUT_DIR/report.pb and OUT_DIR/report.json.
# Resumable: submitting the same run again re-runs only the shards without a valid report.
# OUT_DIR/run.args records the run (tool, N, flags); a different run into the same folder is
# refused, so shards of two runs never mix.
#
# Usage: deploy/slurm/submit.sh --tool=weight_scan|activation_scan|quant_eval --shards=N
#          --out_dir=DIR [--bin=DIR] [--max_running=K] [--sbatch=OPTION]...
#          [--merge_sbatch=OPTION]... -- SCAN FLAGS...
#   --bin      folder holding the tool and report_merge (default: $SINKSCOPE_BIN, else
#              bazel-bin/tools of this checkout)
#   --max_running  at most K tasks at once (--array=0-(N-1)%K)
#   --sbatch   an sbatch option for the array tasks, e.g. --sbatch=--cpus-per-task=16
#              --sbatch=--partition=cpu --sbatch=--time=2:00:00 (repeatable)
#   --merge_sbatch  the same for the merge job
# Prints array_job=ID, merge_job=ID and report=PATH, one per line. Slurm's own SBATCH_*
# environment variables apply to both jobs; SLURM_CONF selects the cluster configuration.
set -euo pipefail

usage() {
  sed -n '/^# Usage:/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "submit: error: $*" >&2; exit "${2:-1}"; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deploy="$(dirname "$here")"
tool="" shards="" out_dir="" bin="${SINKSCOPE_BIN:-}" max_running=""
array_opts=() merge_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tool=*) tool="${1#*=}" ;;
    --shards=*) shards="${1#*=}" ;;
    --out_dir=*) out_dir="${1#*=}" ;;
    --bin=*) bin="${1#*=}" ;;
    --max_running=*) max_running="${1#*=}" ;;
    --sbatch=*) array_opts+=("${1#*=}") ;;
    --merge_sbatch=*) merge_opts+=("${1#*=}") ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "submit: unknown option '$1' (scan flags go after --)" >&2; usage ;;
  esac
  shift
done
case "$tool" in
  weight_scan | activation_scan | quant_eval) ;;
  *) die "--tool must be weight_scan, activation_scan or quant_eval, got '$tool'" 2 ;;
esac
[[ "$shards" =~ ^[0-9]+$ ]] && [ "$shards" -ge 1 ] || die "--shards must be a positive integer" 2
[ -z "$max_running" ] || { [[ "$max_running" =~ ^[0-9]+$ ]] && [ "$max_running" -ge 1 ]; } ||
  die "--max_running must be a positive integer" 2
[ -n "$out_dir" ] || die "--out_dir is required (a folder every node can write)" 2
[ $# -gt 0 ] || die "give $tool's flags after --, e.g. -- --checkpoint=/shared/model" 2
if [ -z "$bin" ] && [ -d "$deploy/../bazel-bin/tools" ]; then bin="$deploy/../bazel-bin/tools"; fi
[ -n "$bin" ] || die "--bin (or SINKSCOPE_BIN) is required: the folder holding $tool" 2
bin="$(cd "$bin" && pwd -P)" || die "--bin: no folder '$bin'"
for b in "$tool" report_merge; do
  [ -x "$bin/$b" ] || die "$bin/$b is not an executable (--bin)"
done
command -v sbatch >/dev/null || die "sbatch not found: install Slurm's client (Debian: slurm-client)"
mkdir -p "$out_dir/shards" "$out_dir/logs"
out_dir="$(cd "$out_dir" && pwd -P)"

# One run per folder: the same tool, shard count and flags as what is there already.
run_args="$(printf '%q ' "$tool" "--shards=$shards" "$@")"
if [ -e "$out_dir/run.args" ]; then
  if [ "$(cat "$out_dir/run.args")" != "$run_args" ]; then
    die "$out_dir holds another run ($(cat "$out_dir/run.args")); this one is ($run_args): use" \
      "another --out_dir, or remove that one"
  fi
else
  printf '%s' "$run_args" >"$out_dir/run.args"
fi

export SINKSCOPE_BIN="$bin" SINKSCOPE_OUT="$out_dir" SINKSCOPE_SHARDS="$shards"
export SINKSCOPE_DEPLOY="$deploy"
array="0-$((shards - 1))${max_running:+%$max_running}"
array_job=$(sbatch --parsable --export=ALL --array="$array" \
  --output="$out_dir/logs/%x-%A_%a.out" "${array_opts[@]}" "$here/$tool.sbatch" "$@")
array_job="${array_job%%;*}"  # (--parsable: "id[;cluster]")
merge_job=$(sbatch --parsable --export=ALL --dependency="afterok:$array_job" \
  --kill-on-invalid-dep=yes --output="$out_dir/logs/%x-%j.out" "${merge_opts[@]}" \
  "$here/merge.sbatch")
merge_job="${merge_job%%;*}"
echo "array_job=$array_job"
echo "merge_job=$merge_job"
echo "report=$out_dir/report.pb"
