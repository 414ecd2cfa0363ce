#!/usr/bin/env bash
# deploy/k8s: the manifests are valid YAML under yamllint (strict, deploy/k8s/.yamllint) and
# consistent: the scan is an Indexed Job whose SINKSCOPE_SHARDS equals its completions, the
# merge Job expects the same N and both mount the same shared claim and output folder. (No
# Kubernetes schema check: kubectl validates only against a live API server.) SKIP when Debian's
# yamllint is not installed (bash tools/setup.sh installs it).
set -uo pipefail
scan="$1"; merge="$2"; config="$3"
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v yamllint >/dev/null 2>&1; then
  echo "SKIP: yamllint not installed (bash tools/setup.sh)"
  exit 0
fi
yamllint --strict -c "$config" "$scan" "$merge" || fail "yamllint"
value() {  # value FILE KEY: the first "KEY: value" in FILE, unquoted
  sed -n "s/^ *$2: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$1" | head -n 1
}
env_value() {  # env_value FILE NAME: the value of env var NAME
  grep -A1 -- "- name: $2\$" "$1" | sed -n 's/^ *value: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' | head -n 1
}
[ "$(value "$scan" completionMode)" = Indexed ] || fail "the scan is not an Indexed Job"
n=$(value "$scan" completions)
[ -n "$n" ] && [ "$(env_value "$scan" SINKSCOPE_SHARDS)" = "$n" ] ||
  fail "SINKSCOPE_SHARDS ($(env_value "$scan" SINKSCOPE_SHARDS)) != completions ($n)"
[ "$(env_value "$merge" SINKSCOPE_SHARDS)" = "$n" ] || fail "the merge expects another N"
[ "$(env_value "$scan" SINKSCOPE_OUT)" = "$(env_value "$merge" SINKSCOPE_OUT)" ] ||
  fail "scan and merge write different folders"
claim() { grep -A2 -- '- name: shared$' "$1" | sed -n 's/^ *claimName: *//p' | head -n 1; }
[ -n "$(claim "$scan")" ] && [ "$(claim "$scan")" = "$(claim "$merge")" ] ||
  fail "scan and merge mount different shared claims"
grep -q 'run_shard.sh' "$scan" && grep -q 'merge_shards.sh' "$merge" || fail "scripts not used"
echo "PASS: yamllint --strict clean; Indexed Job, N=$n shards, shared claim $(claim "$scan")"
