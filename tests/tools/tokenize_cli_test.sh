#!/usr/bin/env bash
# tools:tokenize end to end on the committed fixture tokenizer: a folder and its tokenizer.json
# give the same ids; --decode gives the text back; bad input exits 1 naming the file (and the
# byte offset / component / id) with nothing on stdout; usage errors exit 2.
# Usage: tokenize_cli_test.sh TOKENIZE FIXTURE_DIR TEXT_FILE
set -uo pipefail
tokenize=$1; fixture=$2; text=$3
t=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }

"$tokenize" --tokenizer="$fixture" --text_file="$text" >"$t/a.txt" || fail "encode via folder"
"$tokenize" --tokenizer="$fixture/tokenizer.json" --text_file="$text" >"$t/b.txt" || fail "encode via file"
cmp -s "$t/a.txt" "$t/b.txt" || fail "folder and file give different ids"
[ "$(wc -l <"$t/a.txt")" -eq 1 ] || fail "ids not on one line"
grep -qE '^[0-9]+( [0-9]+)*$' "$t/a.txt" || fail "ids not space-separated integers: $(head -c 200 "$t/a.txt")"
"$tokenize" --tokenizer="$fixture" --text_file="$text" --add_special_tokens=false >"$t/plain.txt" || fail "plain"
[ "$(wc -w <"$t/a.txt")" -eq $(( $(wc -w <"$t/plain.txt") + 2 )) ] || fail "BOS + EOS not added"
"$tokenize" --tokenizer="$fixture" --text_file="$t/plain.txt" --decode >"$t/decoded.txt" || fail "decode"
cmp -s "$t/decoded.txt" "$text" || fail "decode(encode(text)) != text"

expect_error() {  # CODE PATTERN ARGS...
  local code=$1 pattern=$2; shift 2
  "$tokenize" "$@" >"$t/out.txt" 2>"$t/err.txt"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "exit $rc (want $code) for $*: $(cat "$t/err.txt")"
  [ ! -s "$t/out.txt" ] || fail "partial output for $*"
  grep -q -- "$pattern" "$t/err.txt" || fail "stderr lacks [$pattern] for $*: $(cat "$t/err.txt")"
}
printf 'good text\n\xe2\x82 bad' >"$t/bad_utf8.txt"
expect_error 1 "bad_utf8.txt: invalid UTF-8 at byte 10" --tokenizer="$fixture" --text_file="$t/bad_utf8.txt"
mkdir -p "$t/wordpiece"
sed 's/"type": "BPE"/"type": "WordPiece"/' "$fixture/tokenizer.json" >"$t/wordpiece/tokenizer.json"
expect_error 1 "wordpiece/tokenizer.json: unsupported model type \"WordPiece\"" --tokenizer="$t/wordpiece" --text_file="$text"
mkdir -p "$t/pre"
sed 's/"type": "Digits"/"type": "UnicodeScripts"/' "$fixture/tokenizer.json" >"$t/pre/tokenizer.json"
expect_error 1 "unsupported pre_tokenizer type \"UnicodeScripts\"" --tokenizer="$t/pre" --text_file="$text"
echo "1 2 99999" >"$t/ids_oov.txt"
expect_error 1 "token id 99999 is not in the vocabulary" --tokenizer="$fixture" --text_file="$t/ids_oov.txt" --decode
echo "1 two" >"$t/ids_bad.txt"
expect_error 1 "is not a token id" --tokenizer="$fixture" --text_file="$t/ids_bad.txt" --decode
expect_error 1 "no such tokenizer file" --tokenizer="$t/missing.json" --text_file="$text"
expect_error 1 "holds neither tokenizer.json nor tokenizer.model" --tokenizer="$t" --text_file="$text"
expect_error 2 "--tokenizer is required" --text_file="$text"
expect_error 2 "--text_file is required" --tokenizer="$fixture"
"$tokenize" --tokenizer="$fixture" --text_file="$text" --add_special_tokens=maybe >/dev/null 2>&1
[ $? -ne 0 ] || fail "--add_special_tokens=maybe accepted"
echo PASS
