#!/usr/bin/env bash
# The report pipeline from the command line: weight_scan (whole and in shards), report_merge,
# report_view, a binary report decoded by protoc from the .proto alone, exit codes (1 errors,
# 2 usage) and no partial outputs; shard runs in the provenance, and the merge refusing missing,
# corrupt or foreign shards (never a partial merge).
set -uo pipefail
make_fixture="$1"; weight_scan="$2"; report_merge="$3"; report_view="$4"; protoc="$5"; proto="$6"
t="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {  # expect_code CODE CMD...
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}

"$make_fixture" "$t/ckpt.safetensors" || fail "fixture"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --out="$t/whole.pb" --json="$t/whole.json" \
  --textproto="$t/whole.txtpb" >"$t/whole.txt" || fail "weight_scan"
grep -q "model.layers.0.mlp.down_proj.weight" "$t/whole.txt" || fail "summary lacks a tensor"

# Any language can read the reports: protoc decodes the binary with nothing but the .proto.
proto_dir=$(dirname "$proto")
"$protoc" --proto_path="$proto_dir" --decode=sinkscope.v1.Report "$(basename "$proto")" \
  <"$t/whole.pb" >"$t/decoded.txt" || fail "protoc --decode"
grep -q 'name: "model.layers.1.self_attn.q_proj.weight"' "$t/decoded.txt" || fail "decoded tensor"
grep -q 'tool: "weight_scan"' "$t/decoded.txt" || fail "decoded provenance"
grep -q '"median_abs"' "$t/whole.json" || fail "JSON field names are not snake_case"

# Shards merged equal the whole (compare the text summaries without the provenance line).
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --shard=0/2 --out="$t/s0.pb" >/dev/null || fail "shard 0"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --shard=1/2 --json="$t/s1.json" >/dev/null || fail "shard 1"
"$report_merge" "$t/s1.json" "$t/s0.pb" --out="$t/merged.pb" >/dev/null || fail "report_merge"
"$report_view" "$t/merged.pb" | tail -n +2 >"$t/merged.view" || fail "report_view merged"
"$report_view" "$t/whole.json" | tail -n +2 >"$t/whole.view" || fail "report_view whole"
diff "$t/merged.view" "$t/whole.view" || fail "merged shards differ from the whole scan"
"$report_view" "$t/whole.txtpb" --html="$t/whole.html" >/dev/null || fail "report_view --html"

# Each shard's provenance names its shard, tensors, bytes and seconds; the merge carries them all.
decode() {
  "$protoc" --proto_path="$proto_dir" --decode=sinkscope.v1.Report "$(basename "$proto")" <"$1"
}
decode "$t/s0.pb" >"$t/s0.txt" || fail "decode s0"
grep -A3 '^  shards {' "$t/s0.txt" | grep -q 'count: 2' || fail "shard 0 has no ShardRun"
grep -q '^    bytes: [1-9]' "$t/s0.txt" || fail "shard 0 reports no bytes"
grep -q '^    seconds: ' "$t/s0.txt" || fail "shard 0 reports no seconds"
decode "$t/merged.pb" >"$t/merged.txt" || fail "decode merged"
[ "$(grep -c '^  shards {' "$t/merged.txt")" -eq 2 ] || fail "the merged provenance lacks shards"
"$report_merge" "$t/s0.pb" "$t/s1.json" >"$t/merge.out" || fail "report_merge again"
grep -q "^2 shards:" "$t/merge.out" || fail "report_merge prints no shard table"
grep -q "bytes per shard .*; seconds per shard" "$t/merge.out" || fail "report_merge prints no byte spread"

# Never a partial merge: a missing, corrupt or foreign shard exits 1 naming it and writes nothing.
expect_code 1 "$report_merge" "$t/s0.pb" --out="$t/partial.pb"
grep -q "shards missing: 1 of 2" "$t/err.txt" || fail "missing shard not named: $(cat "$t/err.txt")"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/gone.pb" --out="$t/partial.pb"
grep -q "gone.pb" "$t/err.txt" && grep -q "shards missing: 1 of 2" "$t/err.txt" ||
  fail "unreadable shard not named: $(cat "$t/err.txt")"
printf 'garbage' >"$t/corrupt.pb"
expect_code 1 "$report_merge" "$t/corrupt.pb" "$t/s1.json" --out="$t/partial.pb"
grep -q "corrupt.pb" "$t/err.txt" && grep -q "shards missing: 0 of 2" "$t/err.txt" ||
  fail "corrupt shard not named: $(cat "$t/err.txt")"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/s1.json" --shards=3 --out="$t/partial.pb"
grep -q "3-way run" "$t/err.txt" || fail "--shards=3 not enforced: $(cat "$t/err.txt")"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --shard=1/3 --out="$t/t1.pb" >/dev/null || fail "1/3"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/t1.pb" --out="$t/partial.pb"
grep -q "different shard counts" "$t/err.txt" || fail "shard counts: $(cat "$t/err.txt")"
mkdir -p "$t/copy" && cp "$t/ckpt.safetensors" "$t/copy/model.safetensors"
"$weight_scan" --checkpoint="$t/copy" --shard=1/2 --out="$t/d1.pb" >/dev/null || fail "copy shard"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/d1.pb" --out="$t/partial.pb"
grep -q "configuration 'checkpoint' is '$t/copy' in '$t/d1.pb'" "$t/err.txt" ||
  fail "another checkpoint not named: $(cat "$t/err.txt")"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --shard=1/2 --schemes=tensor4 \
  --out="$t/q1.pb" >/dev/null || fail "tensor4 shard"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/q1.pb" --out="$t/partial.pb"
