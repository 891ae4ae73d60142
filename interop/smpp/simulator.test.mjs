// Interop test B: the npm `smpp` package (0.5.1, unmodified) plays the ESME
// against `omnigate smsc`, omnigate's SMSC simulator.
//
// run.sh starts `omnigate smsc --system-id … --password …` and sets:
//   SMSC_ADDR        host:port of its SMPP listener
//   SMSC_CONTROL     http://host:port of its control endpoint
//   SMSC_SYSTEM_ID   the system_id it accepts
//   SMSC_PASSWORD    the password it accepts

import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  smpp, smppPackage, env, gsmSplit, gsmDecode, ucs2Decode, parseUDH, concatUDH,
  rawShortMessage, packageText, errorName, request, connect, closed, waitFor,
  expectStatus, responses, wrongResponseTypes,
} from './lib.mjs';

const [HOST, PORT] = (() => {
  const [h, p] = env('SMSC_ADDR').split(':');
  return [h, Number(p)];
})();
const CONTROL = new URL(env('SMSC_CONTROL'));
const SYSTEM_ID = env('SMSC_SYSTEM_ID');
const PASSWORD = env('SMSC_PASSWORD');
for (const u of [HOST, CONTROL.hostname]) assert.ok(['127.0.0.1', 'localhost'].includes(u), `${u} must be loopback`);

const ESME_ROK = smpp.errors.ESME_ROK;
const ESME_RSYSERR = smpp.errors.ESME_RSYSERR;

const SOURCE = 'Interop'; // alphanumeric sender: TON 5, NPI 0
const HANDSET = '31612345678';
const OUR_NUMBER = '3197010000001';

// Every connection this file opens, closed at the end whatever happens.
const opened = [];
const problems = []; // socket errors and unbinds from the SMSC

async function open(what) {
  const s = await connect(HOST, PORT);
  opened.push(s);
  s.on('error', (e) => problems.push(`${what}: socket error ${e.message}`));
  return s;
}

after(() => {
  for (const s of opened) s.destroy();
});

// deliveries records every deliver_sm a bound session received and answers
// it: ESME_ROK unless a refusal rule (a predicate) matches once.
function receiveOn(session, what) {
  const got = [];
  const refuse = [];
  session.on('deliver_sm', (pdu) => {
    const i = refuse.findIndex((rule) => rule.match(pdu));
    const status = i >= 0 ? refuse.splice(i, 1)[0].status : ESME_ROK;
    got.push({ pdu, raw: rawShortMessage(pdu), status, at: Date.now() });
    session.send(pdu.response({ command_status: status }));
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    problems.push(`${what}: the SMSC unbound`);
    session.send(pdu.response());
  });
  return { got, refuse };
}

async function bind(session, command, { systemId = SYSTEM_ID, password = PASSWORD } = {}) {
  return request(session, command, { system_id: systemId, password, interface_version: 0x34, system_type: '' });
}

