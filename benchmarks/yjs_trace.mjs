// Replays an editing trace into one Yjs Y.Text, for benchmarks/keystrokes.py: one Yjs
// transaction per trace transaction. Prints one JSON line: patches, seconds, the encoded
// document's size in bytes (Y.encodeStateAsUpdate) and whether the text equals endContent.
// Usage: node benchmarks/yjs_trace.mjs TRACE.json.gz [MODULES_DIR]
// Trace positions are Unicode code points, Y.Text offsets UTF-16 code units: a trace with
// characters outside the BMP is converted through a mirror of the text (slower, and said).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";

const [tracePath, modules = "tests/interop/node_modules"] = process.argv.slice(2);
const require = createRequire(join(resolve(modules), "noop.js"));
const Y = require("yjs");

const trace = JSON.parse(gunzipSync(readFileSync(tracePath)).toString("utf8"));
const astral = /[\u{10000}-\u{10FFFF}]/u;
const wide = astral.test(trace.startContent) || trace.txns.some(
  (t) => t.patches.some((p) => astral.test(p[2])),
);

const doc = new Y.Doc();
const text = doc.getText("t");
text.insert(0, trace.startContent);
let mirror = wide ? Array.from(trace.startContent) : null;
const units = (at) => mirror.slice(0, at).join("").length;

let patches = 0;
const began = process.hrtime.bigint();
for (const txn of trace.txns) {
  doc.transact(() => {
    for (const [pos, del, ins] of txn.patches) {
      const at = wide ? units(pos) : pos;
      if (del) text.delete(at, wide ? units(pos + del) - at : del);
      if (ins) text.insert(at, ins);
      if (wide) mirror.splice(pos, del, ...Array.from(ins));
      patches += 1;
    }
  });
}
const seconds = Number(process.hrtime.bigint() - began) / 1e9;
const size = Y.encodeStateAsUpdate(doc).length;
console.log(JSON.stringify({
  patches, seconds, size, converted: wide, equals_end: text.toString() === trace.endContent,
}));
