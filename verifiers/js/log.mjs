#!/usr/bin/env node
// Verify one audit stream as the Python audit store writes it to a directory
// (a file:// bucket, or a directory of the bare objects), from docs/audit-format.md
// section 9 alone.
//
//   node verifiers/js/log.mjs <dir or file:// URL> <workspace> <stream> <vkey> [<vkey>...]
//        [--require-witnesses=k]
//
// vkeys: the log's (signed-note type 0x01 Ed25519 or 0x02 ECDSA) and trusted witnesses'
// (type 0x04); with witness keys, their cosignatures beside the checkpoints are checked
// (section 9.6), and --require-witnesses=k asks for k of them on one checkpoint.
// Prints one JSON line {ok, size, first_bad_seq, problems: [{kind, seq, detail}]} and
// exits 0 when the stream is clean, 1 when not. Checks: entry placement and
// contiguity, each entry's leaf hash (RFC 8785 bytes of the parsed entry for format 3,
// the stored bytes without "hash" for formats 1 and 2) and chain link,
// each checkpoint's JSON signature, prev link, seal (head, leaves), and for format 2:
// its edge against its root, its root against the entries, its signed note, and every
// stored full tile against the tiles the entries give.
import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { jcs, nodeHash, openNote, parseCheckpoint, parseNote, parseVkey, rootFromTiles, tilePath } from "./verify.mjs";

const sha256 = (...parts) => { const h = createHash("sha256"); for (const p of parts) h.update(p); return h.digest(); };
const HEX64 = /^[0-9a-f]{64}$/;
const NUMBERED = /^[0-9]{20}\.json$/;
const ENTRY_FIELDS = ["event", "hash", "prev", "seq", "stream", "ts", "v", "ws"].join(",");
// formats 2 and 3: an entry appended with a unique key carries "key" too (audit-format.md)
const KEYED_FIELDS = ["event", "hash", "key", "prev", "seq", "stream", "ts", "v", "ws"].join(",");
const GENESIS = "0".repeat(64);

// An object's bytes: a file:// bucket file holds the body alone (its metadata is in a
// sidecar beside it); a legacy one is "CSOBJ1 " + one JSON header line + the body.
function readObject(path) {
  const raw = readFileSync(path);
  if (raw.subarray(0, 7).toString("latin1") !== "CSOBJ1 ") return raw;
  const eol = raw.indexOf(10);
  if (eol < 0) throw new Error("damaged object header");
  return raw.subarray(eol + 1);
}

// Where a stream's objects come from: a directory (a file:// bucket, or bare objects),
// or a Map of bucket keys to bytes (the committed vectors). Paths are "/"-separated
// keys relative to the bucket root.
export function dirSource(rootDir) {
  return {
    list(prefix) {
      const dir = join(rootDir, ...prefix.split("/"));
      return existsSync(dir) ? readdirSync(dir) : [];
    },
    read(key) {
      const file = join(rootDir, ...key.split("/"));
      return existsSync(file) ? readObject(file) : null;
    },
  };
}

export function mapSource(objects) {
  return {
    list(prefix) {
      // the names directly below prefix (objects, and "directories" of deeper keys)
      const p = prefix + "/";
      const names = new Set();
      for (const k of objects.keys()) if (k.startsWith(p)) names.add(k.slice(p.length).split("/")[0]);
      return [...names];
    },
    read(key) { return objects.get(key) ?? null; },
  };
}

function listNumbered(source, prefix) {
  return source.list(prefix).filter((n) => NUMBERED.test(n)).sort()
    .map((n) => ({ number: Number(n.slice(0, 20)), path: `${prefix}/${n}` }));
}