async function control(method, path, body) {
  const res = await fetch(new URL(path, CONTROL), {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, text: await res.text() };
}

async function stats() {
  const r = await control('GET', '/stats');
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
}

// isReceipt: esm_class message type bits (2-5) say "SMSC delivery receipt".
const isReceipt = (pdu) => (pdu.esm_class & 0x3c) === 0x04;

// decodeBody reads a short_message by its data_coding after the UDH.
function decodeBody(pdu) {
  const raw = rawShortMessage(pdu);
  const udh = pdu.esm_class & 0x40 ? parseUDH(raw) : null;
  const body = udh ? udh.text : raw;
  let text;
  if (pdu.data_coding === 0x08) text = ucs2Decode(body);
  else if (pdu.data_coding === 0x00) text = gsmDecode(body);
  else throw new Error(`unexpected data_coding ${pdu.data_coding}`);
  return { text, concat: udh ? udh.concat : null };
}

// reassemble groups deliver_sm PDUs (concatenated or not) into messages.
function reassemble(pdus) {
  const single = [];
  const groups = new Map();
  for (const pdu of pdus) {
    const { text, concat } = decodeBody(pdu);
    if (!concat) {
      single.push({ text, pdus: [pdu] });
      continue;
    }
    const key = `${pdu.source_addr}>${pdu.destination_addr}#${concat.ref}`;
    if (!groups.has(key)) groups.set(key, { total: concat.total, parts: new Map(), pdus: [] });
    const g = groups.get(key);
    assert.equal(concat.total, g.total, `parts of ${key} agree on the total`);
    assert.ok(!g.parts.has(concat.seq), `part ${concat.seq} of ${key} arrived once`);
    g.parts.set(concat.seq, text);
    g.pdus.push(pdu);
  }
  const out = [...single];
  for (const [key, g] of groups) {
    assert.equal(g.parts.size, g.total, `all ${g.total} parts of ${key} arrived`);
    let text = '';
    for (let seq = 1; seq <= g.total; seq++) {
      assert.ok(g.parts.has(seq), `part ${seq} of ${key}`);
      text += g.parts.get(seq);
    }
    out.push({ text, pdus: g.pdus, total: g.total });
  }
  return out;
}

// parseReceiptText reads the SMPP 3.4 appendix B receipt text.
function parseReceiptText(text) {
  const m = /^id:(\S+) sub:(\d+) dlvrd:(\d+) submit date:(\d{10}) done date:(\d{10}) stat:(\w+) err:(\d+) text:(.*)$/s.exec(text);
  assert.ok(m, `receipt text in the SMPP appendix B format: ${JSON.stringify(text)}`);
  return { id: m[1], sub: m[2], dlvrd: m[3], submitDate: m[4], doneDate: m[5], stat: m[6], err: m[7], text: m[8] };
}

// ---------------------------------------------------------------------------

test('the ESME is the npm smpp package 0.5.1', () => {
  assert.equal(smppPackage.version, '0.5.1');
  assert.equal(typeof smpp.connect, 'function');
});

test('a submit_sm before bind is answered ESME_RINVBNDSTS', async () => {
  const s = await open('unbound');
  const resp = await request(s, 'submit_sm', {
    source_addr: SOURCE, destination_addr: HANDSET, short_message: Buffer.from('early'), data_coding: 0,
  });
  expectStatus('submit_sm before bind', 'submit_sm', resp, smpp.errors.ESME_RINVBNDSTS);
  // The session still works: enquire_link is answered before a bind too.
  expectStatus('enquire_link before bind', 'enquire_link', await request(s, 'enquire_link'), ESME_ROK);
  s.destroy();
});

test('a bind with a wrong password or system_id is refused', async (t) => {
  await t.test('wrong password: ESME_RINVPASWD', async () => {
    const s = await open('wrong password');
    const resp = await bind(s, 'bind_transceiver', { password: 'wrong' });
    expectStatus('bind with a wrong password', 'bind_transceiver', resp, smpp.errors.ESME_RINVPASWD);
    // Still not bound: a submit is refused.
    const sub = await request(s, 'submit_sm', { source_addr: SOURCE, destination_addr: HANDSET, short_message: Buffer.from('x'), data_coding: 0 });
    expectStatus('submit_sm after a refused bind', 'submit_sm', sub, smpp.errors.ESME_RINVBNDSTS);
    s.destroy();
  });
  await t.test('wrong system_id: ESME_RINVSYSID', async () => {
    const s = await open('wrong system_id');
    const resp = await bind(s, 'bind_transmitter', { systemId: 'intruder' });
    expectStatus('bind with a wrong system_id', 'bind_transmitter', resp, smpp.errors.ESME_RINVSYSID);
    s.destroy();
  });
});

// The transceiver session the tests below share.
let esme;
let inbox; // { got, refuse }

test('bind_transceiver with the right credentials is accepted; a second bind is ESME_RALYBND', async () => {
  esme = await open('transceiver');
  inbox = receiveOn(esme, 'transceiver');
  const resp = await bind(esme, 'bind_transceiver');
  expectStatus('bind_transceiver', 'bind_transceiver', resp, ESME_ROK);
  assert.equal(resp.command, 'bind_transceiver_resp');
  assert.equal(typeof resp.system_id, 'string');
  assert.ok(resp.system_id.length > 0, 'the SMSC names itself in system_id');
  const again = await bind(esme, 'bind_transceiver');
  expectStatus('a second bind', 'bind_transceiver', again, smpp.errors.ESME_RALYBND);
});

test('enquire_link is answered', async () => {
  assert.ok(esme, 'bound');
  const resp = await request(esme, 'enquire_link');
  expectStatus('enquire_link', 'enquire_link', resp, ESME_ROK);
  assert.equal(resp.command, 'enquire_link_resp');
});

// What was submitted: one entry per submit_sm.
const submitted = []; // { id, text, dest, registered, message }

const SHORT = 'Hello from the smpp ESME: @ £ € {ok} [x]';
const LONG = ('Long message from the npm smpp package to omnigate\'s SMSC simulator; '
  + 'at @ pound £ euro € and braces {} are in the GSM alphabet. ').repeat(4).trim();
const ARABIC = 'مرحبا من عميل SMPP إلى محاكي أومنيجيت. هذه رسالة طويلة باللغة العربية لاختبار الترميز UCS-2 والتقسيم.';

async function submit(params, entry) {
  const resp = await request(esme, 'submit_sm', {
    source_addr_ton: 5, source_addr_npi: 0, source_addr: SOURCE,
    dest_addr_ton: 1, dest_addr_npi: 1, registered_delivery: 1,
    ...params,
  });
  expectStatus(`submit_sm ${entry.message}`, 'submit_sm', resp, ESME_ROK);
  assert.equal(resp.command, 'submit_sm_resp');
  assert.equal(typeof resp.message_id, 'string');
  assert.match(resp.message_id, /^[0-9A-Za-z]{1,64}$/, 'a message id');
  submitted.push({ id: resp.message_id, registered: params.registered_delivery ?? 1, dest: params.destination_addr, ...entry });
  return resp.message_id;
}

test('submit_sm: short GSM, long GSM in UDH parts, UCS-2 Arabic in UDH parts; each gets a message id', async () => {
  assert.ok(esme, 'bound');
  // Short GSM text: the package encodes it with its GSM 03.38 table (data_coding 0).
  await submit({ destination_addr: '31612345001', data_coding: 0, short_message: SHORT }, { message: 'short', text: SHORT });

  // Long GSM text: 153 septets per part after a 6-octet UDH.
  const segs = gsmSplit(LONG, 153);
  assert.ok(segs.length >= 2, `LONG needs several parts (${segs.length})`);
  for (let i = 0; i < segs.length; i++) {
    await submit({
      destination_addr: '31612345002', data_coding: 0, esm_class: 0x40,
      short_message: { udh: concatUDH(0x42, segs.length, i + 1), message: segs[i] },
    }, { message: 'long', text: segs[i] });
  }

  // Arabic in UCS-2: 67 characters per part.
  assert.ok(ARABIC.length > 70);
  const arabic = [];
  for (let i = 0; i < ARABIC.length; i += 67) arabic.push(ARABIC.slice(i, i + 67));
  for (let i = 0; i < arabic.length; i++) {
    await submit({
      destination_addr: '31612345003', data_coding: 0x08, esm_class: 0x40,
      short_message: { udh: concatUDH(0x43, arabic.length, i + 1), message: arabic[i] },
    }, { message: 'arabic', text: arabic[i] });
  }

  // No receipt asked for.
  await submit({ destination_addr: '31612345004', data_coding: 0, registered_delivery: 0, short_message: 'no receipt please' },
    { message: 'noreceipt', text: 'no receipt please' });

  const ids = submitted.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length, `every part has its own message id: ${ids.join(' ')}`);
});

