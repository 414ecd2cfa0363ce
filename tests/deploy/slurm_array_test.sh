#!/usr/bin/env bash
# deploy/slurm end to end on a one-node Slurm cluster started here: munged, slurmctld and slurmd
# on localhost (Debian's slurm-wlm 22.05 + munge, as root) with a generated minimal slurm.conf,
# munge key and socket in a temp folder, non-default ports; SLURM_CONF points every client at it
# (no system-wide Slurm configuration is read or touched). deploy/slurm/submit.sh submits a
# 4-task weight_scan array over the fixture checkpoint and the afterok merge job; the merged
# report must equal the single-process report in every field (report_equal: exact doubles,
# sketches bucket for bucket). Then the run is resumed: shard 2's report removed, shard 1's
# corrupted, the same submission again: shards 0 and 3 are skipped, 1 and 2 rescanned, and the
# merge is equal again. 2-task activation_scan and quant_eval arrays merge to their
# single-process reports (quant_eval within 1e-12 relative: its sums add in another order), and a
# failing task cancels its merge job (no report). The daemons it started are stopped by PID (jobs
# left over cancelled first) and its files removed. About 35 s.
# Prints SKIP (exit 0) when slurm-wlm or munge is not installed (bash tools/setup.sh installs
# them) or when not root (slurmd launches jobs as root).
set -uo pipefail
make_fixture="$1"; weight_scan="$2"; report_merge="$3"; report_equal="$4"; submit="$5"
make_tiny="$6"; activation_scan="$7"; quant_eval="$8"
t0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[$(since "$t0") s] $*"; }

for b in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  if ! command -v "$b" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$b" ]; then
    echo "SKIP: '$b' not found: Debian's slurm-wlm and munge are not installed (bash tools/setup.sh)"
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the one-node Slurm cluster needs root (slurmd launches the jobs)"
  exit 0
fi
PATH="$PATH:/usr/sbin"

