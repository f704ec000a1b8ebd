#!/usr/bin/env node
// Tiny test runner for verify.mjs (no npm): unit checks, then every committed vector.
//   node verifiers/js/test.mjs [tests/tlog/vectors]
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  encodeIndex, jcs, openNote, parseCheckpoint, parseVkey, runVectors, tilePath, tilesForSize,
} from "./verify.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? join(here, "..", "..", "tests", "tlog", "vectors");
let passed = 0;
const test = (name, fn) => {
  try { fn(); passed++; } catch (e) { console.error(`FAIL ${name}: ${e.message}`); process.exitCode = 1; }
};

test("jcs rfc8785 example", () => assert.equal(
  jcs({ numbers: [333333333.33333329, 1e30, 4.50, 2e-3, 1e-27], string: "\u20ac$\u000f\nA'B\"\\\\\"/", literals: [null, true, false] }),
  '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'));
test("jcs utf-16 order", () => assert.equal(jcs({ "\ufb33": 1, "\u{1f600}": 2 }), '{"\u{1f600}":2,"\ufb33":1}'));
test("jcs -0", () => assert.equal(jcs(-0), "0"));
test("tile index encoding", () => assert.equal(encodeIndex(1234067), "x001/x234/067"));
test("partial tile path", () => assert.equal(tilePath(1, 0, 17), "tile/1/000.p/17"));
test("spec tile set of 70000", () => assert.deepEqual(
  tilesForSize(70000).filter((p) => !p.startsWith("tile/0/") || p.includes(".p/")),
  ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]));
test("signed-note spec example", () => {
  const v = parseVkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  const note = "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
  assert.equal(openNote(Buffer.from(note), [v]).verified.size, 1);
});
test("checkpoint leading zero refused", () => assert.throws(() =>
  parseCheckpoint("o\n01\n" + Buffer.alloc(32).toString("base64") + "\n")));

const results = runVectors(dir);
const wrong = results.filter((r) => r.verdict !== r.expect);
for (const r of wrong) console.error(`FAIL vector ${r.id}: verdict ${r.verdict}, expected ${r.expect}`);
if (wrong.length || results.length === 0) process.exitCode = 1;
console.log(`${passed} unit checks passed; ${results.length} vector cases, ${wrong.length} disagreements`);
