#!/usr/bin/env node
// A second, independent verifier of the cloudstores audit-log primitives, written from
// docs/audit-format.md and the specs it cites (RFC 8785, RFC 6962/9162, C2SP
// tlog-tiles, tlog-checkpoint, signed-note, tlog-cosignature). Node 20, standard
// library only: node:crypto gives SHA-256 and Ed25519.
//
//   node verifiers/js/verify.mjs tests/tlog/vectors
//
// Prints one JSON line per vector case: {"id", "verdict", "expect"}; exits 1 if any
// verdict differs from the case's "expect" (tampered cases must be rejected).

import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
// (a cycle: log.mjs imports this module's functions; neither calls the other at load)
import { mapSource, parseEntries, verifyStream } from "./log.mjs";

// ---------------------------------------------------------------- RFC 8785 (JCS)

// JSON.stringify already writes strings and numbers exactly as RFC 8785 requires
// (it is defined by ECMAScript); JCS adds no whitespace and sorts object keys by
// UTF-16 code units, which is what the default Array.prototype.sort compares.
export function jcs(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("NaN/Infinity is not JSON");
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    if (!value.isWellFormed()) throw new Error("lone surrogate");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return "{" + keys.map((k) => jcs(k) + ":" + jcs(value[k])).join(",") + "}";
  }
  throw new Error(`not JSON: ${typeof value}`);
}

// ---------------------------------------------------------------- RFC 6962 hashing

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
export const leafHash = (data) => sha256(Buffer.from([0]), data);
export const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
const hex = (s) => Buffer.from(s, "hex");

// RFC 9162 2.1.3.2. Sizes are BigInt: JavaScript bit operators are 32-bit.
export function verifyInclusion(index, size, leaf, proof, root) {
  index = BigInt(index);
  size = BigInt(size);
  if (index >= size || leaf.length !== 32 || root.length !== 32) return false;
  if (proof.length > 128 || proof.some((p) => p.length !== 32)) return false;
  let fn = index, sn = size - 1n, r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

// RFC 9162 2.1.4.2, plus the trivial cases (equal sizes; the empty old tree).
export function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = BigInt(oldSize), n = BigInt(newSize);
  if (m > n || oldRoot.length !== 32 || newRoot.length !== 32) return false;
  if (proof.length > 128 || proof.some((p) => p.length !== 32)) return false;
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (m === 0n) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1n, sn = n - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && fr.equals(oldRoot) && sr.equals(newRoot);
}

// ---------------------------------------------------------------- C2SP tlog-tiles

export function encodeIndex(index) {
  let n = BigInt(index);
  const groups = [String(n % 1000n).padStart(3, "0")];
  n /= 1000n;
  while (n > 0n) { groups.unshift("x" + String(n % 1000n).padStart(3, "0")); n /= 1000n; }
  return groups.join("/");
}

export const tilePath = (level, index, width = 256) =>
  `tile/${level}/${encodeIndex(index)}` + (width === 256 ? "" : `.p/${width}`);

export function tilesForSize(size) {
  const out = [];
  let s = BigInt(size);
  for (let level = 0; s > 0n; level++, s >>= 8n) {
    const full = s / 256n, rest = Number(s % 256n);
    for (let i = 0n; i < full; i++) out.push(tilePath(level, i));
    if (rest) out.push(tilePath(level, full, rest));
  }
  return out;
}

// MTH of a tree of `size` leaves from its tiles (getTile: path -> Buffer).
export function rootFromTiles(size, getTile) {
  size = BigInt(size);
  if (size === 0n) return sha256(Buffer.alloc(0));
  const hashAt = (level, index) => {           // perfect subtree (level, index)
    const tileLevel = Math.floor(level / 8), rest = level % 8;
    const first = BigInt(index) << BigInt(rest);
    const tileIndex = first / 256n, start = Number(first % 256n);
    const count = size >> BigInt(8 * tileLevel);
    const width = Number(count - tileIndex * 256n < 256n ? count - tileIndex * 256n : 256n);
    const body = getTile(tilePath(tileLevel, tileIndex, width));
    if (!body || body.length !== width * 32) throw new Error("tile has the wrong length");
    let hashes = [];
    for (let i = start; i < start + (1 << rest); i++) hashes.push(body.subarray(i * 32, i * 32 + 32));
    while (hashes.length > 1) {
      const next = [];
      for (let i = 0; i < hashes.length; i += 2) next.push(nodeHash(hashes[i], hashes[i + 1]));
      hashes = next;
    }
    return hashes[0];
  };
  // the root folds the perfect subtrees of [0, size), largest first, right to left
  const parts = [];
  let begin = 0n;
  for (let level = 63; level >= 0; level--) {
    if ((size >> BigInt(level)) & 1n) {
      parts.push(hashAt(level, begin >> BigInt(level)));
      begin += 1n << BigInt(level);
    }
  }
  let r = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) r = nodeHash(parts[i], r);
  return r;
}

