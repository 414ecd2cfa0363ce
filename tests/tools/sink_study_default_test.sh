#!/usr/bin/env bash
# sink_study with no model given (the README's first command, --quick): trains the tiny models
# through train_variants (found in the runfiles, as under `bazel run`), caches them, studies every
# variant and writes study.{pb,json,html}. Checks the stdout answer comes first, the report's
# structure and consistency (study_report_check), that a second run reuses the cache, and that
# the page renders in headless Chromium with the study's and the training's charts.
set -uo pipefail
sink_study="$1"; check="$2"
t="$TEST_TMPDIR"
outputs="${TEST_UNDECLARED_OUTPUTS_DIR:-$t/outputs}"
mkdir -p "$outputs"
fail() { echo "FAIL: $*"; exit 1; }
variants="vanilla,sink_tokens,kv_bias,sink_logit,softmax1,clipped_softmax,gated,sigmoid,passkey_full,passkey_sliding,passkey_alternating"

"$sink_study" --quick --cache_dir="$t/cache" --out_dir="$t/study" >"$t/out1.txt" 2>"$t/err1.txt" \
  || { tail -30 "$t/err1.txt"; fail "sink_study --quick exited $?"; }
cat "$t/out1.txt"
head -1 "$t/out1.txt" | grep -q "^sink_study: sinks, massive activations" || fail "answer not first"
grep -q "training the tiny models" "$t/err1.txt" || fail "no training progress on stderr"
for f in study.pb study.json study.html; do [ -s "$t/study/$f" ] || fail "no $f"; done
"$check" "$t/study/study.pb" "$variants" 11 || fail "study report inconsistent"
cp "$t/study/study.html" "$outputs/study_default.html"

# Cached: the second run trains nothing.
"$sink_study" --quick --cache_dir="$t/cache" --out_dir="$t/study2" >"$t/out2.txt" 2>"$t/err2.txt" \
  || fail "cached sink_study exited $?"
grep -q "from the cache" "$t/err2.txt" || fail "second run did not use the cache"
if grep -q "training the tiny models" "$t/err2.txt"; then fail "second run trained again"; fi
cmp -s <(sed 1d "$t/out1.txt" | grep -v "cached in\|from the cache\|^report:") \
       <(sed 1d "$t/out2.txt" | grep -v "cached in\|from the cache\|^report:") \
  || fail "cached run gives different numbers"

# The page in a browser.
chromium=/usr/bin/chromium
[ -x "$chromium" ] || fail "$chromium not found (tools/setup.sh installs it)"
profile=$(mktemp -d "$t/profile.XXXXXX")
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 --dump-dom \
  "file://$t/study/study.html" >"$t/dom.html" 2>"$t/dom.log" || fail "chromium --dump-dom"
if grep -iE 'CONSOLE.*(error|violates|refused|failed)|Uncaught' "$t/dom.log"; then
  fail "console errors"
fi
for kind in training-copy-loss training-sink-rate training-massive training-int8 streaming \
            value-heatmap kl-heatmap heatmap receptive-field; do
  n=$({ grep -o "data-chart=\"$kind\"" "$t/dom.html" || true; } | wc -l)
  [ "$n" -ge 1 ] || fail "no $kind chart in the rendered page"
  echo "ok: $n x $kind"
done
profile=$(mktemp -d "$t/profile.XXXXXX")
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --screenshot="$outputs/study_default.png" --window-size=1280,2000 \
  "file://$t/study/study.html" >/dev/null 2>&1 || fail "chromium --screenshot"
[ "$(wc -c <"$outputs/study_default.png")" -gt 40000 ] || fail "blank screenshot"
echo PASS
