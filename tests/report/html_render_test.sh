#!/usr/bin/env bash
# The fixture pages (html_fixture_main) render in a real browser: headless Chromium loads each
# page offline, its DOM holds the expected number of charts of each kind, the console reports no
# error, and a screenshot of each page (report.png, report_weights.png, report_study.png,
# report_sink_study.png: a page written by sink_study itself) lands in
# the test's undeclared outputs (bazel-testlogs/tests/report/html_render_test/test.outputs/).
#
# Needs /usr/bin/chromium (tools/setup.sh installs it); without it the test fails.
set -euo pipefail

fixture="$1"
make_tiny="${2:-}"
sink_study="${3:-}"
chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  echo "FAIL: $chromium not found: install it (apt-get install -y chromium, or tools/setup.sh)"
  exit 1
fi

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
outputs="${TEST_UNDECLARED_OUTPUTS_DIR:-$tmp/outputs}"
mkdir -p "$outputs"

"$fixture" "$tmp/activations.html" "$tmp/weights.html" "$tmp/study.html"
# A page sink_study itself wrote, on a tiny random Llama checkpoint.
if [ -n "$sink_study" ]; then
  "$make_tiny" "$tmp/tiny" "$tmp/ids.txt"
  "$sink_study" --checkpoint="$tmp/tiny" --quick --out_dir="$tmp/real_study" >/dev/null 2>&1 ||
    { echo "FAIL: sink_study exited $?"; exit 1; }
  cp "$tmp/real_study/study.html" "$tmp/sink_study.html"
fi

# run_chromium LOG ARGS...: one headless run with a fresh profile; stdout to the caller.
run_chromium() {
  local log="$1"
  shift
  local profile
  profile=$(mktemp -d "$tmp/chromium-profile.XXXXXX")
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@" 2>"$log"
}

# check_console LOG: page errors show up in Chromium's log as CONSOLE lines; the page's
# Content-Security-Policy turns any attempt to load something into a "violates" CONSOLE line.
check_console() {
  if grep -iE 'CONSOLE.*(error|violates|refused|failed)|error.*CONSOLE|Uncaught' "$1"; then
    echo "FAIL: console errors while rendering ($1)"
    exit 1
  fi
}

failures=0
# check_page NAME PNG KIND=COUNT...: DOM chart counts, console, screenshot.
check_page() {
  local name="$1" png="$2"
  shift 2
  local page="$tmp/$name.html"
  local dom="$tmp/$name.dom.html"
  run_chromium "$tmp/$name.dom.log" --dump-dom "file://$page" >"$dom" ||
    { echo "FAIL: chromium --dump-dom exited $? on $name"; cat "$tmp/$name.dom.log"; exit 1; }
  check_console "$tmp/$name.dom.log"
  grep -q '</svg>' "$dom" || { echo "FAIL: $name: no SVG in the rendered DOM"; exit 1; }
  local spec kind want got
  for spec in "$@"; do
    kind="${spec%=*}"
    want="${spec#*=}"
    got=$({ grep -o "data-chart=\"$kind\"" "$dom" || true; } | wc -l)
    if [ "$got" -ne "$want" ]; then
      echo "FAIL: $name: $got charts of kind $kind in the DOM, want $want"
      failures=$((failures + 1))
    else
      echo "ok: $name: $got x $kind"
    fi
  done
  run_chromium "$tmp/$name.shot.log" --screenshot="$outputs/$png" --window-size=1280,2400 \
    "file://$page" >/dev/null ||
    { echo "FAIL: chromium --screenshot exited $? on $name"; cat "$tmp/$name.shot.log"; exit 1; }
  check_console "$tmp/$name.shot.log"
  [ -f "$outputs/$png" ] || { echo "FAIL: $name: no screenshot written"; exit 1; }
  local bytes
  bytes=$(wc -c <"$outputs/$png")
  # A blank 1280x2400 page compresses to a few kB; a page of charts is far larger.
  if [ "$bytes" -lt 40000 ]; then
    echo "FAIL: $name: screenshot is only $bytes bytes (blank page?)"
    failures=$((failures + 1))
  else
    echo "ok: $name: screenshot $png, $bytes bytes"
  fi
}

# Expected counts follow html_fixture_main.cc.
check_page activations report.png \
  heatmap=6 layer-bars=1 channel-profile=3 quant-error=1 receptive-field=0
check_page weights report_weights.png \
  heatmap=0 layer-bars=0 channel-profile=12 quant-error=1 receptive-field=0
# study: 1 SQNR value heatmap by variant + 4 per-layer ones; the activation section's SQNR bars;
# streaming: 1 bar chart + 4 curves.
check_page study report_study.png \
  heatmap=2 layer-bars=1 channel-profile=1 quant-error=1 value-heatmap=5 receptive-field=1 \
  streaming=5

# sink_study on the tiny checkpoint (2 layers x 4 heads): maps of heads 0-1 of both layers; one
# channel profile per layer; SQNR value heatmaps by variant + per layer (no SQNR bars: the
# scan's own int8 replay is off); the receptive field of the pattern "FF"; streaming bars + one
# curve.
if [ -n "$sink_study" ]; then
  check_page sink_study report_sink_study.png \
    heatmap=4 layer-bars=1 channel-profile=2 quant-error=0 value-heatmap=2 receptive-field=1 \
    streaming=2
fi

if [ "$failures" -ne 0 ]; then
  echo "FAIL: $failures check(s) failed"
  exit 1
fi
echo "PASS"