grep -q "configuration 'schemes' is 'tensor4'" "$t/err.txt" ||
  fail "another configuration not named: $(cat "$t/err.txt")"
decode "$t/s0.pb" | sed 's/tool: "weight_scan"/tool: "other_scan"/' |
  "$protoc" --proto_path="$proto_dir" --encode=sinkscope.v1.Report "$(basename "$proto")" \
    >"$t/o0.pb" || fail "protoc --encode"
expect_code 1 "$report_merge" "$t/o0.pb" "$t/s1.json" --out="$t/partial.pb"
grep -q "the tool is 'weight_scan' in '$t/s1.json', 'other_scan' in '$t/o0.pb'" "$t/err.txt" ||
  fail "another tool not named: $(cat "$t/err.txt")"
[ ! -e "$t/partial.pb" ] || fail "a refused merge wrote its output"
# --check validates without merging (what a re-submitted array task asks of its old report).
expect_code 0 "$report_merge" --check --shards=2 "$t/s1.json"
grep -qxF "$t/s1.json: weight_scan shard 1/2 ok" "$t/out.txt" || fail "--check: $(cat "$t/out.txt")"
expect_code 1 "$report_merge" --check "$t/corrupt.pb"
expect_code 1 "$report_merge" --check --shards=3 "$t/s1.json"
grep -q "<svg" "$t/whole.html" || fail "no SVG in the HTML report"

# The same checkpoint as a directory and behind an index: the same scan. --threads gives the
# same report; --filter selects; --schemes picks the schemes. (Text without provenance/path.)
strip() { tail -n +2 | grep -v "weight scan of"; }
"$weight_scan" --checkpoint="$t/ckpt.safetensors" | strip >"$t/file.txt" || fail "file scan"
mkdir -p "$t/dir" && cp "$t/ckpt.safetensors" "$t/dir/model.safetensors"
"$weight_scan" --checkpoint="$t/dir" | strip >"$t/dir.txt" || fail "directory scan"
diff "$t/file.txt" "$t/dir.txt" || fail "directory scan differs from the file scan"
names=$(grep -o 'name: "[^"]*"' "$t/decoded.txt" | sed 's/name: //' | sort -u | grep -v '"int')
map=$(for n in $names; do printf '%s: "ckpt.safetensors",' "$n"; done)
printf '{"metadata": {"total_size": 1}, "weight_map": {%s}}' "${map%,}" >"$t/ckpt.index.json"
"$weight_scan" --checkpoint="$t/ckpt.index.json" | strip >"$t/index.txt" || fail "index scan"
diff "$t/file.txt" "$t/index.txt" || fail "index scan differs from the file scan"
"$weight_scan" --checkpoint="$t/ckpt.index.json" --threads=3 | strip >"$t/threads.txt" || fail "threads"
diff "$t/file.txt" "$t/threads.txt" || fail "--threads=3 differs from --threads=1"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --filter='*mlp*' --json="$t/mlp.json" \
  >/dev/null || fail "--filter"
[ "$(grep -c '"name": "model.layers' "$t/mlp.json")" -eq 3 ] || fail "--filter did not select 3"
"$weight_scan" --checkpoint="$t/ckpt.safetensors" --schemes=tensor4 --json="$t/q4.json" \
  >/dev/null || fail "--schemes"
grep -q '"int4 per-tensor"' "$t/q4.json" || fail "no int4 error"
! grep -q '"int8 per' "$t/q4.json" || fail "--schemes=tensor4 still has int8 errors"
expect_code 2 "$weight_scan" --checkpoint="$t/ckpt.safetensors" --schemes=int3
expect_code 2 "$weight_scan" --checkpoint="$t/ckpt.safetensors" --threads=0
mkdir -p "$t/emptydir"
expect_code 1 "$weight_scan" --checkpoint="$t/emptydir"
grep -q "emptydir" "$t/err.txt" || fail "empty directory error does not name it"

# Usage errors exit 2, errors exit 1, and a failed run leaves no output file.
expect_code 2 "$weight_scan"
expect_code 2 "$weight_scan" --checkpoint="$t/ckpt.safetensors" --shard=2/2
expect_code 1 "$weight_scan" --checkpoint="$t/missing.safetensors" --out="$t/missing.pb"
[ ! -e "$t/missing.pb" ] || fail "partial output left behind"
expect_code 1 "$weight_scan" --checkpoint="$t/ckpt.safetensors" --out="$t/no/such/dir/x.pb"
grep -q "does not exist" "$t/err.txt" || fail "unclear unwritable-path error"
printf 'garbage' >"$t/garbage.safetensors"
expect_code 1 "$weight_scan" --checkpoint="$t/garbage.safetensors"
grep -q "garbage.safetensors" "$t/err.txt" || fail "error does not name the file"
expect_code 1 "$report_view" "$t/garbage.safetensors"
expect_code 2 "$report_view"
expect_code 2 "$report_merge"
expect_code 1 "$report_merge" "$t/s0.pb" "$t/s0.pb"
echo PASS
