#!/usr/bin/env bash
# --text on the analysis binaries: activation_scan (and quant_eval) on text, tokenized with the
# checkpoint folder's tokenizer.json, give exactly the report of --tokens on the ids `tokenize`
# printed for the same files (all but the provenance); the provenance records the tokenizer
# file, its SHA-256 (checked against coreutils' sha256sum) and each file's token count. Also a
# tokenizer.model (trained here with spm_train) through --tokenizer, sink_study --checkpoint
# --text, and the errors: invalid UTF-8 (exit 1, file and offset, no report), --tokens with
# --text and --tokenizer without --text (exit 2).
# Usage: text_input_cli_test.sh MAKE_TINY_LLAMA ACTIVATION_SCAN QUANT_EVAL SINK_STUDY TOKENIZE
#        SPM_TRAIN TOKENIZER_JSON TEXT1 TEXT2
set -uo pipefail
make_tiny=$1; scan=$2; quant_eval=$3; study=$4; tokenize=$5; spm_train=$6; tokenizer_json=$7
text1=$8; text2=$9
t=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
expect_code() {
  local want="$1"; shift
  "$@" >"$t/out.txt" 2>"$t/err.txt"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$t/err.txt"; fail "'$*' exited $got, want $want"; }
}
# The report without its provenance (first top-level member) and stdout without its first line
# (which names the time).
body() { awk '/^ "[a-z_]+": \{/ { keep = ($1 != "\"provenance\":") } keep' "$1"; }

"$make_tiny" "$t/ckpt" "$t/unused.txt" 400 || fail "fixture"
cp "$tokenizer_json" "$t/ckpt/tokenizer.json"
"$tokenize" --tokenizer="$t/ckpt" --text_file="$text1" >"$t/1.ids" || fail "tokenize 1"
"$tokenize" --tokenizer="$t/ckpt" --text_file="$text2" >"$t/2.ids" || fail "tokenize 2"

"$scan" --checkpoint="$t/ckpt" --text="$text1,$text2" --json="$t/text.json" >"$t/text.out" \
  || fail "activation_scan --text"
"$scan" --checkpoint="$t/ckpt" --tokens="$t/1.ids,$t/2.ids" --json="$t/ids.json" >"$t/ids.out" \
  || fail "activation_scan --tokens"
# The same analysis; the --text run's summary also names its inputs (tokenizer, files, counts).
n1=$(wc -w <"$t/1.ids"); n2=$(wc -w <"$t/2.ids")
grep -qF "text input: 2 file(s), $((n1 + n2)) tokens ($((n1 + n2)) used), tokenizer $t/ckpt/tokenizer.json" \
  "$t/text.out" || fail "no text-input line in the summary"
grep -qxF "  $text1: $n1 tokens, $n1 used" "$t/text.out" || fail "no line for $text1"
grep -qxF "  $text2: $n2 tokens, $n2 used" "$t/text.out" || fail "no line for $text2"
grep -q "^text input" "$t/ids.out" && fail "--tokens run names a text input"
cmp -s <(tail -n +2 "$t/text.out" | grep -v "^text input: " |
         grep -vxF -e "  $text1: $n1 tokens, $n1 used" -e "  $text2: $n2 tokens, $n2 used") \
       <(tail -n +2 "$t/ids.out") || fail "stdout differs"
cmp -s <(body "$t/text.json") <(body "$t/ids.json") || fail "reports differ beyond the provenance"
[ "$(body "$t/text.json" | wc -l)" -gt 100 ] || fail "report body too short to compare"
sha=$(sha256sum "$tokenizer_json" | cut -d' ' -f1)
grep -q "\"tokenizer_sha256\": \"$sha\"" "$t/text.json" || fail "SHA-256 $sha not recorded"
grep -q "\"tokenizer_file\": \"$t/ckpt/tokenizer.json\"" "$t/text.json" || fail "tokenizer file"
grep -q "\"tokens\": \"$(wc -w <"$t/1.ids")\"" "$t/text.json" || fail "token count of $text1"
grep -q "\"tokens\": \"$(wc -w <"$t/2.ids")\"" "$t/text.json" || fail "token count of $text2"
grep -q '"tokens": "/' "$t/ids.json" || fail "--tokens run records its files"
grep -q '"text_input"' "$t/ids.json" && fail "--tokens run has a text_input"