test('query_sm is answered; submit_sm without a destination is ESME_RINVDSTADR; cancel_sm is ESME_RCANCELFAIL', async () => {
  assert.ok(esme && submitted.length > 0, 'the submit test ran');
  const { id } = submitted[0];
  const q = await request(esme, 'query_sm', { message_id: id, source_addr_ton: 5, source_addr_npi: 0, source_addr: SOURCE });
  expectStatus('query_sm', 'query_sm', q, ESME_ROK);
  assert.equal(q.command, 'query_sm_resp');
  assert.equal(q.message_id, id);
  assert.equal(q.message_state, smpp.MESSAGE_STATE.DELIVERED);

  const noDest = await request(esme, 'submit_sm', { source_addr_ton: 5, source_addr: SOURCE, destination_addr: '', data_coding: 0, short_message: 'to nobody' });
  expectStatus('submit_sm without destination_addr', 'submit_sm', noDest, smpp.errors.ESME_RINVDSTADR);

  const cancel = await request(esme, 'cancel_sm', { message_id: id, source_addr_ton: 5, source_addr_npi: 0, source_addr: SOURCE,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: submitted[0].dest });
  expectStatus('cancel_sm', 'cancel_sm', cancel, smpp.errors.ESME_RCANCELFAIL);
});

test('a delivery receipt arrives for every part that asked for one, and matches its id', async () => {
  const wanted = submitted.filter((s) => s.registered === 1);
  assert.ok(wanted.length >= 5, 'the submit test ran');
  const receipts = () => inbox.got.filter((g) => isReceipt(g.pdu));
  await waitFor(`${wanted.length} receipts`, () => receipts().length >= wanted.length, {
    timeoutMs: 10000, describe: () => `${receipts().length} receipts`,
  });
  const byId = new Map();
  for (const { pdu, raw, status } of receipts()) {
    assert.equal(status, ESME_ROK);
    assert.equal(pdu.esm_class, 0x04, 'esm_class is exactly "SMSC delivery receipt"');
    const id = pdu.receipted_message_id;
    assert.equal(typeof id, 'string', 'receipted_message_id TLV (0x001E) is present');
    assert.ok(!byId.has(id), `one receipt for ${id}`);
    const text = parseReceiptText(raw.toString('latin1'));
    assert.equal(text.id, id, 'the text id: matches receipted_message_id');
    assert.equal(text.stat, 'DELIVRD');
    assert.equal(text.dlvrd, '001');
    assert.equal(pdu.message_state, smpp.MESSAGE_STATE.DELIVERED, 'message_state TLV (0x0427) is DELIVERED');
    byId.set(id, pdu);
  }
  for (const s of wanted) {
    const pdu = byId.get(s.id);
    assert.ok(pdu, `a receipt for ${s.message} part ${s.id}`);
    // A receipt goes from the handset back to the sender.
    assert.equal(pdu.source_addr, s.dest);
    assert.equal(pdu.source_addr_ton, 1);
    assert.equal(pdu.source_addr_npi, 1);
    assert.equal(pdu.destination_addr, SOURCE);
    assert.equal(pdu.dest_addr_ton, 5);
    assert.equal(pdu.dest_addr_npi, 0);
  }
  const noReceipt = submitted.find((s) => s.registered === 0);
  assert.ok(!byId.has(noReceipt.id), 'no receipt for registered_delivery 0');
  assert.equal(byId.size, wanted.length, 'no receipt for anything else');
  const st = await stats();
  assert.equal(st.submits, submitted.length, `stats: ${JSON.stringify(st)}`);
  assert.equal(st.receipts, wanted.length, `stats count only the receipts asked for: ${JSON.stringify(st)}`);
});

