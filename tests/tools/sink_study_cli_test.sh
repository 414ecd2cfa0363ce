#!/usr/bin/env bash
# sink_study from the command line: a report on a tiny checkpoint (study.pb, study.json,
# study.html, the answer table first on stdout), exit codes 2 (usage) and 1 (errors naming the
# file), no output directory after a failure, and Ctrl-C (SIGINT) mid-run: exit 130, no report.
set -uo pipefail
make_tiny="$1"; study="$2"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}
"$make_tiny" "$t/tiny" "$t/ids.txt" || fail "fixture"

# A report on a checkpoint, with a held-out token file.
expect_code 0 "$study" --checkpoint="$t/tiny" --tokens="$t/ids.txt" --quick --out_dir="$t/out"
for f in study.pb study.json study.html; do [ -s "$t/out/$f" ] || fail "no $f"; done
head -1 "$t/out.txt" | grep -q "^sink_study:" || fail "first line: $(head -1 "$t/out.txt")"
sed -n 2p "$t/out.txt" | grep -q "Sink_1^0.3" || fail "second line is not the answer header"
sed -n 3p "$t/out.txt" | grep -q "^tiny " || fail "third line is not the variant: $(sed -n 3p "$t/out.txt")"
grep -q "per-tensor kv4 keep1" "$t/out.txt" || fail "configuration table missing"
grep -q '"study_report"' "$t/out/study.json" || fail "json body"
[ "$(grep -c '"name": "per-channel/token kv8 keep4"' "$t/out/study.json")" -ge 1 ] || fail "json configs"
grep -q '"4+window"' "$t/out/study.json" || fail "json streaming runs"
grep -q 'data-chart="streaming"' "$t/out/study.html" || fail "html streaming chart"
grep -q "sink_study .*: streaming" "$t/err.txt" || fail "no progress on stderr"
ls "$t/out" | grep -qv '^study\.\(pb\|json\|html\)$' && fail "stray files in the output directory"

# --name, --nostreaming.
expect_code 0 "$study" --checkpoint="$t/tiny" --name=mine --nostreaming --quick --out_dir="$t/out2"
sed -n 3p "$t/out.txt" | grep -q "^mine " || fail "--name"
grep -q '"skipped": "disabled' "$t/out2/study.json" || fail "--nostreaming not recorded"

# Usage errors: exit 2.
expect_code 2 "$study" stray_argument
expect_code 2 "$study" --checkpoint="$t/tiny" --seq_len=1
expect_code 2 "$study" --checkpoint="$t/tiny" --streaming_cache=16 --streaming_length=16
expect_code 2 "$study" --tokens="$t/ids.txt"
expect_code 2 "$study" --checkpoint="$t/tiny" --sink_epsilon=2
expect_code 2 "$study" --checkpoint="$t/tiny" --out_dir=

# Errors: exit 1, the message names the file, and no output directory is left behind.
expect_code 1 "$study" --checkpoint="$t/missing" --quick --out_dir="$t/e1/deep"
grep -q "missing" "$t/err.txt" || fail "error does not name the checkpoint"
[ ! -e "$t/e1" ] || fail "output directory left after a failure"
printf '1 2 three' >"$t/bad.txt"
expect_code 1 "$study" --checkpoint="$t/tiny" --tokens="$t/bad.txt" --quick --out_dir="$t/e2"
grep -q "bad.txt" "$t/err.txt" || fail "error does not name the token file"
[ ! -e "$t/e2" ] || fail "output directory left after a bad token file"
printf '1 2 999' >"$t/range.txt"
expect_code 1 "$study" --checkpoint="$t/tiny" --tokens="$t/range.txt" --quick --out_dir="$t/e3"
grep -q "999" "$t/err.txt" || fail "error does not name the token"
[ ! -e "$t/e3" ] || fail "output directory left after an out-of-range token"
d="$t/bad_ckpt"; mkdir -p "$d"; cp "$t/tiny/config.json" "$d/"
head -c 6 "$t/tiny/model.safetensors" >"$d/model.safetensors"
expect_code 1 "$study" --checkpoint="$d" --quick --out_dir="$t/e4"
grep -q "model.safetensors" "$t/err.txt" || fail "error does not name the safetensors file"
[ ! -e "$t/e4" ] || fail "output directory left after a malformed checkpoint"
touch "$t/not_a_dir"
expect_code 1 "$study" --checkpoint="$t/tiny" --quick --out_dir="$t/not_a_dir"

# Ctrl-C in the middle of the default run, while it trains its models (train_variants from the
# runfiles, a child process): exit 130, nothing written, no cache entry, no temporary left.
"$study" --quick --cache_dir="$t/cache" --out_dir="$t/int" >"$t/int.out" 2>"$t/int.err" &
pid=$!
for _ in $(seq 1 1200); do
  grep -q "^\[vanilla\] step" "$t/int.err" 2>/dev/null && break
  sleep 0.1
done
grep -q "^\[vanilla\] step" "$t/int.err" || { kill "$pid"; cat "$t/int.err"; fail "no training progress before the interrupt"; }
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" -eq 130 ] || { cat "$t/int.err"; fail "SIGINT: exit $code, want 130"; }
grep -q "interrupted" "$t/int.err" || fail "no interruption message"
[ ! -e "$t/int" ] || fail "SIGINT left $(ls -R "$t/int")"
[ -z "$(ls -A "$t/cache" 2>/dev/null)" ] || fail "SIGINT left in the cache: $(ls -A "$t/cache")"
echo PASS