// Byte spans of the entries of `{"entries":[E1,E2,...],"v":1}` (canonical, as written).
function entrySpans(text) {
  const head = '{"entries":[';
  if (!text.startsWith(head) || !text.endsWith('],"v":1}')) throw new Error("not an entry object");
  const spans = [];
  let i = head.length;
  for (;;) {
    if (text[i] !== "{") throw new Error("entry is not an object");
    let depth = 0, j = i, inString = false;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) { if (c === "\\") j++; else if (c === '"') inString = false; continue; }
      if (c === '"') inString = true;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") { depth--; if (depth === 0) break; }
    }
    spans.push(text.slice(i, j + 1));
    i = j + 1;
    if (text[i] === ",") { i++; continue; }
    if (text.slice(i) === '],"v":1}') return spans;
    throw new Error("malformed entry list");
  }
}

export function parseEntries(data) {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  const doc = JSON.parse(text);
  const spans = entrySpans(text);
  if (!Array.isArray(doc.entries) || doc.entries.length !== spans.length || spans.length === 0)
    throw new Error("audit object has no entries");
  return spans.map((raw, k) => {
    const e = doc.entries[k];
    if (typeof e !== "object" || e === null || Array.isArray(e)) throw new Error("audit entry is not an object");
    const fields = Object.keys(e).sort().join(",");
    // format 1: no key; format 2: with a string key; format 3: either (section 9.1)
    const keyed = fields === KEYED_FIELDS && typeof e.key === "string";
    const shapeOk = e.v === 3 ? (fields === ENTRY_FIELDS || keyed)
      : e.v === 2 ? keyed : e.v === 1 && fields === ENTRY_FIELDS;
    if (!shapeOk
      || !Number.isSafeInteger(e.seq) || e.seq < 0 || typeof e.event !== "object" || e.event === null
      || Array.isArray(e.event) || typeof e.stream !== "string" || typeof e.ws !== "string"
      || typeof e.ts !== "string" || !HEX64.test(e.prev) || !HEX64.test(e.hash))
      throw new Error("audit entry has a missing, extra or mistyped field");
    let hashed;
    if (e.v === 3) {
      // format 3: the RFC 8785 bytes of the entry without "hash", recomputed from the
      // parsed values (not from the stored bytes)
      const body = { ...e };
      delete body.hash;
      try { hashed = Buffer.from(jcs(body), "utf8"); } catch { return { entry: e, leaf: "" }; }
    } else {
      // formats 1 and 2: the stored entry without its "hash" member (section 9.1)
      const member = `"hash":"${e.hash}",`;
      const at = raw.lastIndexOf(member);
      if (at < 0) throw new Error("entry hash member not found");
      hashed = Buffer.from(raw.slice(0, at) + raw.slice(at + member.length), "utf8");
    }
    return { entry: e, leaf: sha256(Buffer.from([0]), hashed).toString("hex") };
  });
}

