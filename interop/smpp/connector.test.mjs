// Interop test A: the npm `smpp` package (0.5.1, unmodified) plays the SMSC;
// omnigate's SMPP carrier connector is the ESME, driven through omnigate's
// MessageBird-compatible REST API.
//
// The handshake with run.sh (this file listens first, so that omnigate's
// connectors find the SMSC up when the server starts):
//   1. this file listens on free loopback ports (the SMSC and an HTTP server
//      for inbound forwards and status reports) and writes them as JSON to
//      READY_FILE;
//   2. run.sh configures the connectors, route and inbound URL with the CLI,
//      starts `omnigate serve` and writes its base URL to URL_FILE;
//   3. at the end this file writes STOP_FILE; run.sh stops the server with
//      SIGTERM and this file checks that omnigate unbound first.
// Other settings: OMNIGATE_KEY, OMNIGATE_SIGNING_KEY, OMNIGATE_NUMBER (the
// account's inbound number), SMPP_SYSTEM_ID, SMPP_PASSWORD (the good
// connector's) and SMPP_WRONG_PASSWORD (a second connector's).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import {
  smpp, smppPackage, env, gsmEncode, gsmDecode, gsmSplit, ucs2Decode, parseUDH, concatUDH,
  rawShortMessage, packageText, errorName, request, closed, waitFor, writeFileAtomic,
  readFileWhenThere, api, verifySignatureJWT, expectStatus, responses, wrongResponseTypes,
} from './lib.mjs';

const KEY = env('OMNIGATE_KEY');
const SIGNING_KEY = env('OMNIGATE_SIGNING_KEY');
const OUR_NUMBER = env('OMNIGATE_NUMBER');
const SYSTEM_ID = env('SMPP_SYSTEM_ID');
const PASSWORD = env('SMPP_PASSWORD');
const WRONG_PASSWORD = env('SMPP_WRONG_PASSWORD');
const READY_FILE = env('READY_FILE');
const URL_FILE = env('URL_FILE');
const STOP_FILE = env('STOP_FILE');

const E = smpp.errors;
const HANDSET = '31612345678';
const UNOWNED = '3197099999999';

let API; // omnigate's base URL, from URL_FILE
const call = (method, path, body) => api(API, KEY, method, path, body);

// ---------------------------------------------------------------------------
// The SMSC, played by smpp.createServer.

const peers = []; // one per TCP connection omnigate opened
let nextId = 0x3a7f0010;

// Message ids in hexadecimal, upper case, with a leading zero (0 3A7F0010,
// with letters, so hex and decimal differ): omnigate must find them again
// when receipts write them in lower case, without the zero, or in decimal.
const newMessageId = () => '0' + (nextId++).toString(16).toUpperCase();

function trackPeer(session) {
  const peer = {
    n: peers.length + 1, session, binds: [], submits: [], commands: [], problems: [],
    bound: false, unbinds: 0,
  };
  peers.push(peer);
  session.on('error', (e) => peer.problems.push(`socket error: ${e.message}`));
  session.on('pdu', (pdu) => peer.commands.push(pdu.command));
  const onBind = (pdu) => {
    let status = E.ESME_ROK;
    if (peer.bound) status = E.ESME_RALYBND;
    else if (pdu.system_id !== SYSTEM_ID) status = E.ESME_RINVSYSID;
    else if (pdu.password !== PASSWORD) status = E.ESME_RINVPASWD;
    peer.binds.push({ command: pdu.command, system_id: pdu.system_id, password: pdu.password, interface_version: pdu.interface_version, status });
    if (status === E.ESME_ROK) peer.bound = pdu.command;
    session.send(pdu.response({ command_status: status, system_id: 'NodeSMSC' }));
  };
  for (const c of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) session.on(c, onBind);
  session.on('submit_sm', (pdu) => {
    if (!peer.bound) {
      session.send(pdu.response({ command_status: E.ESME_RINVBNDSTS }));
      return;
    }
    const id = newMessageId();
    peer.submits.push({ pdu, raw: rawShortMessage(pdu), id });
    session.send(pdu.response({ message_id: id }));
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    peer.unbinds++;
    session.send(pdu.response(), () => session.close());
  });
  for (const c of ['data_sm', 'query_sm', 'cancel_sm', 'replace_sm', 'submit_multi', 'unknown']) {
    session.on(c, (pdu) => {
      peer.problems.push(`unexpected ${pdu.command}`);
      session.send(pdu.response({ command_status: E.ESME_RINVCMDID }));
    });
  }
}

