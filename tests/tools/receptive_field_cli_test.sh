#!/usr/bin/env bash
# receptive_field from the command line: summaries, sweep, reports (pb/json/html), usage errors.
set -uo pipefail
rf="$1"; report_view="$2"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
"$rf" --window=100 --layers=10 --alpha=0.9 --out="$t/rf.pb" --json="$t/rf.json" \
  --html="$t/rf.html" >"$t/out.txt" || fail "run"
cat "$t/out.txt"
grep -q "^exact:" "$t/out.txt" || fail "no exact summary"
grep -q "^gaussian:" "$t/out.txt" || fail "no gaussian line"
grep -q "^exponential:" "$t/out.txt" || fail "no exponential line"
grep -q '"reach_at_epsilon"' "$t/rf.json" || fail "json"
grep -q 'data-chart="receptive-field"' "$t/rf.html" || fail "no receptive-field chart"
"$report_view" "$t/rf.pb" | grep -q "receptive field" || fail "report_view"
"$rf" --window=16 --layers=4 --alpha=0 --sweep >"$t/sweep.txt" || fail "sweep"
grep -q "W=16" "$t/sweep.txt" || fail "sweep table"
"$rf" --window=8 --layers=4 --alpha=0.5 --pattern=SF --context=64 >/dev/null || fail "pattern SF"
for bad in "--window=0" "--alpha=1" "--alpha=-0.5" "--layers=0" "--window=100 --context=50" \
           "--pattern=SX"; do
  # shellcheck disable=SC2086
  "$rf" $bad >/dev/null 2>&1
  code=$?
  [ "$code" -eq 2 ] || fail "'$bad' exited $code, want 2"
done
"$rf" --out="$t/no/such/dir/x.pb" >/dev/null 2>&1
[ $? -eq 1 ] || fail "unwritable output should exit 1"
echo PASS