# Short paths: the munge socket path must fit a sockaddr_un (108 bytes).
T=$(mktemp -d /tmp/sinkscope-slurm.XXXXXX)
chmod 755 "$T"
pids=()  # munged, slurmctld, slurmd: stopped in reverse order
cleanup() {
  if [ "${#pids[@]}" -ge 3 ]; then  # jobs still running (a failure half-way): cancel them first
    timeout 10 squeue -h -o %i 2>/dev/null | xargs -r timeout 10 scancel 2>/dev/null
  fi
  local k pid
  for ((k = ${#pids[@]} - 1; k >= 0; --k)); do
    pid=${pids[k]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || continue 2; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/*/logs/*; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
  done
  exit 1
}

# Two free TCP ports (slurmctld, slurmd), away from Slurm's defaults 6817/6818.
port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    ss -Htln "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
free_port() {
  local p
  for ((p = $1; p < $1 + 2000; ++p)); do
    port_in_use "$p" || { echo "$p"; return; }
  done
  return 1
}
base=$((21000 + $$ % 20000))
ctld_port=$(free_port "$base") || fail "no free port"
slurmd_port=$(free_port $((ctld_port + 1))) || fail "no free port"

# munge: its key and seed in a private folder, its socket in a world-searchable one.
mkdir -p "$T/munge" "$T/sock" "$T/state" "$T/spool"
chmod 700 "$T/munge"
chmod 755 "$T/sock"
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
socket="$T/sock/munge.socket"
munged --key-file="$T/munge/munge.key" --socket="$socket" --pid-file="$T/sock/munged.pid" \
  --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" ||
  { cat "$T/munge/munged.log"; fail "munged did not start"; }
pids+=("$(cat "$T/sock/munged.pid")")

host=$(uname -n)
host=${host%%.*}
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=sinkscopetest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
for _ in $(seq 50); do [ -s "$T/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$host" || fail "slurmd did not start"
for _ in $(seq 50); do [ -s "$T/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/slurmd.pid")")
for _ in $(seq 300); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  sleep 0.1
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || fail "the node is not idle: $(sinfo 2>&1)"
log "cluster up: slurmctld :$ctld_port, slurmd :$slurmd_port, node $host idle (2 CPUs)"

# The single-process report.
"$make_fixture" "$T/ckpt.safetensors" || fail "fixture"
"$weight_scan" --checkpoint="$T/ckpt.safetensors" --out="$T/single.pb" >/dev/null ||
  fail "single-process weight_scan"
bin=$(cd "$(dirname "$weight_scan")" && pwd -P)
for b in "$report_merge" "$activation_scan" "$quant_eval"; do
  [ "$(cd "$(dirname "$b")" && pwd -P)" = "$bin" ] || fail "binaries in two folders"
done

# submit TOOL N DIR FLAGS...: submit.sh's N-task array and merge job; sets array_job, merge_job
# and adds "array_job:N merge_job:1" to `expect` for wait_for_jobs.
expect=()
submit() {
  local tool="$1" n="$2" dir="$3" out
  shift 3
  out=$("$submit" --tool="$tool" --shards="$n" --out_dir="$dir" --bin="$bin" \
    --max_running=2 --sbatch=--cpus-per-task=1 -- "$@") || fail "submit.sh: $out"
  array_job=$(sed -n 's/^array_job=//p' <<<"$out")
  merge_job=$(sed -n 's/^merge_job=//p' <<<"$out")
  [ -n "$array_job" ] && [ -n "$merge_job" ] || fail "submit.sh printed: $out"
  expect+=("$array_job:$n" "$merge_job:1")
  log "submitted $tool: array job $array_job ($n tasks), merge job $merge_job (afterok:$array_job)"
}
# Waits until the submitted jobs left the queue (90 s at most); each must have COMPLETED, but
# for those listed in `expect_states` (job id -> "N JobState=X" as uniq -c counts them).
declare -A expect_states=()
wait_for_jobs() {
  local ids e job n states want
  ids=$(printf '%s\n' "${expect[@]}" | cut -d: -f1 | paste -sd,)
  for _ in $(seq 900); do
    squeue -h -j "$ids" 2>/dev/null | grep -q . || break
    sleep 0.1
  done
  squeue -h -j "$ids" 2>/dev/null | grep -q . && fail "jobs still queued after 90 s: $(squeue 2>&1)"
  for e in "${expect[@]}"; do
    job=${e%:*} n=${e#*:}
    states=$(scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | xargs)
    want=${expect_states[$job]:-$n JobState=COMPLETED}
    [ "$states" = "$want" ] || fail "job $job: $states, expected $want"
  done
  expect=()
  expect_states=()
  log "jobs $ids ended as expected"
}
submit_and_wait() {
  submit weight_scan 4 "$T/run" --checkpoint="$T/ckpt.safetensors"
  wait_for_jobs
}

submit_and_wait
for i in 0 1 2 3; do
  [ -s "$T/run/shards/shard-$i-of-4.pb" ] || fail "no report of shard $i"
done
echo "--- merge job output"
cat "$T"/run/logs/sinkscope-merge-"$merge_job".out | sed -n '/shards:/,$p'
"$report_equal" "$T/single.pb" "$T/run/report.pb" || fail "merged report differs from single"
"$report_equal" "$T/single.pb" "$T/run/report.json" >/dev/null || fail "report.json differs"

# Resume: one shard report gone, one corrupt; the same submission redoes just those two.
rm "$T/run/shards/shard-2-of-4.pb" "$T/run/report.pb"
printf 'garbage' >"$T/run/shards/shard-1-of-4.pb"
t_resume=$EPOCHREALTIME
submit_and_wait
for i in 0 3; do
  grep -q "done already, skipping" "$T/run/logs/sinkscope-weight_scan-${array_job}_$i.out" ||
    fail "shard $i was not skipped"
done
for i in 1 2; do
  grep -q "done already" "$T/run/logs/sinkscope-weight_scan-${array_job}_$i.out" &&
    fail "shard $i was skipped"
done
log "resumed in $(since "$t_resume") s: shards 0, 3 skipped; 1 (corrupt), 2 (missing) rescanned"
"$report_equal" "$T/single.pb" "$T/run/report.pb" || fail "resumed merge differs from single"

# activation_scan and quant_eval: 2-task arrays over two token files of a tiny Llama, submitted
# together; the merges equal the single-process runs over both files.
"$make_tiny" "$T/tiny" "$T/ids0.txt" >/dev/null || fail "tiny llama"
cp "$T/ids0.txt" "$T/ids1.txt"
act_flags=(--checkpoint="$T/tiny" --tokens="$T/ids0.txt,$T/ids1.txt")
qe_flags=("${act_flags[@]}" --configs=fp32,w8a8,kv4)
"$activation_scan" "${act_flags[@]}" --out="$T/act_single.pb" >/dev/null 2>&1 ||
  fail "single-process activation_scan"
"$quant_eval" "${qe_flags[@]}" --out="$T/qe_single.pb" >/dev/null 2>&1 ||
  fail "single-process quant_eval"
submit activation_scan 2 "$T/act" "${act_flags[@]}"
submit quant_eval 2 "$T/qe" "${qe_flags[@]}"
# A failing task (3 shards over 2 token files: shard 2 has none, exit 2): the merge job is
# cancelled (--kill-on-invalid-dep), not left pending, and no report is written.
submit activation_scan 3 "$T/bad" "${act_flags[@]}"
expect_states[$array_job]="2 JobState=COMPLETED 1 JobState=FAILED"
expect_states[$merge_job]="1 JobState=CANCELLED"
wait_for_jobs
[ ! -e "$T/bad/report.pb" ] || fail "a merge ran after a failed task"
"$report_equal" "$T/act_single.pb" "$T/act/report.pb" || fail "activation_scan merge differs"
# (quant_eval sums per token add in another order: equal to ~1 ulp; seconds are timings.)
"$report_equal" --rel_tol=1e-12 --ignore=seconds "$T/qe_single.pb" "$T/qe/report.pb" ||
  fail "quant_eval merge differs"

# Another run into the same folder is refused.
"$submit" --tool=weight_scan --shards=3 --out_dir="$T/run" --bin="$bin" \
  -- --checkpoint="$T/ckpt.safetensors" >"$T/other.txt" 2>&1 && fail "a second run was accepted"
grep -q "holds another run" "$T/other.txt" || fail "unclear refusal: $(cat "$T/other.txt")"

log "PASS"