const smsc = smpp.createServer(trackPeer);
const accepted = () => peers.filter((p) => p.bound);
const allSubmits = () => peers.flatMap((p) => p.submits);

// deliver sends a deliver_sm and checks omnigate's answer (recorded in
// `responses`, checked once more at the end).
async function deliver(peer, what, params, want = E.ESME_ROK) {
  const resp = await request(peer.session, 'deliver_sm', params, 10000);
  expectStatus(what, 'deliver_sm', resp, want);
  return resp;
}

// ---------------------------------------------------------------------------
// The HTTP server omnigate forwards inbound messages and status reports to.

const hooks = []; // { path, query, url, headers }
let hookBase;
const hookServer = http.createServer((req, res) => {
  const url = new URL(req.url, hookBase);
  hooks.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), url: hookBase + req.url, headers: req.headers });
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('OK');
  });
});

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

before(async () => {
  const smscPort = await listen(smsc);
  const hookPort = await listen(hookServer);
  hookBase = `http://127.0.0.1:${hookPort}`;
  await writeFileAtomic(READY_FILE, JSON.stringify({ smsc_port: smscPort, hook_port: hookPort }) + '\n');
  API = new URL(await readFileWhenThere(URL_FILE, 'run.sh to start omnigate (URL_FILE)', 60000));
  assert.equal(API.protocol, 'http:');
  assert.equal(API.hostname, '127.0.0.1', 'omnigate must be on loopback');
});

after(async () => {
  for (const p of peers) p.session.destroy();
  hookServer.closeAllConnections();
  await Promise.all([
    new Promise((resolve) => smsc.close(resolve)),
    new Promise((resolve) => hookServer.close(resolve)),
  ]);
});

// ---------------------------------------------------------------------------

test('the SMSC is the npm smpp package 0.5.1', () => {
  assert.equal(smppPackage.version, '0.5.1');
  assert.equal(typeof smpp.createServer, 'function');
});

test('omnigate binds as a transceiver with the right credentials; the wrong password is refused', async () => {
  const good = await waitFor('an accepted bind from omnigate', () => accepted()[0], {
    describe: () => JSON.stringify(peers.map((p) => p.binds)),
  });
  assert.equal(good.bound, 'bind_transceiver', 'the default bind mode is transceiver');
  const bind = good.binds[0];
  assert.equal(bind.system_id, SYSTEM_ID);
  assert.equal(bind.interface_version, 0x34, 'SMPP 3.4');

  // The second connector has the wrong password: refused with
  // ESME_RINVPASWD, then omnigate drops that connection (it may retry
  // later with backoff; every retry is refused the same way).
  const refused = await waitFor('a bind refused with ESME_RINVPASWD', () =>
    peers.find((p) => p.binds.some((b) => b.status === E.ESME_RINVPASWD)), {
    describe: () => JSON.stringify(peers.map((p) => p.binds)),
  });
  assert.equal(refused.binds[0].password, WRONG_PASSWORD);
  assert.equal(refused.binds.length, 1, 'one bind per connection');
  await closed(refused.session, 'omnigate after its refused bind');
  assert.ok(!refused.bound);
  assert.equal(refused.submits.length, 0);

  // The SMSC may ask too: omnigate answers an enquire_link.
  const el = await request(good.session, 'enquire_link');
  expectStatus('enquire_link from the SMSC', 'enquire_link', el, E.ESME_ROK);
  assert.equal(el.command, 'enquire_link_resp');
});