"$quant_eval" --checkpoint="$t/ckpt" --text="$text1" --configs=w8a8 --json="$t/q_text.json" \
  >"$t/q_text.out" || fail "quant_eval --text"
"$quant_eval" --checkpoint="$t/ckpt" --tokens="$t/1.ids" --configs=w8a8 --json="$t/q_ids.json" \
  >"$t/q_ids.out" || fail "quant_eval --tokens"
grep -qxF "  $text1: $n1 tokens, $n1 used" "$t/q_text.out" || fail "quant_eval: no line for $text1"
cmp -s <(tail -n +2 "$t/q_text.out" | grep -v "^text input: " | grep -vxF "  $text1: $n1 tokens, $n1 used") \
       <(tail -n +2 "$t/q_ids.out") || fail "quant_eval stdout differs"
grep -q "\"tokenizer_sha256\": \"$sha\"" "$t/q_text.json" || fail "quant_eval SHA-256"

"$study" --checkpoint="$t/ckpt" --text="$text1" --quick --out_dir="$t/study" >"$t/study.out" \
  2>"$t/study.err" || { cat "$t/study.err"; fail "sink_study --text"; }
grep -q "\"tokenizer_sha256\": \"$sha\"" "$t/study/study.json" || fail "sink_study SHA-256"
# The position probe's filler is the tokenizer's newline: the last id tokenize gives for "\n".
printf '\n' >"$t/newline.txt"
nl_id=$("$tokenize" --tokenizer="$t/ckpt" --text_file="$t/newline.txt" --add_special_tokens=false \
  | awk '{print $NF}')
[ -n "$nl_id" ] || fail "no id for a newline"
grep -q "\"filler\": \"newline\"" "$t/study/study.json" || fail "probe filler is not the newline"
grep -q "\"filler_id\": $nl_id\b" "$t/study/study.json" || fail "probe filler id is not $nl_id"

# A SentencePiece tokenizer.model through --tokenizer (not under AddressSanitizer, which cannot
# isolate libsentencepiece's protobuf from the report's: text/sentencepiece_bridge.cc).
if [ -z "${ASAN_OPTIONS:-}" ]; then
cat "$text1" "$text2" >"$t/train.txt"
"$spm_train" --input="$t/train.txt" --model_prefix="$t/spm" --vocab_size=380 --model_type=bpe \
  --byte_fallback=true --character_coverage=0.98 --hard_vocab_limit=false --minloglevel=2 \
  >"$t/spm.log" 2>&1 || { cat "$t/spm.log"; fail "spm_train"; }
"$scan" --checkpoint="$t/ckpt" --text="$text1" --tokenizer="$t/spm.model" --json="$t/spm.json" \
  >/dev/null || fail "activation_scan with a tokenizer.model"
grep -q '"tokenizer": "tokenizer.model SentencePiece' "$t/spm.json" || fail "tokenizer.model not recorded"
fi

# Errors.
printf 'fine\n\xc3\x28 broken' >"$t/bad.txt"
expect_code 1 "$scan" --checkpoint="$t/ckpt" --text="$t/bad.txt" --out="$t/bad.pb"
grep -q "bad.txt: invalid UTF-8 at byte 5" "$t/err.txt" || fail "UTF-8 error: $(cat "$t/err.txt")"
[ ! -e "$t/bad.pb" ] || fail "report written after a failure"
expect_code 2 "$scan" --checkpoint="$t/ckpt" --text="$text1" --tokens="$t/1.ids"
expect_code 2 "$scan" --checkpoint="$t/ckpt" --tokens="$t/1.ids" --tokenizer="$t/ckpt"
expect_code 2 "$quant_eval" --checkpoint="$t/ckpt" --configs=w8a8
expect_code 1 "$scan" --checkpoint="$t/ckpt" --text="$text1" --tokenizer="$t/nowhere"
grep -q "nowhere" "$t/err.txt" || fail "missing tokenizer not named"
echo PASS