const INBOUND_SHORT = 'STOP @ £ € ok';
const INBOUND_LONG = ('Reply from a handset, long enough to need two parts once it is split by the simulator. ').repeat(2)
  + 'Ends with € and @.';
const INBOUND_ARABIC = 'شكرا لكم، تم الاستلام';

test('the control endpoint validates inject requests', async () => {
  const bad = await control('POST', '/inject', '{"system_id":');
  assert.equal(bad.status, 400, bad.text);
  const unknown = await control('POST', '/inject', { system_id: SYSTEM_ID, from: HANDSET, to: OUR_NUMBER, text: 'x', extra: 1 });
  assert.equal(unknown.status, 400, unknown.text);
  const missing = await control('POST', '/inject', { system_id: SYSTEM_ID, from: HANDSET, to: OUR_NUMBER });
  assert.equal(missing.status, 422, missing.text);
});

test('injected inbound messages arrive as deliver_sm (long: UDH parts); a refused one comes again', async () => {
  assert.ok(esme, 'bound');
  const before = inbox.got.length;
  // Refuse the short one once with ESME_RSYSERR: the SMSC must offer it again.
  inbox.refuse.push({ status: ESME_RSYSERR, match: (pdu) => !isReceipt(pdu) && packageText(pdu) === INBOUND_SHORT });
  for (const text of [INBOUND_SHORT, INBOUND_LONG, INBOUND_ARABIC]) {
    const r = await control('POST', '/inject', { system_id: SYSTEM_ID, from: HANDSET, to: OUR_NUMBER, text });
    assert.equal(r.status, 202, r.text);
  }
  const mine = () => inbox.got.slice(before).filter((g) => !isReceipt(g.pdu));
  // 1 refused + 1 accepted short, 2 long parts, 1 Arabic.
  await waitFor('5 inbound deliver_sm', () => mine().length >= 5, {
    timeoutMs: 10000, describe: () => mine().map((g) => JSON.stringify(packageText(g.pdu))).join(', '),
  });
  const accepted = mine().filter((g) => g.status === ESME_ROK);
  const refused = mine().filter((g) => g.status !== ESME_ROK);
  assert.equal(refused.length, 1, 'one deliver_sm was refused');
  assert.equal(accepted.length, 4);
  for (const { pdu } of mine()) {
    assert.equal(pdu.source_addr, HANDSET);
    assert.equal(pdu.source_addr_ton, 1);
    assert.equal(pdu.source_addr_npi, 1);
    assert.equal(pdu.destination_addr, OUR_NUMBER);
    assert.equal(pdu.esm_class & 0x3c, 0, 'not a receipt');
  }
  const messages = reassemble(accepted.map((g) => g.pdu));
  const texts = messages.map((m) => m.text).sort();
  assert.deepEqual(texts, [INBOUND_SHORT, INBOUND_LONG, INBOUND_ARABIC].sort());

  const long = messages.find((m) => m.text === INBOUND_LONG);
  assert.equal(long.total, 2, 'the long message came in two parts');
  for (const pdu of long.pdus) {
    assert.equal(pdu.esm_class, 0x40, 'UDHI set');
    assert.equal(pdu.data_coding, 0);
    const raw = rawShortMessage(pdu);
    assert.deepEqual([...raw.subarray(0, 3)], [0x05, 0x00, 0x03], 'UDH: 8-bit concatenation IE');
    assert.ok(raw.length - 6 <= 153, 'at most 153 septets per part');
  }
  const arabic = messages.find((m) => m.text === INBOUND_ARABIC);
  assert.equal(arabic.pdus[0].data_coding, 0x08, 'Arabic comes as UCS-2');
  const short = messages.find((m) => m.text === INBOUND_SHORT);
  assert.equal(short.pdus[0].data_coding, 0);
  // The package's own decoding of the unconcatenated ones agrees.
  assert.equal(packageText(short.pdus[0]), INBOUND_SHORT);
  assert.equal(packageText(arabic.pdus[0]), INBOUND_ARABIC);
  assert.equal(packageText(refused[0].pdu), INBOUND_SHORT, 'the refused one was the short message');
});

