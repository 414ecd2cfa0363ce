// tokenizer_benchmark.mjs: the reference side of bench/tokenizer_benchmark: tokenizers.js encodes
// TEXT_FILE with each tokenizer folder, 1 thread (node's main thread), after one warm-up pass,
// for at least MIN_SECONDS; prints "NAME WALL_MB/s CPU_MB/s TOKENS" per line (CPU: the whole
// node process, user + system, as process.cpuUsage reports it).
// Usage: node tokenizer_benchmark.mjs NODE_MODULES_DIR TEXT_FILE MIN_SECONDS NAME=DIR...
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const [nodeModules, textFile, minSeconds, ...dirs] = process.argv.slice(2);
const { Tokenizer } = await import(pathToFileURL(
    path.join(nodeModules, "@huggingface/tokenizers/dist/tokenizers.mjs")).href);
const text = fs.readFileSync(textFile, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
for (const arg of dirs) {
  const [name, dir] = arg.split("=");
  const config = path.join(dir, "tokenizer_config.json");
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
                            fs.existsSync(config) ? JSON.parse(fs.readFileSync(config, "utf8")) : {});
  const tokens = tok.encode(text, { add_special_tokens: false }).ids.length;  // warm-up
  let runs = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let seconds = 0;
  do {
    tok.encode(text, { add_special_tokens: false });
    ++runs;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < Number(minSeconds));
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const mb = bytes * runs / 1e6;
  console.log(`${name} ${(mb / seconds).toFixed(3)} ${(mb / cpuSeconds).toFixed(3)} ${tokens}`);
}