// RFC 6962 root of leaf hashes (Buffers), iteratively (odd node carried up).
function treeRoot(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  let level = leaves;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

// Full tiles of a tree of leaves (path -> Buffer).
function fullTiles(leaves) {
  const out = new Map();
  let hashes = leaves;
  for (let level = 0; hashes.length >= 256; level++) {
    const next = [];
    for (let n = 0; (n + 1) * 256 <= hashes.length; n++) {
      const group = hashes.slice(n * 256, (n + 1) * 256);
      out.set(tilePath(level, n), Buffer.concat(group));
      next.push(treeRoot(group));
    }
    hashes = next;
  }
  return out;
}

function checkpointHash(stored) {
  return sha256(Buffer.from([2]), Buffer.from(jcs(stored), "utf8")).toString("hex");
}

export function verifyLog(rootDir, ws, stream, vkeys, requiredWitnesses = 0) {
  return verifyStream(dirSource(rootDir), ws, stream, vkeys, requiredWitnesses);
}

export function verifyStream(source, ws, stream, vkeys, requiredWitnesses = 0) {
  const base = `ws/${ws}/audit/${stream}`;
  const readObject = (key) => {
    const data = source.read(key);
    if (data === null) throw new Error("object vanished");
    return data;
  };
  const keys = vkeys.map(parseVkey).filter((k) => k.type === 0x01 || k.type === 0x02);
  const byKeyId = new Map();
  for (const k of keys) {
    // the audit key_id: first 16 hex digits of SHA-256(raw Ed25519 public key, or the
    // DER SubjectPublicKeyInfo of an ECDSA P-256 key)
    const publicKey = k.type === 0x02 ? k.key
      : createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: k.pub.toString("base64url") }, format: "jwk" });
    const algorithm = k.type === 0x02 ? "ecdsa-p256-sha256" : "ed25519";
    byKeyId.set(sha256(k.pub).toString("hex").slice(0, 16), { publicKey, algorithm });
  }
  const problems = [];
  const add = (kind, seq, detail) => problems.push({ kind, seq: Math.max(seq, 0), detail });

  // ---- entries
  const hashes = [];   // seq -> hex | null
  let expected = 0, prev = GENESIS, quietGap = false, objects = 0;
  for (const { number: first, path } of listNumbered(source, `${base}/e`)) {
    objects++;
    if (first < expected) { add("unexpected", first, `object at ${first} starts inside another`); continue; }
    if (first > expected) {
      if (!quietGap) add("missing", expected, `entries ${expected}..${first - 1} are missing`);
      for (let s = expected; s < first; s++) hashes[s] = null;
      expected = first; prev = null;
    }
    quietGap = false;
    let parsed;
    try { parsed = parseEntries(readObject(path)); } catch (err) {
      add("unreadable", first, `entry object at ${first}: ${err.message}`);
      hashes[first] = null; expected = first + 1; prev = null; quietGap = true; continue;
    }
    for (const { entry, leaf } of parsed) {
      const seq = expected;
      let kind = null;
      if (entry.seq !== seq) kind = "seq_mismatch";
      else if (entry.stream !== stream || entry.ws !== ws) kind = "wrong_stream";
      else if (leaf !== entry.hash) kind = "bad_hash";
      else if (prev !== null && entry.prev !== prev) kind = "broken_link";
      if (kind) { add(kind, seq, `entry ${seq}`); prev = null; hashes[seq] = null; }
      else { prev = entry.hash; hashes[seq] = entry.hash; }
      expected++;
    }
  }
  const size = expected;

  // ---- checkpoints
  const cps = new Map();
  for (const { number, path } of listNumbered(source, `${base}/cp`)) {
    try {
      const stored = JSON.parse(readObject(path).toString("utf8"));
      if (stored.v !== 1 && stored.v !== 2) throw new Error("not a checkpoint");
      cps.set(number, stored);
    } catch (err) { add("bad_checkpoint", number - 1, `checkpoint ${number}: ${err.message}`); }
  }
  const sizes = [...cps.keys()].sort((a, b) => a - b);
  for (const n of sizes) {
    const cp = cps.get(n);
    const found = checkpointProblem(cp, n, cps, hashes, size, ws, stream, byKeyId);
    if (found) add(found[0], found[1] ?? n - 1, `checkpoint ${n}: ${found[2]}`);
  }

  // ---- tree: roots, notes, tiles
  // Roots of growing prefixes in one pass: a stack of the perfect subtrees of the
  // leaves pushed so far (sizes strictly decreasing); a prefix's root folds it from the
  // right (RFC 6962: the same as splitting at the largest power of two).
  let tiledSize = 0;
  const stack = [];
  let pushed = 0, firstBad = -1;
  const growTo = (n) => {
    for (; pushed < n && pushed < hashes.length; pushed++) {
      const h = hashes[pushed];
      if (h == null) { if (firstBad < 0) firstBad = pushed; stack.push({ size: 1, hash: Buffer.alloc(32) }); }
      else stack.push({ size: 1, hash: Buffer.from(h, "hex") });
      while (stack.length > 1 && stack[stack.length - 1].size === stack[stack.length - 2].size) {
        const right = stack.pop(), left = stack.pop();
        stack.push({ size: left.size * 2, hash: nodeHash(left.hash, right.hash) });
      }
    }
  };
  const rootOfPrefix = () => {
    let root = stack[stack.length - 1].hash;
    for (let i = stack.length - 2; i >= 0; i--) root = nodeHash(stack[i].hash, root);
    return root;
  };
  for (const n of sizes) {
    const cp = cps.get(n);
    if (cp.v !== 2 || typeof cp.root !== "string") continue;
    growTo(n);
    const broken = hashes.length < n ? (firstBad >= 0 ? firstBad : hashes.length) : firstBad;
    if (broken >= 0 && broken < n) { add("root_mismatch", n - 1, `checkpoint ${n}: entry ${broken} is missing or bad`); continue; }
    tiledSize = n;
    if (rootOfPrefix().toString("hex") !== cp.root)
      add("root_mismatch", n - 1, `checkpoint ${n}: root is not the entries' root`);
    if (cp.note != null) {
      try {
        const opened = openNote(Buffer.from(cp.note, "utf8"), keys);
        if (opened.verified.size === 0) throw new Error("no trusted signature");
        const head = parseCheckpoint(opened.text);
        if (head.origin !== `cloudstores/audit/${ws}/${stream}` || head.size !== BigInt(n)
          || head.root.toString("hex") !== cp.root || head.extensions.length)
          throw new Error("note states another tree head");
      } catch (err) { add("root_mismatch", n - 1, `checkpoint ${n}: note: ${err.message}`); }
    }
  }
  if (tiledSize) {
    const want = fullTiles(hashes.slice(0, tiledSize).map((h) => Buffer.from(h, "hex")));
    for (const [path, body] of want) {
      const file = source.read(`${base}/${path}`);
      const firstLeaf = (() => {
        const [, level, ...rest] = path.split("/");
        return Number(rest.join("").replaceAll("x", "")) * 256 * 256 ** Number(level);
      })();
      if (file === null) add("bad_tile", firstLeaf, `tile ${path} is missing`);
      else if (!file.equals(body)) add("bad_tile", firstLeaf, `tile ${path} differs`);
    }
  }
  // ---- witness cosignatures (docs/audit-format.md section 9.6), with witness vkeys given
  let witnessed = { witnessed_size: null, witnesses: [] };
  const witnessKeys = vkeys.map((v) => ({ v, k: parseVkey(v) })).filter((x) => x.k.type === 0x04);
  if (witnessKeys.length) {
    const rootOf = (n) => {
      const cp = cps.get(n);
      if (cp && typeof cp.root === "string") return cp.root;
      const leaves = hashes.slice(0, n);
      if (n > size || leaves.some((h) => h == null)) return null;
      return treeRoot(leaves.map((h) => Buffer.from(h, "hex"))).toString("hex");
    };
    witnessed = checkCosignatures(source, base, ws, stream, witnessKeys, requiredWitnesses,
      rootOf, Math.max(1, ...cps.keys()), add);
  }
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: problems.length === 0, size, objects, first_bad_seq: problems.length ? problems[0].seq : null, problems, ...witnessed };
}