// ---------------------------------------------------------------------------
// Mobile-terminated messages through the REST API.

const SHORT = 'Hi from omnigate @ £ € {ok}';
const LONG = 'Omnigate SMPP interop: price 5€ or £4, mail ops@example.org; all good? '.repeat(8).slice(0, 400);
const ARABIC = 'مرحبا بكم في أومنيجيت. هذه رسالة عربية طويلة بما يكفي لتحتاج إلى جزأين عند إرسالها عبر بروتوكول SMPP.';

// Part boundaries: a € (escape + septet) on septets 153-154, and an emoji
// (a UTF-16 surrogate pair) on UCS-2 units 67-68. Neither may be cut in two.
const EDGE_GSM = 'x'.repeat(152) + '€' + ' euro at the boundary';
const EDGE_UCS2 = 'y'.repeat(66) + '😀' + ' emoji at the boundary';

// recipient -> what the SMSC must see for it
const plan = {
  31612345001: { message: 'short', body: SHORT, originator: 'Omnigate', ton: 5, npi: 0, coding: 0 },
  31612345002: { message: 'short', body: SHORT, originator: 'Omnigate', ton: 5, npi: 0, coding: 0 },
  31612345003: { message: 'long', body: LONG, originator: OUR_NUMBER, ton: 1, npi: 1, coding: 0 },
  31612345004: { message: 'arabic', body: ARABIC, originator: 'Omnigate', ton: 5, npi: 0, coding: 8 },
  31612345005: { message: 'edgeGSM', body: EDGE_GSM, originator: 'Omnigate', ton: 5, npi: 0, coding: 0 },
  31612345006: { message: 'edgeUCS2', body: EDGE_UCS2, originator: 'Omnigate', ton: 5, npi: 0, coding: 8 },
};
let expectedSubmits = 0; // parts of all recipients, from the API's messagePartCount
const sent = {}; // message name -> API message object

test('messages sent through the REST API: short GSM, long GSM with @ and €, long Arabic, two part-boundary cases', async () => {
  assert.equal(LONG.length, 400);
  assert.ok(LONG.includes('@') && LONG.includes('€') && LONG.includes('£'));
  assert.ok(ARABIC.length > 70, `Arabic body of ${ARABIC.length} characters`);
  const reportUrl = `${hookBase}/report`;
  const create = async (name, body) => {
    const r = await call('POST', '/messages', body);
    assert.equal(r.status, 201, `POST /messages (${name}): ${r.text}`);
    sent[name] = r.json;
    return r.json;
  };
  const short = await create('short', { originator: 'Omnigate', recipients: ['31612345001', '+31612345002'], body: SHORT, reportUrl });
  assert.equal(short.datacoding, 'plain');
  const long = await create('long', { originator: OUR_NUMBER, recipients: ['31612345003'], body: LONG, reportUrl });
  assert.equal(long.datacoding, 'plain');
  assert.equal(long.recipients.items[0].messagePartCount, 3, '400 characters with € take 3 parts of 153 septets');
  const arabic = await create('arabic', { originator: 'Omnigate', recipients: ['31612345004'], body: ARABIC, reportUrl });
  assert.equal(arabic.datacoding, 'unicode');
  assert.equal(arabic.recipients.items[0].messagePartCount, 2);
  const edgeGSM = await create('edgeGSM', { originator: 'Omnigate', recipients: ['31612345005'], body: EDGE_GSM });
  assert.equal(edgeGSM.datacoding, 'plain');
  assert.equal(edgeGSM.recipients.items[0].messagePartCount, 2);
  const edgeUCS2 = await create('edgeUCS2', { originator: 'Omnigate', recipients: ['31612345006'], body: EDGE_UCS2 });
  assert.equal(edgeUCS2.datacoding, 'unicode');
  assert.equal(edgeUCS2.recipients.items[0].messagePartCount, 2);
  expectedSubmits = Object.values(plan).reduce((n, p) => n + partCount(p.message), 0);
});

