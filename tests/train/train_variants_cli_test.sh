#!/usr/bin/env bash
# train_variants --quick end to end: every run trains and lands as a checkpoint directory that the
# analysis binaries read (activation_scan, weight_scan), the training report lists every run with
# its emergence curve, the back-copy is learned, and usage errors exit 2. The emergence table is
# recorded (test log and undeclared outputs), not asserted: sinks are what the models learn.
set -uo pipefail
train="$1"; scan="$2"; wscan="$3"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
"$train" --quick --out_dir="$t/runs" --json="$t/train.json" >"$t/table.txt" 2>"$t/progress.txt" \
  || { cat "$t/progress.txt"; fail "train_variants --quick"; }
cat "$t/table.txt"
if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
  cp "$t/table.txt" "$TEST_UNDECLARED_OUTPUTS_DIR/emergence_table.txt"
  cp "$t/runs/training.json" "$TEST_UNDECLARED_OUTPUTS_DIR/training.json"
fi
grep -q "step 400/400" "$t/progress.txt" || fail "no progress lines on stderr"
runs="vanilla sink_tokens kv_bias sink_logit softmax1 clipped_softmax gated sigmoid passkey_full passkey_sliding passkey_alternating"
for r in $runs; do
  d="$t/runs/$r"
  [ -s "$d/model.safetensors" ] || fail "$r: no model.safetensors"
  grep -q '"model_type": "sinkscope"' "$d/config.json" || fail "$r: config.json"
  [ -s "$d/checkpoints/step-000100/model.safetensors" ] || fail "$r: no intermediate checkpoint"
  grep -q "\"name\": \"$r\"" "$t/runs/training.json" || fail "$r missing from training.json"
  grep -q "^$r " "$t/table.txt" || fail "$r missing from the table"
done
cmp -s "$t/runs/training.json" "$t/train.json" || fail "--json differs from out_dir/training.json"
[ "$(grep -c '"eval_copy_loss"' "$t/train.json")" -eq 44 ] || fail "expected 4 checkpoints x 11 runs"
# Learned: copy-position loss of vanilla below half the previous-token-only baseline.
awk '$1 == "vanilla" { exit !($3 < 0.5 * $4) }' "$t/table.txt" || fail "vanilla did not learn the copy"
# Full attention retrieves the passkey better than a window that cannot reach it.
awk '$1 == "passkey_full" { f = $3 } $1 == "passkey_sliding" { s = $3 } END { exit !(f < s) }' \
  "$t/table.txt" || fail "passkey: full attention not better than the sliding window"
# The analysis binaries on a trained model.
echo "0 9 12 1 12 30 31 2 31 40 41 42" >"$t/ids.txt"
"$scan" --checkpoint="$t/runs/sink_logit" --tokens="$t/ids.txt" --json="$t/act.json" >/dev/null \
  || fail "activation_scan on a trained checkpoint"
grep -q '"sink_slot_mass"' "$t/act.json" || fail "activation report"
"$wscan" --checkpoint="$t/runs/kv_bias" --json="$t/w.json" >/dev/null || fail "weight_scan"
grep -q "self_attn.k_bias" "$t/w.json" || fail "weight_scan did not list the KV bias"
# Usage errors.
"$train" --runs=nope --out_dir="$t/x" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--runs=nope exit code"
"$train" --steps=-1 --out_dir="$t/x" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--steps=-1 exit code"
[ ! -e "$t/x" ] || fail "output after a usage error"
echo PASS
