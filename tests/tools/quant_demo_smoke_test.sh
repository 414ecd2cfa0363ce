#!/usr/bin/env bash
# quant_demo (the README's int8 illustration) runs on its built-in tensor, every row's
# oneDNN result equals the integer oracle ("exact yes"), per-token activations beat per-tensor
# ones in the presence of massive activations, and usage errors exit with code 2.
set -euo pipefail
demo="$1"
out=$("$demo" --tokens=64 --channels=256 --out=128)
echo "$out"
rows=$(echo "$out" | grep -cE '^int[48] ')
[ "$rows" -ge 8 ] || { echo "FAIL: expected >= 8 scheme rows, got $rows"; exit 1; }
if echo "$out" | grep -E '^int[48] ' | grep -q ' NO '; then
  echo "FAIL: a row's oneDNN result differs from the oracle"; exit 1
fi
# The SQNR column: characters 51-59 (activations %-26s, weights %-22s, SQNR %9s).
tensor_db=$(echo "$out" | grep -E '^int8 per-tensor sym +int8 per-tensor sym' | cut -c51-59)
token_db=$(echo "$out" | grep -E '^int8 per-token asym +int8 per-channel' | cut -c51-59)
awk -v a="$token_db" -v b="$tensor_db" 'BEGIN { exit !(a > b + 10) }' ||
  { echo "FAIL: per-token SQNR $token_db dB not 10 dB above per-tensor $tensor_db dB"; exit 1; }
set +e
"$demo" --tokens=0 >/dev/null 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || { echo "FAIL: bad --tokens exited $code, want 2"; exit 1; }
echo "PASS"