// submitsFor: the submit_sm the SMSC got for a recipient, in arrival order.
const submitsFor = (recipient) => allSubmits().filter((s) => s.pdu.destination_addr === String(recipient));

function partCount(name) {
  return sent[name].recipients.items[0].messagePartCount;
}

test('the SMSC got every part, encoded as specified, and reassembles the text', async () => {
  assert.ok(expectedSubmits > 0, 'the send test ran');
  const expected = Object.entries(plan).map(([r, p]) => [r, partCount(p.message)]);
  const total = expectedSubmits;
  await waitFor(`${total} submit_sm`, () => allSubmits().length >= total, {
    describe: () => allSubmits().map((s) => s.pdu.destination_addr).join(' '),
  });
  const good = accepted()[0];
  assert.equal(good.submits.length, allSubmits().length, 'every submit came over the accepted bind');

  const refs = new Map(); // ref -> recipient
  for (const [recipient, count] of expected) {
    const p = plan[recipient];
    const subs = submitsFor(recipient);
    assert.equal(subs.length, count, `${count} submit_sm for ${recipient}`);
    const parts = [];
    for (const { pdu, raw } of subs) {
      assert.equal(pdu.source_addr, p.originator);
      assert.equal(pdu.source_addr_ton, p.ton, `source TON for ${p.originator}`);
      assert.equal(pdu.source_addr_npi, p.npi, `source NPI for ${p.originator}`);
      assert.equal(pdu.dest_addr_ton, 1, 'destination TON international');
      assert.equal(pdu.dest_addr_npi, 1, 'destination NPI ISDN');
      assert.equal(pdu.registered_delivery, 1, 'a final receipt is asked for');
      assert.equal(pdu.data_coding, p.coding, `data_coding for ${p.message}`);
      assert.equal(pdu.service_type, '');
      if (count === 1) {
        assert.equal(pdu.esm_class, 0x00, 'no UDHI on a single part');
        parts.push({ seq: 1, body: raw });
        continue;
      }
      assert.equal(pdu.esm_class, 0x40, 'UDHI set, default message mode');
      const udh = parseUDH(raw);
      assert.deepEqual([...udh.header], [0x05, 0x00, 0x03, udh.concat?.ref, count, udh.concat?.seq], 'UDH 05 00 03 ref total seq');
      parts.push({ seq: udh.concat.seq, ref: udh.concat.ref, body: udh.text, pdu });
    }
    parts.sort((a, b) => a.seq - b.seq);
    assert.deepEqual(parts.map((x) => x.seq), Array.from({ length: count }, (_, i) => i + 1), 'sequence numbers 1..total');
    if (count > 1) {
      assert.equal(new Set(parts.map((x) => x.ref)).size, 1, 'one reference for all parts');
      assert.ok(!refs.has(parts[0].ref), `reference ${parts[0].ref} is not reused by another message`);
      refs.set(parts[0].ref, recipient);
    }
    let text = '';
    for (const part of parts) {
      if (p.coding === 0) {
        assert.ok(part.body.length <= (count > 1 ? 153 : 160), `${part.body.length} septets fit a part`);
        text += gsmDecode(part.body); // throws on octets > 0x7F (packed text) or a split escape
      } else {
        assert.ok(part.body.length <= (count > 1 ? 134 : 140), `${part.body.length} octets fit a part`);
        const t = ucs2Decode(part.body);
        assert.ok(t.isWellFormed(), `part ${part.seq} for ${recipient} is well-formed UTF-16 (no surrogate pair cut in two)`);
        text += t;
      }
    }
    assert.equal(text, p.body, `the text for ${recipient} survives the trip`);
    // The package's own decoding agrees.
    const theirs = subs.map((s) => ({ seq: s.pdu.esm_class & 0x40 ? parseUDH(s.raw).concat.seq : 1, text: packageText(s.pdu) }))
      .sort((a, b) => a.seq - b.seq).map((x) => x.text).join('');
    assert.equal(theirs, p.body, 'the smpp package decodes the same text');
  }
  // GSM text is unpacked: one septet per octet, as sent.
  assert.deepEqual(submitsFor(31612345001)[0].raw, gsmEncode(SHORT));
  // The boundary cases sat on the boundary: their first parts are one unit
  // short, the € and the emoji moved whole to part 2.
  const firstPart = (r) => submitsFor(r).map((x) => parseUDH(x.raw)).find((u) => u.concat.seq === 1).text;
  assert.equal(firstPart(31612345005).length, 152, '152 septets, then the € in part 2');
  assert.equal(firstPart(31612345006).length, 66 * 2, '66 UCS-2 units, then the emoji in part 2');
});