// ---------------------------------------------------------------- C2SP signed-note

const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
const validName = (name) => name.length > 0 && !SPACE.test(name) && !name.includes("+");

function b64strict(s) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new Error("bad base64");
  const buf = Buffer.from(s, "base64");
  if (buf.toString("base64") !== s) throw new Error("non-canonical base64");
  return buf;
}

export function parseNote(bytes, maxSize = 256 * 1024, maxSigs = 64) {
  if (bytes.length > maxSize) throw new Error("note too large");
  const content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  if (CONTROL.test(content)) throw new Error("control character");
  const split = content.lastIndexOf("\n\n");
  if (split < 0) throw new Error("no blank line");
  const text = content.slice(0, split + 1), block = content.slice(split + 2);
  if (!block.endsWith("\n")) throw new Error("no final newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > maxSigs) throw new Error("too many signatures");
  const sigs = lines.map((line) => {
    if (!line.startsWith("\u2014 ")) throw new Error("signature line without em dash");
    const parts = line.slice(2).split(" ");
    if (parts.length !== 2 || !validName(parts[0])) throw new Error("bad signature line");
    const blob = b64strict(parts[1]);
    if (blob.length < 5) throw new Error("short signature");
    return { name: parts[0], keyId: blob.readUInt32BE(0), sig: blob.subarray(4) };
  });
  return { text, sigs };
}

const keyId = (name, type, pub) =>
  sha256(Buffer.from(name + "\n", "utf8"), Buffer.from([type]), pub).readUInt32BE(0);

const edKey = (raw) =>
  createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });

