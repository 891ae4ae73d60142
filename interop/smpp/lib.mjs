// Helpers shared by the SMPP interop tests: the GSM 03.38 alphabet, user
// data headers, the raw short_message bytes behind the smpp package's
// decoding, promises with deadlines around the package's callbacks, and
// small HTTP helpers. Written for these tests from the specifications
// (3GPP TS 23.038, 23.040; SMPP 3.4); nothing here comes from the package.

import { createRequire } from 'node:module';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

const require = createRequire(import.meta.url);
export const smpp = require('smpp');
export const smppPackage = require('smpp/package.json');

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/smpp/run.sh`);
  return v;
}

// ---------------------------------------------------------------------------
// GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), one septet per index,
// and its extension table, reached through the escape septet 0x1B.

const GSM_BASIC = [
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', null, 'Æ', 'æ', 'ß', 'É',
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];
const GSM_ESCAPE = 0x1b;
const GSM_EXTENSION = new Map([
  [0x0a, '\f'], [0x14, '^'], [0x28, '{'], [0x29, '}'], [0x2f, '\\'],
  [0x3c, '['], [0x3d, '~'], [0x3e, ']'], [0x40, '|'], [0x65, '€'],
]);
const GSM_ENCODE = new Map();
GSM_BASIC.forEach((ch, i) => { if (ch !== null) GSM_ENCODE.set(ch, [i]); });
for (const [code, ch] of GSM_EXTENSION) GSM_ENCODE.set(ch, [GSM_ESCAPE, code]);

// gsmEncode turns text into septets, one per octet (unpacked).
export function gsmEncode(text) {
  const out = [];
  for (const ch of text) {
    const septets = GSM_ENCODE.get(ch);
    if (!septets) throw new Error(`${JSON.stringify(ch)} is not in the GSM 03.38 alphabet`);
    out.push(...septets);
  }
  return Buffer.from(out);
}

// gsmDecode reads unpacked septets. It is strict: an octet above 0x7F (a
// packed or 8-bit body) or an escape to an undefined extension throws.
export function gsmDecode(septets) {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i];
    if (s > 0x7f) throw new Error(`octet 0x${s.toString(16)} at ${i} is not an unpacked GSM septet`);
    if (s === GSM_ESCAPE) {
      const next = septets[++i];
      if (next === undefined) throw new Error('GSM text ends with an escape septet');
      const ch = GSM_EXTENSION.get(next);
      if (ch === undefined) throw new Error(`escape to undefined extension septet 0x${next.toString(16)}`);
      out += ch;
      continue;
    }
    out += GSM_BASIC[s];
  }
  return out;
}

// gsmSplit cuts text into segments of at most `max` septets without
// splitting an escape sequence.
export function gsmSplit(text, max) {
  const parts = [];
  let cur = '';
  let n = 0;
  for (const ch of text) {
    const w = gsmEncode(ch).length;
    if (n + w > max) {
      parts.push(cur);
      cur = '';
      n = 0;
    }
    cur += ch;
    n += w;
  }
  if (cur) parts.push(cur);
  return parts;
}

export function ucs2Encode(text) {
  const b = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) b.writeUInt16BE(text.charCodeAt(i), 2 * i);
  return b;
}

export function ucs2Decode(b) {
  if (b.length % 2 !== 0) throw new Error(`UCS-2 body has an odd length ${b.length}`);
  let out = '';
  for (let i = 0; i < b.length; i += 2) out += String.fromCharCode(b.readUInt16BE(i));
  return out;
}

// ---------------------------------------------------------------------------
// User data headers (3GPP TS 23.040 §9.2.3.24).

// parseUDH splits a short_message that starts with a UDH into its
// information elements and the text after it.
export function parseUDH(sm) {
  if (sm.length < 1) throw new Error('empty short_message with UDHI set');
  const udhl = sm[0];
  if (udhl + 1 > sm.length) throw new Error(`UDH length ${udhl} exceeds the short_message (${sm.length} octets)`);
  const ies = [];
  for (let i = 1; i < udhl + 1;) {
    const iei = sm[i];
    const len = sm[i + 1];
    if (len === undefined || i + 2 + len > udhl + 1) throw new Error('UDH information element overruns the header');
    ies.push({ iei, data: sm.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  let concat = null;
  for (const ie of ies) {
    if (ie.iei === 0x00 && ie.data.length === 3) {
      concat = { ref: ie.data[0], total: ie.data[1], seq: ie.data[2], bits: 8 };
    } else if (ie.iei === 0x08 && ie.data.length === 4) {
      concat = { ref: ie.data.readUInt16BE(0), total: ie.data[2], seq: ie.data[3], bits: 16 };
    }
  }
  return { header: sm.subarray(0, udhl + 1), ies, concat, text: sm.subarray(udhl + 1) };
}

export function concatUDH(ref, total, seq) {
  return Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);
}

// ---------------------------------------------------------------------------
// The smpp package decodes short_message as it reads a PDU ({udh, message},
// text through its own GSM/UCS-2 tables). The tests want the octets too, to
// check them with the decoders above: this wrapper keeps the undecoded
// bytes next to the package's result as a non-enumerable `raw` property.
// It changes nothing the package itself sees or sends.

const messageFilter = smpp.filters.message;
const packageDecode = messageFilter.decode;
messageFilter.decode = function decodeKeepingRaw(value, skipUdh) {
  const out = packageDecode.call(this, value, skipUdh);
  if (Buffer.isBuffer(value) && out !== null && typeof out === 'object' && !Buffer.isBuffer(out)) {
    Object.defineProperty(out, 'raw', { value: Buffer.from(value), enumerable: false });
  }
  return out;
};

// rawShortMessage is the short_message octets of a PDU read from the wire.
export function rawShortMessage(pdu) {
  const sm = pdu.short_message;
  if (Buffer.isBuffer(sm)) return sm;
  if (sm && Buffer.isBuffer(sm.raw)) return sm.raw;
  throw new Error(`${pdu.command} has no readable short_message`);
}

// packageText is the text as the smpp package itself decoded it.
export function packageText(pdu) {
  const sm = pdu.short_message;
  return sm && typeof sm.message === 'string' ? sm.message : null;
}

// ---------------------------------------------------------------------------
// Requests over an smpp.Session with a deadline.

export function errorName(status) {
  for (const [name, v] of Object.entries(smpp.errors)) if (v === status) return name;
  return `0x${status.toString(16)}`;
}

// request sends a request PDU and resolves with its response PDU (whatever
// its command_status), or rejects after timeoutMs.
export function request(session, command, params = {}, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no response to ${command} within ${timeoutMs} ms`)), timeoutMs);
    let sent;
    try {
      sent = session[command](params, (resp) => { clearTimeout(timer); resolve(resp); });
    } catch (e) {
      clearTimeout(timer);
      reject(e);
      return;
    }
    if (!sent) {
      clearTimeout(timer);
      reject(new Error(`${command}: the connection is not writable`));
    }
  });
}