// ---------------------------------------------------------------------------
// Delivery receipts from the SMSC.

const pad = (n, w = 2) => String(n).padStart(w, '0');
const smppDate = (d) => `${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
const MINUTE = 60000;
const doneAt = new Date(Math.floor(Date.now() / MINUTE) * MINUTE); // receipts carry minutes

function receiptText({ id, stat, err = 0, dlvrd = stat === 'DELIVRD' ? 1 : 0, body }) {
  const snippet = body.slice(0, 20).replace(/[^ -~]/g, '?');
  return `id:${id} sub:001 dlvrd:${pad(dlvrd, 3)} submit date:${smppDate(doneAt)} done date:${smppDate(doneAt)} stat:${stat} err:${pad(err, 3)} text:${snippet}`;
}

// receipt builds a receipt deliver_sm for one submit, in one of the forms
// carriers use.
function receipt(sub, { form, stat = 'DELIVRD', state = smpp.MESSAGE_STATE.DELIVERED, err = 0 }) {
  const { pdu, id } = sub;
  const params = {
    source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi, source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi, destination_addr: pdu.source_addr,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT, data_coding: 0,
  };
  const body = plan[pdu.destination_addr].body;
  switch (form) {
    case 'text': // id exactly as submit_sm_resp gave it, text only
      params.short_message = Buffer.from(receiptText({ id, stat, err, body }), 'latin1');
      break;
    case 'text-decimal': // the same id written in decimal, text only
      params.short_message = Buffer.from(receiptText({ id: BigInt('0x' + id).toString(10), stat, err, body }), 'latin1');
      break;
    case 'tlv': // TLVs only (lower case id), empty short_message
      params.short_message = Buffer.alloc(0);
      params.receipted_message_id = id.toLowerCase();
      params.message_state = state;
      break;
    case 'text+tlv': // both; the TLV id without the leading zero
      params.short_message = Buffer.from(receiptText({ id, stat, err, body }), 'latin1');
      params.receipted_message_id = id.replace(/^0+/, '');
      params.message_state = state;
      break;
    default:
      throw new Error(`unknown receipt form ${form}`);
  }
  return params;
}

async function recipientItem(name, recipient) {
  const r = await call('GET', `/messages/${sent[name].id}`);
  assert.equal(r.status, 200, r.text);
  return r.json.recipients.items.find((i) => i.recipient === Number(recipient));
}

async function waitStatus(name, recipient, status) {
  let last;
  await waitFor(`${recipient} (${name}) to be ${status}`, async () => {
    last = await recipientItem(name, recipient);
    return last && last.status === status;
  }, { timeoutMs: 10000, describe: () => JSON.stringify(last) });
  return last;
}

let receiptsDone = false;

test('receipts in several forms move each recipient to delivered or delivery_failed', async () => {
  const good = accepted()[0];
  assert.ok(good && expectedSubmits > 0 && allSubmits().length === expectedSubmits, 'the submit test ran');
  const ok = (what, params) => deliver(good, what, params);

  // 31612345001: DELIVRD in the text only, the id as given.
  const [r1] = submitsFor(31612345001);
  await ok('receipt r1 text', receipt(r1, { form: 'text' }));
  const item1 = await waitStatus('short', 31612345001, 'delivered');
  assert.equal(item1.statusErrorCode, null);
  // The done date is the SMSC's, to the minute: omnigate takes it when it
  // is plausible (not before the recipient's previous status, not in the
  // future), else the receipt's arrival time; a status time never goes
  // back before the message's creation.
  const created = Date.parse(sent.short.createdDatetime);
  const at = Date.parse(item1.statusDatetime);
  assert.ok(at >= Math.floor(created / 1000) * 1000, `statusDatetime ${item1.statusDatetime} is not before createdDatetime ${sent.short.createdDatetime}`);
  if (doneAt.getTime() >= created) {
    assert.equal(at, doneAt.getTime(), `statusDatetime ${item1.statusDatetime} is the receipt's done date ${doneAt.toISOString()}`);
  } else {
    assert.ok(at <= Date.now(), `statusDatetime ${item1.statusDatetime} is the receipt's arrival, not later than now`);
  }

  // 31612345002: UNDELIV with err:034, text and TLVs.
  const [r2] = submitsFor(31612345002);
  await ok('receipt r2 undeliverable', receipt(r2, { form: 'text+tlv', stat: 'UNDELIV', state: smpp.MESSAGE_STATE.UNDELIVERABLE, err: 34 }));
  const item2 = await waitStatus('short', 31612345002, 'delivery_failed');
  assert.equal(item2.statusErrorCode, 34, 'statusErrorCode is the receipt\'s err:');

  // 31612345003, three parts: decimal id in text; TLVs only; then, once the
  // recipient shows buffered, text and TLVs for the last part.
  const r3 = submitsFor(31612345003).sort((a, b) => parseUDH(a.raw).concat.seq - parseUDH(b.raw).concat.seq);
  await ok('receipt r3 part 1 decimal id', receipt(r3[0], { form: 'text-decimal' }));
  await ok('receipt r3 part 2 TLVs only', receipt(r3[1], { form: 'tlv' }));
  await waitStatus('long', 31612345003, 'buffered');
  await ok('receipt r3 part 3', receipt(r3[2], { form: 'text+tlv' }));
  const item3 = await waitStatus('long', 31612345003, 'delivered');
  assert.equal(item3.messagePartCount, 3);

  // 31612345004, two parts: ENROUTE for part 1 (buffered), then DELIVRD
  // for both.
  const r4 = submitsFor(31612345004).sort((a, b) => parseUDH(a.raw).concat.seq - parseUDH(b.raw).concat.seq);
  await ok('receipt r4 part 1 enroute', receipt(r4[0], { form: 'text+tlv', stat: 'ENROUTE', state: smpp.MESSAGE_STATE.ENROUTE }));
  await waitStatus('arabic', 31612345004, 'buffered');
  await ok('receipt r4 part 1', receipt(r4[0], { form: 'tlv' }));
  await ok('receipt r4 part 2', receipt(r4[1], { form: 'text' }));
  await waitStatus('arabic', 31612345004, 'delivered');

  // The boundary messages: plain DELIVRD text receipts.
  for (const [name, recipient] of [['edgeGSM', 31612345005], ['edgeUCS2', 31612345006]]) {
    for (const [i, sub] of submitsFor(recipient).entries()) await ok(`receipt ${name} part ${i + 1}`, receipt(sub, { form: 'text' }));
    await waitStatus(name, recipient, 'delivered');
  }

  // The message objects agree.
  const short = (await call('GET', `/messages/${sent.short.id}`)).json;
  assert.equal(short.recipients.totalDeliveredCount, 1);
  assert.equal(short.recipients.totalDeliveryFailedCount, 1);
  receiptsDone = true;
});

