// Checks, in the browser, that an entry of the citizen's access list is in the server's
// transparency log: the checkpoint is an Ed25519-signed C2SP note by the log's key, and the
// entry is the leaf the RFC 9162 inclusion proof puts under its root. WebCrypto only
// (SHA-256 and Ed25519; Chromium >= 137, Firefox >= 129, Safari >= 17).

const enc = new TextEncoder();
const KEY_STORE = "simkyc.log-key";  // the log key first seen (trust on first use)

function b64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

const leafHash = (data) => sha256(Uint8Array.of(0), data);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// "<name>+<key hash hex>+<base64(0x01 || public key)>": split at the first two "+" only,
// as base64 has "+" among its digits (a plain split cut about half of all keys short).
export async function parseVkey(vkey) {
  const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error("not a verifier key");
  const [name, hashHex, raw] = [vkey.slice(0, first), vkey.slice(first + 1, second),
    vkey.slice(second + 1)];
  const bytes = b64(raw);
  if (!name || bytes[0] !== 1 || bytes.length !== 33) throw new Error("not an Ed25519 key");
  const public_ = bytes.slice(1);
  const hash = (await sha256(enc.encode(name + "\n"), Uint8Array.of(1), public_)).slice(0, 4);
  if ([...hash].map((x) => x.toString(16).padStart(2, "0")).join("") !== hashHex) {
    throw new Error("key hash mismatch");
  }
  return { name, hash, public_ };
}

// The checkpoint (origin, size, root) if the note carries a valid signature by `key`.
export async function openNote(note, key) {
  const cut = note.indexOf("\n\n");
  if (cut < 0) return null;
  const body = note.slice(0, cut + 1);
  const cryptoKey = await crypto.subtle.importKey("raw", key.public_, { name: "Ed25519" },
    false, ["verify"]);
  for (const line of note.slice(cut + 2).split("\n")) {
    const [dash, name, blob] = line.split(" ");
    if (dash !== "\u2014" || name !== key.name || !blob) continue;
    const sig = b64(blob);
    if (sig.length !== 68 || !same(sig.slice(0, 4), key.hash)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.slice(4),
      enc.encode(body))) {
      const [origin, size, root] = body.split("\n");
      return { origin, size: Number(size), root: b64(root) };
    }
  }
  return null;
}

// RFC 9162 2.1.3.2.
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (index < 0 || index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(r, root);
}

// Whether `proof` (an access's `proof`) proves its entry under a checkpoint signed by `vkey`.
export async function verifyEntry(proof, vkey) {
  try {
    const key = await parseVkey(vkey);
    const point = await openNote(proof.checkpoint, key);
    if (!point || point.size !== proof.tree_size) return false;
    const leaf = await leafHash(enc.encode(proof.entry));
    return await verifyInclusion(leaf, proof.index, proof.tree_size,
      proof.inclusion.map(b64), point.root);
  } catch {
    return false;
  }
}

// The log key to trust: the one this browser saw first (a later, different key is refused).
export function trustedKey(served) {
  const known = localStorage.getItem(KEY_STORE);
  if (known) return known;
  localStorage.setItem(KEY_STORE, served);
  return served;
}

// An access row as shown agrees with the entry its proof is for.
export function matches(access, proof) {
  try {
    const entry = JSON.parse(proof.entry);
    return entry.seq === access.seq && entry.action === access.action
      && entry.purpose === access.purpose && entry.actor_role === access.actor_role
      && Date.parse(entry.at) === Date.parse(access.at);
  } catch {
    return false;
  }
}

// RFC 9162 2.1.4.2: is the tree of `newRoot` an extension of the one of `oldRoot`?
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (oldSize === newSize) return proof.length === 0 && same(oldRoot, newRoot);
  if (!(oldSize > 0 && oldSize < newSize) || proof.length === 0) {
    return oldSize === 0 && proof.length === 0;
  }
  const half = (n) => Math.floor(n / 2);
  const path = Number.isInteger(Math.log2(oldSize)) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1, sn = newSize - 1;
  while (fn % 2 === 1) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 && same(fr, oldRoot) && same(sr, newRoot);
}

// The checkpoints this browser has seen, per log origin (localStorage): the largest few,
// each signature-checked when kept.
const SEEN_STORE = "simkyc.log-checkpoints:";
const SEEN_KEPT = 8;

export function seenCheckpoints(origin) {
  try {
    return JSON.parse(localStorage.getItem(SEEN_STORE + origin) || "[]");
  } catch {
    return [];
  }
}

function keep(origin, point, note) {
  const kept = seenCheckpoints(origin).filter((c) => c.size !== point.size);
  kept.push({ size: point.size, root: btoa(String.fromCharCode(...point.root)), note });
  kept.sort((a, b) => a.size - b.size);
  localStorage.setItem(SEEN_STORE + origin, JSON.stringify(kept.slice(-SEEN_KEPT)));
}

// The served checkpoint against the largest one this browser kept for the log's origin:
// "first" (none kept), "consistent" (a consistency proof, RFC 9162 2.1.4, links the two),
// "fork" (two signed checkpoints that cannot both be true: same size and another root, or
// a proof that fails), "unchecked" (a bad signature, or no proof could be had). Only a
// checkpoint shown consistent (or the first) is kept: a fork leaves the old one in place,
// so the warning stays until the log proves itself. `consistency(first, second)` resolves
// to the proof's hashes (bytes) between two sizes.
export async function checkCheckpoint(note, vkey, consistency) {
  let point;
  try {
    point = await openNote(note, await parseVkey(vkey));
  } catch {
    point = null;
  }
  if (!point) return "unchecked";
  const largest = seenCheckpoints(point.origin).at(-1);
  if (largest && largest.size > 0 && point.size > 0) {
    const old = { size: largest.size, root: b64(largest.root) };
    const [a, b] = old.size <= point.size ? [old, point] : [point, old];
    let ok;
    if (a.size === b.size) {
      ok = same(a.root, b.root);
    } else {
      let proof;
      try {
        proof = await consistency(a.size, b.size);
      } catch {
        return "unchecked";
      }
      ok = await verifyConsistency(a.size, b.size, a.root, b.root, proof);
    }
    if (!ok) return "fork";
  }
  if (!largest || point.size > largest.size) keep(point.origin, point, note);
  return largest ? "consistent" : "first";
}
