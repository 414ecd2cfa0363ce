#!/usr/bin/env bash
# quant_eval from the command line: every configuration on a tiny checkpoint (report in all
# formats, text summary sorted by KL, HTML), exit 2 on usage errors (an unknown configuration is
# named and the valid ones listed), exit 1 naming the file on malformed inputs, and no output
# file after a failure.
set -uo pipefail
make_tiny="$1"; qe="$2"; merge="$3"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/out.txt" "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}
"$make_tiny" "$t/tiny" "$t/ids.txt" || fail "fixture"
all=fp32,w8a8,w8a8_tensor,kv8,kv4,w4a16_g128,fp8,kvfp8,mxfp4,w8a8_kv8,w8a8_tensor_kv4
expect_code 0 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt,$t/ids.txt" --configs="$all" \
  --json="$t/q.json" --out="$t/q.pb" --textproto="$t/q.txtpb" --html="$t/q.html"
cp "$t/out.txt" "$t/run.txt"
for f in q.json q.pb q.txtpb q.html; do [ -s "$t/$f" ] || fail "no $f"; done
grep -q '"quant_eval_report"' "$t/q.json" || fail "json body"
grep -q '"mean_kl"' "$t/q.json" || fail "json mean_kl"
grep -q 'data-chart="quant-eval-kl"' "$t/q.html" || fail "html KL chart"
# The summary: one line per configuration, fp32 first (KL 0), sorted by KL.
[ "$(grep -cE '^(fp32|w8a8|w8a8_tensor|kv8|kv4|w4a16_g128|fp8|kvfp8|mxfp4|w8a8_kv8|w8a8_tensor_kv4) ' "$t/run.txt")" -eq 11 ] \
  || { cat "$t/run.txt"; fail "summary lines"; }
first=$(grep -m1 -E '^(fp32|w8a8|kv|fp8|mxfp4|w4a16)' "$t/run.txt" | awk '{print $1}')
[ "$first" = fp32 ] || fail "fp32 is not first (KL 0): $first"
awk '/^config /{on=1; next} on && NF>=5 {print $4}' "$t/run.txt" >"$t/kl.txt"
sort -g -c "$t/kl.txt" || fail "summary not sorted by KL"

# Shards: two token files, one per shard, merged by report_merge equal the whole run (sums).
printf '3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4' >"$t/ids2.txt"
cfg=fp32,w8a8_tensor,kv4
expect_code 0 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt,$t/ids2.txt" --configs=$cfg --json="$t/whole.json"
for i in 0 1; do
  expect_code 0 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt,$t/ids2.txt" --configs=$cfg --threads=1 \
    --shard=$i/2 --out="$t/s$i.pb"
done
expect_code 0 "$merge" "$t/s0.pb" "$t/s1.pb" --json="$t/merged.json"
python3 - "$t/whole.json" "$t/merged.json" <<'PY' || fail "merged shards differ from the whole run"
import json, sys
a = json.load(open(sys.argv[1]))["quant_eval_report"]
b = json.load(open(sys.argv[2]))["quant_eval_report"]
assert a["num_predicted"] == b["num_predicted"], (a["num_predicted"], b["num_predicted"])
def close(x, y): return x == y or abs(x - y) <= 1e-12 * max(abs(x), abs(y))
assert close(a["fp32_mean_nll"], b["fp32_mean_nll"])
for ca, cb in zip(a["configs"], b["configs"]):
    assert ca["name"] == cb["name"]
    for k in ("mean_nll", "mean_kl", "top1_agreement", "delta_nll"):
        assert close(ca[k], cb[k]), (ca["name"], k, ca[k], cb[k])
    for la, lb in zip(ca["layers"], cb["layers"]):
        if la["residual_sqnr_db"] != "Infinity":
            assert close(la["residual_sqnr_db"], lb["residual_sqnr_db"]), (la, lb)
print("merged == whole")
PY
expect_code 2 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --shard=2/2

# Remedies: the report records them, the summary ranks them per base.
expect_code 0 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" \
  --configs=w8a8_tensor,w8a8_tensor+keep_sink,w8a8_tensor+smooth0.8,w8a8_tensor+rotate,w8a8_tensor+llmint8,w8a8_tensor+clip,kv4,kv4+keep_sink4 \
  --calibration="$t/ids2.txt" --json="$t/rem.json" --html="$t/rem.html"
grep -q "Which remedy wins for w8a8_tensor" "$t/rem.html" || fail "html: no remedy ranking"
grep -q "which remedy wins for w8a8_tensor" "$t/out.txt" || { cat "$t/out.txt"; fail "no remedy ranking"; }
grep -q "which remedy wins for kv4" "$t/out.txt" || fail "no kv4 remedy ranking"
grep -q '"smooth_alpha": 0.8' "$t/rem.json" || fail "smooth alpha not recorded"
grep -q '"keep_sink_tokens": 4' "$t/rem.json" || fail "keep_sink tokens not recorded"
grep -q 'ids2.txt' "$t/rem.json" || fail "calibration file not recorded"
grep -q '"rotation": "residual: ' "$t/rem.json" || fail "rotation not recorded"
# Remedy usage errors: exit 2 with the reason.
expect_code 2 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --configs=w8a8+magic
grep -q "unknown remedy '+magic'" "$t/err.txt" || fail "unknown remedy not named"
expect_code 2 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --configs=w8a8+smooth1.5
grep -q "outside (0, 1)" "$t/err.txt" || fail "alpha outside (0, 1) not explained"

# Usage errors: exit 2, nothing written.
expect_code 2 "$qe"
expect_code 2 "$qe" --checkpoint="$t/tiny"
expect_code 2 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --configs=w8a8,w9a9 --out="$t/u.pb"
grep -q "w9a9" "$t/err.txt" || fail "unknown configuration not named"
grep -q "valid: fp32, w8a8" "$t/err.txt" || fail "valid configurations not listed"
expect_code 2 "$qe" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --configs=fp32,fp32
[ ! -e "$t/u.pb" ] || fail "output after a usage error"
# Errors: exit 1 naming the file.
expect_code 1 "$qe" --checkpoint="$t/missing" --tokens="$t/ids.txt" --out="$t/x.pb"
[ ! -e "$t/x.pb" ] || fail "partial output after a failure"
printf '1 2 three' >"$t/bad.txt"
expect_code 1 "$qe" --checkpoint="$t/tiny" --tokens="$t/bad.txt" --out="$t/y.pb"
grep -q "bad.txt" "$t/err.txt" || fail "error does not name the token file"
printf '1 2 99999' >"$t/range.txt"
expect_code 1 "$qe" --checkpoint="$t/tiny" --tokens="$t/range.txt" --out="$t/y.pb"
grep -q "range.txt" "$t/err.txt" || fail "out-of-vocabulary error does not name the file"
[ ! -e "$t/y.pb" ] || fail "partial output after a failure"
d="$t/bad_ckpt"; mkdir -p "$d"; cp "$t/tiny/config.json" "$d/"
head -c 6 "$t/tiny/model.safetensors" >"$d/model.safetensors"
expect_code 1 "$qe" --checkpoint="$d" --tokens="$t/ids.txt" --json="$t/z.json"
grep -q "model.safetensors" "$t/err.txt" || fail "error does not name the checkpoint file"
[ ! -e "$t/z.json" ] || fail "partial output after a failure"
echo "quant_eval CLI: ok"