function checkCosignatures(source, base, ws, stream, witnessKeys, required, rootOf, newest, add) {
  const byId = new Map(witnessKeys.map(({ v, k }) => [sha256(Buffer.from(v, "ascii")).toString("hex").slice(0, 32), k]));
  const cosigned = new Map();
  for (const dir of source.list(`${base}/cosig`).filter((n) => /^[0-9]{20}$/.test(n)).sort()) {
    const n = Number(dir);
    for (const [wid, w] of byId) {
      const data = source.read(`${base}/cosig/${dir}/${wid}`);
      if (data === null) continue;
      const who = `witness ${w.name}`;
      let head = null, lines = [];
      try {
        const note = parseNote(data);
        head = parseCheckpoint(note.text);
        lines = note.sigs.filter((x) => x.name === w.name && x.keyId === w.keyId);
        const text = Buffer.from(note.text, "utf8");
        if (!lines.length || !lines.every((x) => w.verify(text, x.sig))) throw new Error("cosignature does not verify");
      } catch (err) { add("bad_cosignature", n - 1, `${who}: ${err.message}`); continue; }
      if (head.origin !== `cloudstores/audit/${ws}/${stream}` || head.size !== BigInt(n)) {
        add("bad_cosignature", n - 1, `${who}: filed under another tree head`); continue;
      }
      const expected = rootOf(n);
      if (expected === null) { add("bad_cosignature", n - 1, `${who}: no tree of size ${n} to compare`); continue; }
      if (expected !== head.root.toString("hex")) {
        add("witness_fork", n - 1, `${who} cosigned another root at size ${n}`); continue;
      }
      if (n > 0) { if (!cosigned.has(n)) cosigned.set(n, new Set()); cosigned.get(n).add(w.name); }
    }
  }
  const quorum = [...cosigned].filter(([, names]) => names.size >= required).map(([n]) => n);
  if (required && quorum.length) {
    const best = Math.max(...quorum);
    return { witnessed_size: best, witnesses: [...cosigned.get(best)].sort() };
  }
  if (required) add("unwitnessed", newest - 1, `no checkpoint is cosigned by ${required} trusted witnesses`);
  return { witnessed_size: null, witnesses: [] };
}