// vkey -> {name, keyId, verify(textBuffer, sigBuffer) -> bool}
export function parseVkey(vkey) {
  // name+hash+base64: the base64 part may itself contain "+", the name may not
  const i1 = vkey.indexOf("+"), i2 = vkey.indexOf("+", i1 + 1);
  if (i1 < 0 || i2 < 0) throw new Error("bad vkey");
  const name = vkey.slice(0, i1), id = vkey.slice(i1 + 1, i2), key = vkey.slice(i2 + 1);
  if (!validName(name) || !/^[0-9a-f]{8}$/.test(id)) throw new Error("bad vkey");
  const raw = b64strict(key), type = raw[0], pub = raw.subarray(1);
  if (type === 0x02) return ecdsaVkey(name, parseInt(id, 16), pub);
  if (pub.length !== 32 || (type !== 0x01 && type !== 0x04)) throw new Error("unsupported vkey");
  if (keyId(name, type, pub) !== parseInt(id, 16)) throw new Error("vkey hash mismatch");
  const k = edKey(pub);
  const verify = type === 0x01
    ? (text, sig) => sig.length === 64 && cryptoVerify(null, text, k, sig)
    : (text, sig) => {
        // tlog-cosignature v1: u64 timestamp || Ed25519 over the v1 message
        if (sig.length !== 72) return false;
        const ts = sig.readBigUInt64BE(0);
        if (ts > 2n ** 63n - 1n) return false;
        const msg = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${ts}\n`), text]);
        return cryptoVerify(null, msg, k, sig.subarray(8));
      };
  return { name, keyId: parseInt(id, 16), type, verify, pub };
}

// Signatures by known keys (name AND key ID match) must all verify; unknown are ignored.
// Returns the names of the known keys whose signatures verified.
// signed-note type 0x02 (ECDSA, as transparency-dev/witness): the key is a DER
// SubjectPublicKeyInfo of a NIST P-256 key, its key ID SHA-256(DER)[:4] (not name-based),
// the signature an ASN.1 DER ECDSA signature of SHA-256(text).
function ecdsaVkey(name, id, der) {
  if (sha256(der).readUInt32BE(0) !== id) throw new Error("vkey hash mismatch");
  const k = createPublicKey({ key: der, format: "der", type: "spki" });
  if (k.asymmetricKeyType !== "ec" || k.asymmetricKeyDetails.namedCurve !== "prime256v1")
    throw new Error("unsupported vkey: not an ECDSA P-256 key");
  const verify = (text, sig) => { try { return cryptoVerify("sha256", text, { key: k, dsaEncoding: "der" }, sig); } catch { return false; } };
  return { name, keyId: id, type: 0x02, verify, pub: der, key: k };
}

export function openNote(bytes, verifiers) {
  const note = parseNote(bytes);
  const text = Buffer.from(note.text, "utf8");
  const ok = new Set();
  for (const s of note.sigs) {
    const v = verifiers.find((x) => x.name === s.name && x.keyId === s.keyId);
    if (!v) continue;
    if (!v.verify(text, s.sig)) throw new Error(`signature by ${s.name} does not verify`);
    ok.add(s.name);
  }
  return { text: note.text, verified: ok };
}

export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw new Error("checkpoint text must end in newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || lines[0] === "") throw new Error("checkpoint needs three lines");
  if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1]) || BigInt(lines[1]) > 2n ** 63n - 1n)
    throw new Error("bad tree size");
  const root = b64strict(lines[2]);
  if (root.length !== 32) throw new Error("bad root hash");
  if (lines.slice(3).some((l) => l === "")) throw new Error("empty extension line");
  return { origin: lines[0], size: BigInt(lines[1]), root, extensions: lines.slice(3) };
}

// A checkpoint is accepted when a log key signed it, its origin is the expected one,
// and at least minWitnesses trusted witnesses cosigned it.
export function verifyCheckpoint(bytes, policy, minWitnesses) {
  const logKeys = policy.log_vkeys.map(parseVkey);
  const witnessKeys = policy.witness_vkeys.map(parseVkey);
  const logNames = new Set(logKeys.map((k) => k.name));
  const opened = openNote(bytes, [...logKeys, ...witnessKeys]);
  if (![...opened.verified].some((n) => logNames.has(n))) throw new Error("no log signature");
  const cp = parseCheckpoint(opened.text);
  if (cp.origin !== policy.origin) throw new Error("wrong origin");
  const witnesses = [...opened.verified].filter((n) => !logNames.has(n));
  if (witnesses.length < minWitnesses) throw new Error("too few witnesses");
  return cp;
}

// ---------------------------------------------------------------- C2SP tlog-proof@v1

// Verify a tlog-proof for a leaf hash under a policy; returns the checkpoint or throws.
export function verifyTlogProof(bytes, leaf, policy, minWitnesses) {
  const sep = bytes.indexOf("\n\n");
  if (sep < 0) throw new Error("no empty line");
  const lines = bytes.subarray(0, sep).toString("ascii").split("\n");
  if (lines[0] !== "c2sp.org/tlog-proof@v1") throw new Error("bad header");
  let pos = 1;
  if (lines[pos]?.startsWith("extra ")) { if (b64strict(lines[pos].slice(6)).length === 0) throw new Error("empty extra"); pos++; }
  const m = /^index (0|[1-9][0-9]{0,18})$/.exec(lines[pos] ?? "");
  if (!m) throw new Error("no index line");
  const proof = lines.slice(pos + 1).map(b64strict);
  if (proof.length > 63 || proof.some((p) => p.length !== 32)) throw new Error("bad proof");
  const cp = verifyCheckpoint(bytes.subarray(sep + 2), policy, minWitnesses);
  if (BigInt(m[1]) >= cp.size) throw new Error("index beyond the tree");
  if (!verifyInclusion(BigInt(m[1]), cp.size, leaf, proof, cp.root)) throw new Error("inclusion");
  return cp;
}

// ---------------------------------------------------------------- the vectors

const verdict = (fn) => { try { return fn() === true; } catch { return false; } };

function runFile(name, doc) {
  const out = [];
  const add = (id, v, expect) => out.push({ id: `${name}/${id}`, verdict: v, expect });
  if (name === "jcs.json") {
    doc.cases.forEach((c, i) => add(`cases/${i}`, verdict(() => {
      const bytes = Buffer.from(jcs(c.value), "utf8");
      return bytes.equals(Buffer.from(c.canonical, "utf8")) && leafHash(bytes).equals(hex(c.leaf_hash));
    }), c.expect));
  } else if (name === "merkle.json") {
    const leaves = doc.leaf_data.map((d) => leafHash(Buffer.from(d, "utf8")));
    add("leaf_hashes", leaves.every((h, i) => h.toString("hex") === doc.leaf_hashes[i]), true);
    add("leaf_data_is_jcs", doc.leaf_data.every((d) => jcs(JSON.parse(d)) === d), true);
    add("roots", doc.roots.every((r, n) => rootOf(leaves.slice(0, n)).toString("hex") === r), true);
    doc.inclusion.forEach((c, i) => add(`inclusion/${i}`, verdict(() => verifyInclusion(
      c.index, c.size, hex(c.leaf_hash), c.proof.map(hex), hex(c.root))), c.expect));
    doc.consistency.forEach((c, i) => add(`consistency/${i}`, verdict(() => verifyConsistency(
      c.old_size, c.new_size, hex(c.old_root), hex(c.new_root), c.proof.map(hex))), c.expect));
  } else if (name === "tiles.json") {
    doc.paths.forEach((c, i) => add(`paths/${i}`, tilePath(c.level, c.index, c.width) === c.path, true));
    doc.tile_sets.forEach((c, i) => add(`tile_sets/${i}`, c.tiles
      ? JSON.stringify(tilesForSize(c.size)) === JSON.stringify(c.tiles)
      : JSON.stringify(tilesForSize(c.size).filter((p) => !/^tile\/0\/[x0-9\/]+$/.test(p)))
        === JSON.stringify(c.partial), true));
    doc.trees.forEach((c, i) => add(`trees/${i}`, verdict(() => {
      const tiles = Object.fromEntries(Object.entries(doc.tiles).map(([p, b]) => [p, Buffer.from(b, "base64")]));
      if (c.tamper) {
        const t = Buffer.from(tiles[c.tamper.path]);
        if (c.tamper.byte !== undefined) t[c.tamper.byte] ^= 1;
        tiles[c.tamper.path] = c.tamper.truncate !== undefined ? t.subarray(0, c.tamper.truncate) : t;
      }
      if (JSON.stringify(Object.keys(tiles).sort()) !== JSON.stringify(tilesForSize(c.size).sort())) return false;
      // level-0 tiles must hold the leaf hashes of leaf_data(i), recomputed here
      const leaves = [];
      for (let i = 0; i < c.size; i++) leaves.push(leafHash(Buffer.from(jcs({ seq: i, event: "test", score: i / 4 }), "utf8")));
      const level0 = Buffer.concat(tilesForSize(c.size).filter((p) => p.startsWith("tile/0/")).map((p) => tiles[p]));
      return level0.equals(Buffer.concat(leaves)) && rootFromTiles(c.size, (p) => tiles[p]).equals(hex(c.root));
    }), c.expect));
  } else if (name === "notes.json") {
    doc.checkpoints.forEach((c, i) => add(`checkpoints/${i}`, verdict(() => {
      const cp = verifyCheckpoint(Buffer.from(c.note, "utf8"), doc.policy, c.min_witnesses);
      if (c.checkpoint) {
        return cp.origin === c.checkpoint.origin && cp.size === BigInt(c.checkpoint.size)
          && cp.root.toString("hex") === c.checkpoint.root;
      }
      return true;
    }), c.expect));
    doc.tlog_proofs.forEach((c, i) => add(`tlog_proofs/${i}`, verdict(() => {
      verifyTlogProof(Buffer.from(c.proof, "utf8"), hex(c.leaf_hash), doc.policy, c.min_witnesses);
      return true;
    }), c.expect));
    doc.plain_notes.forEach((c, i) => add(`plain_notes/${i}`, verdict(() =>
      openNote(Buffer.from(c.note, "utf8"), [parseVkey(c.vkey)]).verified.size > 0), c.expect));
  } else if (name === "audit.json") {
    runAudit(doc, add);
  } else {
    add("unknown-file", false, true);
  }
  return out;
}

// The audit store's vectors (docs/audit-format.md section 9): entries recomputed from the
// stored objects (RFC 8785 for format 3), roots, proofs, checkpoint signatures and
// notes, and whole streams, clean and tampered, through log.mjs.
function runAudit(doc, add) {
  const objects = new Map(Object.entries(doc.objects).map(([k, v]) =>
    [k, k.includes("/tile/") ? Buffer.from(v, "base64") : Buffer.from(v, "utf8")]));
  const prefix = `ws/${doc.workspace}/audit/${doc.stream}/e/`;
  const leaves = [];
  for (const [key, data] of [...objects].filter(([k]) => k.startsWith(prefix)).sort()) {
    for (const { entry, leaf } of parseEntries(data)) leaves[entry.seq] = { entry, leaf };
  }
  doc.entries.forEach((c, i) => add(`entries/${i}`, verdict(() => {
    const got = leaves[c.seq];
    if (!got || got.leaf !== c.leaf_hash || got.entry.v !== c.v) return false;
    if (!leafHash(Buffer.from(c.hashed, "utf8")).equals(hex(c.leaf_hash))) return false;
    if (c.v !== 3) return true;
    // format 3: the hashed bytes are the JCS of the entry built from the inputs
    const body = { event: c.event, prev: c.prev, seq: c.seq, stream: doc.stream, ts: c.ts, v: 3, ws: doc.workspace };
    if (c.key !== null) body.key = c.key;
    return jcs(body) === c.hashed;
  }), true));
  const hashes = doc.entries.map((c) => hex(c.leaf_hash));
  doc.node_hashes.forEach((c, i) => {
    const span = 2 ** c.level;
    const below = hashes.slice(c.index * span, (c.index + 1) * span);
    add(`node_hashes/${i}`, nodeHash(hex(c.left), hex(c.right)).toString("hex") === c.hash
      && rootOf(below).toString("hex") === c.hash, true);
  });
  add("roots", Object.entries(doc.roots).every(([n, r]) =>
    rootOf(hashes.slice(0, Number(n))).toString("hex") === r), true);
  doc.inclusion.forEach((c, i) => add(`inclusion/${i}`, verdict(() => verifyInclusion(
    c.seq, c.size, hex(c.leaf_hash), c.proof.map(hex), hex(c.root))), true));
  doc.consistency.forEach((c, i) => add(`consistency/${i}`, verdict(() => verifyConsistency(
    c.old_size, c.new_size, hex(c.old_root), hex(c.new_root), c.proof.map(hex))), true));
  const vkey = parseVkey(doc.vkey);
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(doc.public_key, "hex").toString("base64url") }, format: "jwk" });
  doc.checkpoints.forEach((c, i) => add(`checkpoints/${i}`, verdict(() => {
    const stored = JSON.parse(c.stored);
    const body = { ...stored };
    delete body.signature; delete body.note; delete body.edge;
    const message = "cloudstores-audit-checkpoint/v1\n" + jcs(body);
    const head = parseCheckpoint(openNote(Buffer.from(c.note, "utf8"), [vkey]).text);
    return message === c.signed_message && stored.signature === c.signature
      && stored.root === c.root && stored.note === c.note
      && cryptoVerify(null, Buffer.from(message, "utf8"), publicKey, Buffer.from(c.signature, "base64"))
      && head.size === BigInt(c.size) && head.root.toString("hex") === c.root
      && head.origin === `cloudstores/audit/${doc.workspace}/${doc.stream}`
      && sha256(Buffer.from([2]), Buffer.from(jcs(stored), "utf8")).toString("hex") === c.hash;
  }), true));
  doc.streams.forEach((c, i) => {
    let report = null;
    try {
    const changed = new Map(objects);
    for (const [k, v] of Object.entries(c.changes)) {
      if (v === null) changed.delete(k);
      else changed.set(k, k.includes("/tile/") ? Buffer.from(v, "base64") : Buffer.from(v, "utf8"));
    }
    report = verifyStream(mapSource(changed), doc.workspace, doc.stream, [doc.vkey]);
    } catch { report = null; }
    add(`streams/${i}`, report !== null && report.ok, c.expect);
    // the first bad sequence number named, the same as the Python verifier's
    add(`streams/${i}/first_bad_seq`, report !== null && report.first_bad_seq === c.first_bad_seq, true);
  });
}

// Root of in-memory leaf hashes (RFC 6962 MTH, split at the largest power of two).
function rootOf(hashes) {
  if (hashes.length === 0) return sha256(Buffer.alloc(0));
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(rootOf(hashes.slice(0, k)), rootOf(hashes.slice(k)));
}

export function runVectors(dir) {
  const results = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    results.push(...runFile(file, JSON.parse(readFileSync(join(dir, file), "utf8"))));
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (!dir) { console.error("usage: node verify.mjs <vectors dir>"); process.exit(2); }
  const results = runVectors(dir);
  for (const r of results) console.log(JSON.stringify(r));
  const wrong = results.filter((r) => r.verdict !== r.expect);
  console.error(`${results.length} cases, ${results.filter((r) => !r.expect).length} tampered, ${wrong.length} disagreements`);
  process.exit(wrong.length ? 1 : 0);
}