test('status reports for the SMPP receipts reach the reportUrl, signed', async () => {
  assert.ok(receiptsDone, 'the receipts test passed');
  const final = (name, recipient) => hooks.find((h) => h.path === '/report' && h.query.id === sent[name].id
    && h.query.recipient === String(recipient) && ['delivered', 'delivery_failed'].includes(h.query.status));
  await waitFor('final status reports for all four recipients', () =>
    final('short', 31612345001) && final('short', 31612345002) && final('long', 31612345003) && final('arabic', 31612345004), {
    timeoutMs: 10000, describe: () => JSON.stringify(hooks.filter((h) => h.path === '/report').map((h) => h.query)),
  });
  assert.equal(final('short', 31612345001).query.status, 'delivered');
  const failed = final('short', 31612345002);
  assert.equal(failed.query.status, 'delivery_failed');
  assert.equal(failed.query.statusErrorCode, '34');
  assert.equal(final('long', 31612345003).query.messagePartCount, '3');
  for (const h of hooks.filter((x) => x.path === '/report')) {
    assert.equal(h.method, 'GET');
    verifySignatureJWT(h.headers['messagebird-signature-jwt'], SIGNING_KEY, h.url);
  }
});

// ---------------------------------------------------------------------------
// Mobile-originated messages from the SMSC.

