#!/usr/bin/env python3
"""make_tiny_tokenizers.py: writes the two small tokenizer.json fixtures of tests/text (committed;
rerun only to change them). Each exercises components the real files do not all use; their
expected ids come from tokenizers.js like the real ones (make_expected.mjs).

  tiny_bytelevel/: NFKC + Replace(regex) normalizer; Split (\\s+(?!\\S) look-ahead, Isolated),
    Digits (individual) and ByteLevel (no regex) pre-tokenizers; added tokens (special, lstrip,
    rstrip, normalized non-special); TemplateProcessing with BOS and EOS; ByteLevel decoder.
  tiny_metaspace/: NFC + Prepend/Replace-free Metaspace pre-tokenizer (prepend_scheme first),
    byte_fallback with unk, Metaspace + ByteFallback + Fuse decoders; tokenizer_config.json with
    add_bos_token / add_eos_token.
BPE merges are learned here from a few sentences by plain pair counting.
"""
import collections, json, os

SAMPLE = ("the quick brown fox jumps over the lazy dog. the theory of the thing: "
          "there then these those, that is the question. 123 4567 tokens and merges "
          "in the middle of the night the three thin thieves thought ") * 3

def byte_alphabet():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}

def learn_merges(words, vocab, count):
    seqs = collections.Counter(tuple(w) for w in words)
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for s, f in seqs.items():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append([a, b])
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
        new = collections.Counter()
        for s, f in seqs.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b); i += 2
                else:
                    out.append(s[i]); i += 1
            new[tuple(out)] += f
        seqs = new
    return merges

def write(dirname, tok, config=None):
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")
    if config is not None:
        with open(os.path.join(dirname, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)
            f.write("\n")

def tiny_bytelevel():
    alpha = byte_alphabet()
    vocab = {alpha[b]: i for i, b in enumerate(sorted(alpha))}
    words = ["".join(alpha[b] for b in (" " + w).encode()) for w in SAMPLE.split()]
    merges = learn_merges(words, vocab, 60)
    added = []
    for content, special, lstrip, rstrip, normalized in [
            ("<|bos|>", True, False, False, False), ("<|eos|>", True, False, False, False),
            ("<mask>", True, True, True, False), ("[NEW]", False, False, False, True)]:
        vid = len(vocab); vocab[content] = vid
        added.append({"id": vid, "content": content, "single_word": False, "lstrip": lstrip,
                      "rstrip": rstrip, "normalized": normalized, "special": special})
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": "``|''"}, "content": "\""}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|bos|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "<|eos|>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|bos|>": {"id": "<|bos|>", "ids": [vocab["<|bos|>"]], "tokens": ["<|bos|>"]},
                               "<|eos|>": {"id": "<|eos|>", "ids": [vocab["<|eos|>"]], "tokens": ["<|eos|>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges}}

def tiny_metaspace():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    chars = sorted(set(SAMPLE.replace(" ", "")) | {"\u2581", "é", "ï"})
    for c in chars:
        vocab[c] = len(vocab)
    words = ["\u2581" + w for w in SAMPLE.split()]
    merges = learn_merges(words, vocab, 60)
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, c in enumerate(["<unk>", "<s>", "</s>"])]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "ignore_merges": False, "vocab": vocab, "merges": [" ".join(m) for m in merges]}}
    return tok

here = os.path.dirname(os.path.abspath(__file__))
write(os.path.join(here, "tiny_bytelevel"), tiny_bytelevel())
write(os.path.join(here, "tiny_metaspace"), tiny_metaspace(), {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>"})
