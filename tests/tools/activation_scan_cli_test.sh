#!/usr/bin/env bash
# activation_scan from the command line: a report on a tiny checkpoint, exit codes 2 (usage) and
# 1 (errors naming the file) on malformed inputs, and no output file after a failure.
set -uo pipefail
make_tiny="$1"; scan="$2"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}
"$make_tiny" "$t/tiny" "$t/ids.txt" || fail "fixture"
"$scan" --checkpoint="$t/tiny" --tokens="$t/ids.txt,$t/ids.txt" --json="$t/act.json" >"$t/run.txt" \
  || fail "scan"
grep -q "mean next-token NLL" "$t/run.txt" || fail "no NLL line"
grep -q '"sink_rate"' "$t/act.json" || fail "json"
grep -q '"num_sequences": 2' "$t/act.json" || fail "two sequences merged"
expect_code 2 "$scan"
expect_code 2 "$scan" --checkpoint="$t/tiny"
expect_code 2 "$scan" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --shard=3/2
expect_code 1 "$scan" --checkpoint="$t/missing" --tokens="$t/ids.txt" --out="$t/x.pb"
[ ! -e "$t/x.pb" ] || fail "partial output after a failure"
printf '1 2 three' >"$t/bad.txt"
expect_code 1 "$scan" --checkpoint="$t/tiny" --tokens="$t/bad.txt" --out="$t/y.pb"
grep -q "bad.txt" "$t/err.txt" || fail "error does not name the token file"
[ ! -e "$t/y.pb" ] || fail "partial output after a failure"
printf '1 2 999' >"$t/range.txt"
expect_code 1 "$scan" --checkpoint="$t/tiny" --tokens="$t/range.txt"
# Malformed checkpoints: truncated header, header length beyond the file, 2^63 header length.
for case in truncated beyond huge; do
  d="$t/bad_$case"; mkdir -p "$d"; cp "$t/tiny/config.json" "$d/"
  case "$case" in
    truncated) head -c 6 "$t/tiny/model.safetensors" >"$d/model.safetensors" ;;
    beyond) printf '\xff\xff\x00\x00\x00\x00\x00\x00{}' >"$d/model.safetensors" ;;
    huge) printf '\x00\x00\x00\x00\x00\x00\x00\x80{}' >"$d/model.safetensors" ;;
  esac
  expect_code 1 "$scan" --checkpoint="$d" --tokens="$t/ids.txt"
  grep -q "model.safetensors" "$t/err.txt" || fail "$case: error does not name the file"
done
echo PASS