const IN_SHORT = 'STOP @ £ € {x}';
const IN_LONG = 'A reply from a handset that is long enough to need two parts: @ home, 5€ each, '.repeat(3).trim();
const IN_ARABIC = 'شكرا، تم استلام رسالتكم';
const IN_SAR = 'Concatenated with SAR TLVs instead of a UDH, part one then part two. '.repeat(3).trim();

function inbound(to, extra) {
  return {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: HANDSET,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: to,
    esm_class: 0, ...extra,
  };
}

test('inbound messages (short, UDH parts in reverse order, UCS-2, SAR parts) are stored and forwarded; an unowned number is refused', async () => {
  const good = accepted()[0];
  assert.ok(good, 'bound');
  const okIn = (what, params) => deliver(good, what, params);
  // The package encodes text strings itself: GSM 03.38 for data_coding 0,
  // UTF-16BE for 8, and prepends the UDH (setting UDHI) when given one.
  await okIn('inbound short', inbound(OUR_NUMBER, { data_coding: 0, short_message: IN_SHORT }));

  const long = gsmSplit(IN_LONG, 153);
  assert.equal(long.length, 2, 'IN_LONG takes two parts');
  await okIn('inbound long part 2', inbound(OUR_NUMBER, { data_coding: 0, short_message: { udh: concatUDH(0x21, 2, 2), message: long[1] } }));
  await okIn('inbound long part 1', inbound(OUR_NUMBER, { data_coding: 0, short_message: { udh: concatUDH(0x21, 2, 1), message: long[0] } }));

  await okIn('inbound arabic', inbound(OUR_NUMBER, { data_coding: 8, short_message: IN_ARABIC }));

  const sar = gsmSplit(IN_SAR, 153);
  assert.equal(sar.length, 2, 'IN_SAR takes two parts');
  for (let i = 0; i < 2; i++) {
    await okIn(`inbound SAR part ${i + 1}`, inbound(OUR_NUMBER, {
      data_coding: 0, short_message: sar[i], sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: i + 1,
    }));
  }

  await deliver(good, 'inbound to an unowned number', inbound(UNOWNED, { data_coding: 0, short_message: 'anyone there?' }), E.ESME_RINVDSTADR);

  // omnigate answers deliver_sm only once it has stored the message, so
  // the list shows them at once, without polling.
  const bodies = [IN_SHORT, IN_LONG, IN_ARABIC, IN_SAR];
  const r = await call('GET', '/messages?direction=mo&limit=50');
  assert.equal(r.status, 200, r.text);
  const listed = r.json;
  assert.equal(listed.totalCount, 4, `the four inbound messages are listed (not the refused one): ${r.text}`);
  const byBody = new Map(listed.items.map((m) => [m.body, m]));
  for (const body of bodies) {
    const m = byBody.get(body);
    assert.ok(m, `inbound ${JSON.stringify(body)} is listed; got ${JSON.stringify([...byBody.keys()])}`);
    assert.equal(m.direction, 'mo');
    assert.equal(m.originator, HANDSET);
    assert.equal(m.recipients.items.length, 1);
    assert.equal(m.recipients.items[0].recipient, Number(OUR_NUMBER));
  }

  await waitFor('four inbound forwards to the inbound URL', () => hooks.filter((h) => h.path === '/in').length >= 4, {
    timeoutMs: 10000, describe: () => JSON.stringify(hooks.filter((h) => h.path === '/in').map((h) => h.query)),
  });
  const forwards = hooks.filter((h) => h.path === '/in');
  assert.equal(forwards.length, 4);
  for (const body of bodies) {
    const f = forwards.find((h) => h.query.body === body);
    assert.ok(f, `forward of ${JSON.stringify(body)}`);
    assert.equal(f.method, 'GET');
    assert.equal(f.query.originator, HANDSET);
    assert.equal(f.query.recipient, OUR_NUMBER);
    assert.equal(f.query.id, byBody.get(body).id, 'the forward carries the listed id');
    assert.ok(!Number.isNaN(Date.parse(f.query.createdDatetime)), `createdDatetime ${f.query.createdDatetime}`);
    verifySignatureJWT(f.headers['messagebird-signature-jwt'], SIGNING_KEY, f.url);
  }
});