// Responses as omnigate sent them, for the check that each is the request's
// own *_resp PDU.
export const responses = []; // { what, request, command, status }

// expectStatus checks a response's command_status and records its command.
// A generic_nack carrying the status is tolerated here and reported by the
// separate "own *_resp" test.
export function expectStatus(what, request, resp, want) {
  responses.push({ what, request, command: resp.command, status: resp.command_status });
  if (resp.command_status !== want) {
    throw new Error(`${what}: ${request} answered ${errorName(resp.command_status)} (${resp.command}), want ${errorName(want)}`);
  }
  if (resp.command !== `${request}_resp` && resp.command !== 'generic_nack') {
    throw new Error(`${what}: ${request} answered with ${resp.command}`);
  }
}

// wrongResponseTypes lists the recorded responses that were not the
// request's own *_resp (SMPP 3.4 §2.4: generic_nack is only for a PDU whose
// header is bad or whose command_id is unknown).
export const wrongResponseTypes = () => responses.filter((r) => r.command !== `${r.request}_resp`);

// connect opens an ESME connection with a deadline.
export function connect(host, port, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host, port });
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`)); }, timeoutMs);
    session.once('connect', () => { clearTimeout(timer); resolve(session); });
    session.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// closed resolves when the session's socket has closed.
export function closed(session, what, timeoutMs = 5000) {
  if (session.socket.destroyed || session.socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: the connection was still open after ${timeoutMs} ms`)), timeoutMs);
    session.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

// ---------------------------------------------------------------------------

// waitFor polls check() until it returns a truthy value or the deadline
// passes; describe() adds what was seen last to the error.
export async function waitFor(what, check, { timeoutMs = 15000, intervalMs = 25, describe } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      const seen = describe ? `; last seen: ${await describe()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await delay(intervalMs);
  }
}

// writeFileAtomic makes a file appear complete (for run.sh to poll).
export async function writeFileAtomic(path, text) {
  await writeFile(path + '.tmp', text);
  await rename(path + '.tmp', path);
}

export async function readFileWhenThere(path, what, timeoutMs) {
  return waitFor(what, async () => {
    try {
      return (await readFile(path, 'utf8')).trim() || null;
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  }, { timeoutMs, intervalMs: 20 });
}

// api calls omnigate's REST API and returns { status, json }.
export async function api(base, key, method, path, body) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { Authorization: `AccessKey ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the assertion below shows the text */ }
  return { status: res.status, json, text };
}

// verifySignatureJWT checks a MessageBird-Signature-JWT (HS256, the signing
// key, url_hash over the exact URL requested) and returns its payload.
export function verifySignatureJWT(token, signingKey, fullURL) {
  const [h, p, s] = String(token).split('.');
  if (!h || !p || !s) throw new Error('the JWT does not have three parts');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  if (header.alg !== 'HS256') throw new Error(`JWT alg ${header.alg}, want HS256`);
  const want = createHmac('sha256', signingKey).update(`${h}.${p}`).digest();
  const got = Buffer.from(s, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('JWT signature does not verify with the signing key');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const urlHash = createHash('sha256').update(fullURL).digest('hex');
  if (payload.url_hash !== urlHash) throw new Error(`JWT url_hash ${payload.url_hash} is not the SHA-256 of ${fullURL}`);
  const now = Math.floor(Date.now() / 1000);
  if (!(payload.nbf <= now + 5 && payload.exp >= now - 5)) throw new Error(`JWT not valid now (nbf ${payload.nbf}, exp ${payload.exp})`);
  return payload;
}
