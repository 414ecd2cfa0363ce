#!/usr/bin/env bash
# Builds and runs the example consumer workspace (a separate Bazel workspace that depends on
# sinkscope through local_repository). Exits non-zero when the build or the program fails.
set -euo pipefail
cd "$(dirname "$0")"
# This workspace has its own Bazel server; stop it afterwards unless asked to keep it.
[ -n "${SINKSCOPE_KEEP_CONSUMER_SERVER:-}" ] || trap 'bazel shutdown 2>/dev/null || true' EXIT
bazel build //:consumer
out=$(bazel-bin/consumer)
echo "$out"
# The program must say something: three result lines.
[ "$(printf '%s\n' "$out" | grep -c 'SQNR\|reach')" -eq 3 ]