test('every deliver_sm was answered: ESME_ROK, except ESME_RINVDSTADR for the unowned number', () => {
  const answers = responses.filter((r) => r.request === 'deliver_sm');
  assert.equal(answers.length, 19, 'twelve receipts and seven inbound deliver_sm (each checked as it was answered)');
  for (const r of answers) {
    const want = r.what === 'inbound to an unowned number' ? E.ESME_RINVDSTADR : E.ESME_ROK;
    assert.equal(r.status, want, `${r.what}: ${errorName(r.status)}`);
  }
});

test('omnigate answers deliver_sm with deliver_sm_resp, not generic_nack', () => {
  assert.ok(responses.length >= 19, 'the tests above ran');
  const wrong = wrongResponseTypes().map((r) => `${r.what}: ${r.request} answered with ${r.command} ${errorName(r.status)}`);
  if (wrong.length) assert.fail(`${wrong.length} of ${responses.length} responses were not the request's own *_resp:\n  ${wrong.join('\n  ')}`);
});

// ---------------------------------------------------------------------------

test('omnigate unbinds when it stops; one bind, no duplicate submits, no protocol errors', async () => {
  const good = accepted();
  assert.equal(good.length, 1, 'one accepted bind for the whole run (no reconnects)');
  assert.equal(allSubmits().length, expectedSubmits, `no submit_sm beyond the ${expectedSubmits} parts`);
  await writeFileAtomic(STOP_FILE, 'stop\n');
  await waitFor('omnigate to unbind after SIGTERM', () => good[0].unbinds > 0, { timeoutMs: 20000 });
  await closed(good[0].session, 'omnigate after unbind', 10000);
  for (const p of peers) {
    assert.deepEqual(p.problems, [], `connection ${p.n}: ${p.commands.join(' ')}`);
    for (const b of p.binds) assert.equal(b.command, 'bind_transceiver');
  }
  assert.equal(allSubmits().length, expectedSubmits, 'no submit_sm while stopping');
});
