#!/usr/bin/env bash
# attention_replay from the command line: a successful run (outputs and reports), usage errors
# exit 2, errors exit 1 naming the file and key, and a failed run leaves no output file.
set -uo pipefail
make_fixture="$1"; replay="$2"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {  # expect_code CODE CMD...
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/out.txt" "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}
expect_no_file() { [ ! -e "$1" ] || fail "a failed run left $1 behind"; }

"$make_fixture" "$t" || fail "fixture"
layer="$t/layer.safetensors"; input="$t/input.safetensors"

# Success: the output file and the reports.
expect_code 0 "$replay" --layer="$layer" --input="$input" --output="$t/out.safetensors" --int8 \
  --keep_sink_kv_fp32=1 --json="$t/report.json" --out="$t/report.pb" --textproto="$t/report.txtpb"
[ -s "$t/out.safetensors" ] || fail "no output file"
[ -s "$t/report.pb" ] && [ -s "$t/report.txtpb" ] || fail "no .pb / .txtpb report"
for word in '"output"' '"output_int8"' '"sink_mass"'; do
  grep -q "$word" "$t/out.safetensors" || fail "output file lacks $word"
done
for word in '"activation_report"' '"tool": "attention_replay"' '"quant_errors"' '"sink_slot_mass"' \
            '"name": "probs"' '"keep_sink_kv_fp32": "1"'; do
  grep -q "$word" "$t/report.json" || fail "report.json lacks $word"
done
expect_code 0 "$replay" --layer="$layer" --input="$input" --output="$t/plain.safetensors"
grep -q '"output_int8"' "$t/plain.safetensors" && fail "output_int8 without --int8"
# --p_scheme: the report names P's quantization (the default is per_row).
grep -q 'P u8 per-row' "$t/report.json" || fail "report.json does not name the default P scheme"
for scheme in fixed:'P u8 fixed 1/255' fp32:'P fp32' per_row:'P u8 per-row'; do
  expect_code 0 "$replay" --layer="$layer" --input="$input" --output="$t/p.safetensors" --int8 \
    --p_scheme="${scheme%%:*}" --json="$t/p.json"
  grep -q "${scheme#*:}" "$t/p.json" || fail "--p_scheme=${scheme%%:*}: report lacks '${scheme#*:}'"
done

# Usage errors: exit 2, nothing written.
expect_code 2 "$replay"
expect_code 2 "$replay" --layer="$layer" --input="$input"
expect_code 2 "$replay" --layer="$layer" --output="$t/u.safetensors"
expect_code 2 "$replay" --layer="$layer" --input="$input" --output="$t/u.safetensors" --int8 \
  --keep_sink_kv_fp32=-1
expect_code 2 "$replay" --layer="$layer" --input="$input" --output="$t/u.safetensors" --int8 \
  --keep_sink_kv_fp32=two
expect_code 2 "$replay" --layer="$layer" --input="$input" --output="$t/u.safetensors" \
  --keep_sink_kv_fp32=1
expect_code 2 "$replay" --layer="$layer" --input="$input" --output="$t/u.safetensors" --int8 \
  --p_scheme=per_column
grep -q "per_row, fixed, fp32" "$t/err.txt" || fail "an unknown --p_scheme does not list the valid ones"
expect_code 2 "$replay" --layer="$layer" --input="$input" --output="$t/u.safetensors" \
  --p_scheme=fixed
expect_no_file "$t/u.safetensors"

# Errors: exit 1, the message names the file (and the key), no output or report left behind.
printf 'garbage' >"$t/garbage.safetensors"
expect_code 1 "$replay" --layer="$t/garbage.safetensors" --input="$input" \
  --output="$t/e1.safetensors" --json="$t/e1.json"
grep -q "garbage.safetensors" "$t/err.txt" || fail "error does not name the layer file"
expect_no_file "$t/e1.safetensors"; expect_no_file "$t/e1.json"
expect_code 1 "$replay" --layer="$t/no_heads_layer.safetensors" --input="$input" \
  --output="$t/e2.safetensors" --out="$t/e2.pb"
grep -q "no_heads_layer.safetensors" "$t/err.txt" || fail "error does not name the layer file"
grep -q "num_heads" "$t/err.txt" || fail "error does not name the metadata key"
expect_no_file "$t/e2.safetensors"; expect_no_file "$t/e2.pb"
expect_code 1 "$replay" --layer="$layer" --input="$layer" --output="$t/e3.safetensors"
grep -q "unknown tensor" "$t/err.txt" || fail "a layer given as the input is not rejected clearly"
expect_no_file "$t/e3.safetensors"
# Unwritable outputs are caught before any work.
expect_code 1 "$replay" --layer="$layer" --input="$input" --output="$t/no/such/dir/o.safetensors"
expect_code 1 "$replay" --layer="$layer" --input="$input" --output="$t/e4.safetensors" \
  --json="$t/no/such/dir/r.json"
expect_no_file "$t/e4.safetensors"
echo PASS