function signedBody(cp) {
  const body = { ...cp };
  delete body.signature; delete body.note; delete body.edge;
  return Buffer.from("cloudstores-audit-checkpoint/v1\n" + jcs(body), "utf8");
}

function checkpointProblem(cp, n, cps, hashes, size, ws, stream, byKeyId) {
  if (cp.size !== n) return ["bad_checkpoint", null, `the object under key ${n} is checkpoint ${cp.size}`];
  if (cp.stream !== stream || cp.ws !== ws) return ["wrong_stream", null, "names another stream"];
  if (cp.v === 2) {
    try {
      const edge = cp.edge;
      const got = rootFromTiles(n, (path) => {
        const level = Number(path.split("/")[1]);
        return Buffer.from(edge[level], "base64");
      });
      if (!HEX64.test(cp.root) || got.toString("hex") !== cp.root) throw new Error("edge does not fold to root");
    } catch (err) { return ["bad_checkpoint", null, err.message]; }
  }
  const key = byKeyId.get(cp.key_id);
  const sigOk = () => {
    const sig = Buffer.from(cp.signature, "base64");
    if (key.algorithm === "ed25519") return cryptoVerify(null, signedBody(cp), key.publicKey, sig);
    try { return cryptoVerify("sha256", signedBody(cp), { key: key.publicKey, dsaEncoding: "der" }, sig); }
    catch { return false; }
  };
  if (!key || cp.algorithm !== key.algorithm || typeof cp.signature !== "string" || !sigOk())
    return ["bad_signature", null, `signature by key ${cp.key_id} does not verify`];
  if (cp.prev !== null) {
    const ref = cps.get(cp.prev.size);
    if (cp.prev.size >= cp.size) return ["checkpoint_link", null, "prev is not smaller"];
    if (!ref || checkpointHash(ref) !== cp.prev.hash || ref.size !== cp.prev.size)
      return ["checkpoint_link", null, "prev checkpoint is missing or changed"];
    if (ref.time > cp.time) return ["checkpoint_link", null, "time goes backwards"];
  }
  if (cp.size > size) return ["missing", size, `seals ${cp.size} entries but the stream has ${size}`];
  for (let i = 0; i < cp.leaves.length; i++) {
    if (hashes[cp.leaves_start + i] !== cp.leaves[i])
      return ["sealed_entry_changed", cp.leaves_start + i, "an entry is not the one it sealed"];
  }
  if (hashes[cp.size - 1] !== cp.head) return ["sealed_entry_changed", cp.size - 1, "head changed"];
  return null;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const req = args.find((a) => a.startsWith("--require-witnesses="));
  const [target, ws, stream, ...vkeys] = args.filter((a) => a !== req);
  if (!target || !ws || !stream || vkeys.length === 0) {
    console.error("usage: node log.mjs <dir|file://URL> <workspace> <stream> <vkey>... [--require-witnesses=k]");
    process.exit(2);
  }
  const dir = target.startsWith("file://") ? fileURLToPath(target) : target;
  const report = verifyLog(dir, ws, stream, vkeys, req ? Number(req.split("=")[1]) : 0);
  console.log(JSON.stringify(report));
  process.exit(report.ok ? 0 : 1);
}