test('unbind is answered and the SMSC closes the connection', async () => {
  assert.ok(esme, 'bound');
  const resp = await request(esme, 'unbind');
  expectStatus('unbind', 'unbind', resp, ESME_ROK);
  assert.equal(resp.command, 'unbind_resp');
  await closed(esme, 'after unbind_resp');
});

test('held for a receiver: an inbound message and a transmitter\'s receipt reach a later bind_receiver', async () => {
  // Nobody of this system_id is bound now: the simulator keeps what it has.
  const r = await control('POST', '/inject', { system_id: SYSTEM_ID, from: HANDSET, to: OUR_NUMBER, text: 'while you were away' });
  assert.equal(r.status, 202, r.text);

  const tx = await open('transmitter');
  const txInbox = receiveOn(tx, 'transmitter');
  expectStatus('bind_transmitter', 'bind_transmitter', await bind(tx, 'bind_transmitter'), ESME_ROK);
  const sub = await request(tx, 'submit_sm', {
    source_addr_ton: 5, source_addr_npi: 0, source_addr: SOURCE, dest_addr_ton: 1, dest_addr_npi: 1,
    destination_addr: '31612345005', registered_delivery: 1, data_coding: 0, short_message: 'via transmitter',
  });
  expectStatus('submit_sm on the transmitter', 'submit_sm', sub, ESME_ROK);
  const st = await stats();
  assert.ok(st.queued >= 1, `the simulator holds what it cannot deliver yet: ${JSON.stringify(st)}`);

  const rx = await open('receiver');
  const rxInbox = receiveOn(rx, 'receiver');
  const rb = await bind(rx, 'bind_receiver');
  expectStatus('bind_receiver', 'bind_receiver', rb, ESME_ROK);
  assert.equal(rb.command, 'bind_receiver_resp');
  await waitFor('the held inbound message and the receipt at the receiver', () =>
    rxInbox.got.some((g) => !isReceipt(g.pdu)) && rxInbox.got.some((g) => isReceipt(g.pdu) && g.pdu.receipted_message_id === sub.message_id),
  { timeoutMs: 10000, describe: () => rxInbox.got.map((g) => g.raw.toString('latin1')).join(' | ') });
  const inbound = rxInbox.got.find((g) => !isReceipt(g.pdu));
  assert.equal(decodeBody(inbound.pdu).text, 'while you were away');
  assert.equal(txInbox.got.length, 0, 'nothing is delivered to a transmitter');

  for (const s of [tx, rx]) {
    expectStatus('unbind', 'unbind', await request(s, 'unbind'), ESME_ROK);
    await closed(s, 'after unbind_resp');
  }
});

test('error responses are the request\'s own *_resp PDU, not generic_nack', () => {
  assert.ok(responses.length >= 15, 'the tests above ran');
  const wrong = wrongResponseTypes().map((r) => `${r.what}: ${r.request} answered with ${r.command} ${errorName(r.status)}`);
  if (wrong.length) assert.fail(`${wrong.length} of ${responses.length} responses were not the request's own *_resp:\n  ${wrong.join('\n  ')}`);
});

test('no socket errors or unbinds from the SMSC; stats add up', async () => {
  assert.deepEqual(problems, []);
  const st = await stats();
  assert.equal(st.binds, 3, `three accepted binds: ${JSON.stringify(st)}`);
  assert.equal(st.injected, 4, `four injected messages: ${JSON.stringify(st)}`);
  assert.equal(st.queued, 0, `nothing left queued: ${JSON.stringify(st)}`);
  assert.equal(st.throttled, 0);
  assert.equal(st.drops, 0);
});
