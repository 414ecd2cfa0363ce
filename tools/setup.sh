#!/usr/bin/env bash
# tools/setup.sh: installs every Debian package sinkscope's build and tests need. Idempotent:
# packages already present are left alone, and a machine with all of them needs neither root
# nor the network.
#
# Usage: sudo bash tools/setup.sh        (or as root)
set -euo pipefail

PACKAGES=(
  bazel-bootstrap      # Bazel 4.2.3
  bazel-rules-java     # @rules_java, which Bazel 4 loads for every workspace
  g++
  git
  libdnnl-dev          # oneDNN 2.6.3
  libeigen3-dev        # Eigen 3.4
  libabsl-dev          # Abseil 20220623
  libprotobuf-dev      # Protocol Buffers 3.21
  protobuf-compiler    # protoc 3.21
  libgtest-dev         # GoogleTest 1.12
  libgmock-dev
  libbenchmark-dev     # Google Benchmark 1.7
  chromium             # headless, for the HTML report test
  libtorch-dev         # PyTorch 1.13 C++ API, train/ only
  libopenblas0-pthread # the BLAS libtorch should use (the reference BLAS is ~30x slower)
  slurm-wlm            # Slurm 22.05: tests/deploy:slurm_array_test runs deploy/slurm on one node
  munge                # Slurm's authentication, for the same test
  yamllint             # lints deploy/k8s (tests/deploy:k8s_manifest_test)
  libopenblas-pthread-dev # cblas.h and libopenblas.so of that same build, for quant/sgemm
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: error: apt-get not found; install these Debian packages by hand: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: error: installing packages needs root; run: sudo bash tools/setup.sh" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
  echo "setup: error: 'apt-get update' failed; check the network or the apt sources" >&2
  exit 1
fi
if ! apt-get install -y -qq "${missing[@]}"; then
  echo "setup: error: 'apt-get install ${missing[*]}' failed" >&2
  exit 1
fi
echo "setup: done"
