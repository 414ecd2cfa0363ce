#!/usr/bin/env bash
# tokenizer.model against Debian's spm_encode (the SentencePiece reference CLI): trains a small
# BPE model with spm_train on the corpus (rare characters left to byte_fallback), then for every line of every corpus text compares
# `tokenize --add_special_tokens=false` with `spm_encode --output_format=id` (which encodes line
# by line), `--add_special_tokens=true` with BOS in front, and the decode of those ids with
# spm_decode. Also the checkpoint-folder form of --tokenizer.
# Usage: sentencepiece_test.sh TOKENIZE SPM_TRAIN SPM_ENCODE CORPUS_FILE...
set -euo pipefail
tokenize=$1; spm_train=$2; spm_encode=$3; shift 3
t=${TEST_TMPDIR:-$(mktemp -d)}
spm_decode="$(dirname "$spm_encode")/spm_decode"

cat "$@" > "$t/train.txt"
"$spm_train" --input="$t/train.txt" --model_prefix="$t/m" --vocab_size=600 --model_type=bpe \
  --byte_fallback=true --character_coverage=0.98 --hard_vocab_limit=false \
  --minloglevel=2 >"$t/train.log" 2>&1 || { cat "$t/train.log"; exit 1; }
mkdir -p "$t/ckpt" && cp "$t/m.model" "$t/ckpt/tokenizer.model"

lines=0
for f in "$@"; do
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    printf '%s' "$line" > "$t/line.txt"
    want=$(printf '%s\n' "$line" | "$spm_encode" --model="$t/m.model" --output_format=id)
    got=$("$tokenize" --tokenizer="$t/m.model" --text_file="$t/line.txt" --add_special_tokens=false)
    if [ "$got" != "$want" ]; then
      echo "FAIL: $(basename "$f"): line [$line]"; echo "  spm_encode: $want"; echo "  tokenize:   $got"; exit 1
    fi
    got_bos=$("$tokenize" --tokenizer="$t/ckpt" --text_file="$t/line.txt")
    if [ "$got_bos" != "1${want:+ $want}" ]; then
      echo "FAIL: BOS: [$got_bos] vs [1 $want]"; exit 1
    fi
    printf '%s' "$got" > "$t/ids.txt"
    want_text=$(printf '%s\n' "$want" | "$spm_decode" --model="$t/m.model" --input_format=id)
    got_text=$("$tokenize" --tokenizer="$t/m.model" --text_file="$t/ids.txt" --decode)
    if [ "$got_text" != "$want_text" ]; then
      echo "FAIL: decode [$got_text] vs spm_decode [$want_text]"; exit 1
    fi
    lines=$((lines + 1))
  done < "$f"
done
[ "$lines" -gt 20 ] || { echo "FAIL: only $lines lines compared"; exit 1; }
echo "PASS: $lines lines equal to spm_encode / spm_decode"
