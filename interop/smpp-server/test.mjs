// Interop test: the npm `smpp` package (0.5.1, unmodified) as a customer's
// ESME bound to omnigate's SMPP server (`serve --smpp-listen`).
//
// run.sh starts `omnigate serve --demo --smpp-listen …`, issues the demo
// account's credentials with `omnigate smpp credentials` and sets:
//   SMPP_ADDR        host:port of the SMPP server
//   SMPP_SYSTEM_ID   the account's system_id
//   SMPP_PASSWORD    its password
//   OMNIGATE_URL     the API's base URL, OMNIGATE_KEY the account's live key
//   OMNIGATE_FROM    an originator the demo account may send from
//   SMSC_CONTROL     the SMSC simulator's control URL (POST /inject: an MO)
//   MO_NUMBER        a number of the demo account

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const smpp = require('smpp');
assert.equal(require('smpp/package.json').version, '0.5.1');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/smpp-server/run.sh`);
  return v;
}

const [HOST, PORT] = (() => {
  const [h, p] = env('SMPP_ADDR').split(':');
  return [h, Number(p)];
})();
assert.ok(['127.0.0.1', 'localhost'].includes(HOST), `${HOST} must be loopback`);
const SYSTEM_ID = env('SMPP_SYSTEM_ID');
const PASSWORD = env('SMPP_PASSWORD');
const API = env('OMNIGATE_URL');
const KEY = env('OMNIGATE_KEY');
const FROM = env('OMNIGATE_FROM');
const HANDSET = '31612345678';
const SMSC_CONTROL = env('SMSC_CONTROL');
const MO_NUMBER = env('MO_NUMBER');

const E = smpp.errors;
function errorName(status) {
  for (const [name, v] of Object.entries(E)) if (v === status) return name;
  return `0x${status.toString(16)}`;
}

// request sends a request PDU and resolves with its response PDU.
function request(session, command, params = {}, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no response to ${command} within ${timeoutMs} ms`)), timeoutMs);
    const sent = session[command](params, (resp) => { clearTimeout(timer); resolve(resp); });
    if (!sent) {
      clearTimeout(timer);
      reject(new Error(`${command}: the connection is not writable`));
    }
  });
}

function expectStatus(what, command, resp, want) {
  assert.equal(resp.command, `${command}_resp`, `${what}: ${command} answered with ${resp.command}`);
  assert.equal(resp.command_status, want,
    `${what}: ${command} answered ${errorName(resp.command_status)}, want ${errorName(want)}`);
}

const opened = [];
function connect(timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: HOST, port: PORT });
    opened.push(session);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`no connection within ${timeoutMs} ms`)); }, timeoutMs);
    session.once('connect', () => { clearTimeout(timer); resolve(session); });
    session.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
after(() => { for (const s of opened) s.destroy(); });

function closed(session, timeoutMs = 5000) {
  if (session.socket.destroyed || session.socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the connection was still open after ${timeoutMs} ms`)), timeoutMs);
    session.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

async function waitFor(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

async function api(path) {
  const res = await fetch(new URL(path, API), {
    headers: { Authorization: `AccessKey ${KEY}` },
    signal: AbortSignal.timeout(10000),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function bindParams(password = PASSWORD) {
  return { system_id: SYSTEM_ID, password, interface_version: 0x34, system_type: '' };
}

test('a wrong password is refused with ESME_RINVPASWD', async () => {
  const s = await connect();
  const resp = await request(s, 'bind_transceiver', bindParams('wrong123'));
  expectStatus('wrong password', 'bind_transceiver', resp, E.ESME_RINVPASWD);
  s.destroy();
});

test('a transceiver submits, queries, cancels, gets receipts and unbinds', async (t) => {
  const s = await connect();
  const deliveries = [];
  s.on('deliver_sm', (pdu) => {
    deliveries.push(pdu);
    s.send(pdu.response());
  });
  s.on('enquire_link', (pdu) => s.send(pdu.response()));

  await t.test('bind_transceiver', async () => {
    const resp = await request(s, 'bind_transceiver', bindParams());
    expectStatus('bind', 'bind_transceiver', resp, E.ESME_ROK);
  });

  let id;
  await t.test('submit_sm with registered_delivery 1 gets an id and a DELIVRD receipt', async () => {
    const resp = await request(s, 'submit_sm', {
      source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      destination_addr: HANDSET, dest_addr_ton: 1, dest_addr_npi: 1,
      registered_delivery: 1, short_message: 'Hello from the smpp package',
    });
    expectStatus('submit', 'submit_sm', resp, E.ESME_ROK);
    id = resp.message_id;
    assert.match(id, /^[0-9a-f]{32}$/, 'message id');

    const dlr = await waitFor('the deliver_sm receipt', () => deliveries.find((p) => p.receipted_message_id === id));
    assert.equal(dlr.esm_class & 0x3c, 0x04, 'esm_class: SMSC delivery receipt');
    const text = typeof dlr.short_message === 'object' && !Buffer.isBuffer(dlr.short_message)
      ? dlr.short_message.message : String(dlr.short_message);
    assert.match(text, new RegExp(`^id:${id} sub:\\d{3} dlvrd:\\d{3} submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:\\d{3} text:`), text);
    assert.equal(dlr.message_state, 2, 'message_state DELIVERED');
    assert.equal(dlr.source_addr, HANDSET);
    assert.equal(dlr.destination_addr, FROM);

    const m = await api(`/messages/${id}`);
    assert.equal(m.status, 200);
    assert.equal(m.json.body, 'Hello from the smpp package');
  });

  await t.test('query_sm on the id', async () => {
    const resp = await request(s, 'query_sm', { message_id: id, source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0 });
    expectStatus('query', 'query_sm', resp, E.ESME_ROK);
    assert.equal(resp.message_id, id);
    assert.equal(resp.message_state, 2, `message_state ${resp.message_state}, want 2 (DELIVERED)`);
    const unknown = await request(s, 'query_sm', { message_id: 'nosuchmessage', source_addr: FROM });
    expectStatus('query unknown', 'query_sm', unknown, E.ESME_RQUERYFAIL);
  });

  await t.test('a scheduled submit_sm is cancelled with cancel_sm', async () => {
    const at = new Date(Date.now() + 3600 * 1000);
    const resp = await request(s, 'submit_sm', {
      source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      destination_addr: HANDSET, dest_addr_ton: 1, dest_addr_npi: 1,
      schedule_delivery_time: at, short_message: 'Later, maybe',
    });
    expectStatus('scheduled submit', 'submit_sm', resp, E.ESME_ROK);
    const sid = resp.message_id;
    const q = await request(s, 'query_sm', { message_id: sid, source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0 });
    expectStatus('query scheduled', 'query_sm', q, E.ESME_ROK);
    assert.equal(q.message_state, 1, `scheduled message_state ${q.message_state}, want 1 (ENROUTE)`);

    const c = await request(s, 'cancel_sm', {
      message_id: sid, source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      destination_addr: HANDSET, dest_addr_ton: 1, dest_addr_npi: 1,
    });
    expectStatus('cancel', 'cancel_sm', c, E.ESME_ROK);
    const again = await request(s, 'cancel_sm', { message_id: sid, source_addr: FROM, destination_addr: HANDSET });
    expectStatus('cancel again', 'cancel_sm', again, E.ESME_RCANCELFAIL);
    // The delivered message cannot be cancelled either.
    const done = await request(s, 'cancel_sm', { message_id: id, source_addr: FROM, destination_addr: HANDSET });
    expectStatus('cancel delivered', 'cancel_sm', done, E.ESME_RCANCELFAIL);
  });

  await t.test('replace_sm changes a scheduled message; unknown and sent ones are refused', async () => {
    const at = new Date(Date.now() + 3600 * 1000);
    const resp = await request(s, 'submit_sm', {
      source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      destination_addr: HANDSET, dest_addr_ton: 1, dest_addr_npi: 1,
      schedule_delivery_time: at, short_message: 'Meeting at ten',
    });
    expectStatus('scheduled submit', 'submit_sm', resp, E.ESME_ROK);
    const sid = resp.message_id;
    const r = await request(s, 'replace_sm', {
      message_id: sid, source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      registered_delivery: 1, short_message: Buffer.from('Meeting at eleven', 'ascii'),
    });
    expectStatus('replace', 'replace_sm', r, E.ESME_ROK);
    const m = await api(`/messages/${sid}`);
    assert.equal(m.status, 200);
    assert.equal(m.json.body, 'Meeting at eleven');
    assert.equal(m.json.recipients.items[0].status, 'scheduled');

    const unknown = await request(s, 'replace_sm', { message_id: 'nosuchmessage', source_addr: FROM, short_message: Buffer.from('x') });
    expectStatus('replace unknown', 'replace_sm', unknown, E.ESME_RINVMSGID);
    const sent = await request(s, 'replace_sm', { message_id: id, source_addr: FROM, short_message: Buffer.from('too late') });
    expectStatus('replace delivered', 'replace_sm', sent, E.ESME_RREPLACEFAIL);
    const c = await request(s, 'cancel_sm', { message_id: sid, source_addr: FROM, destination_addr: HANDSET });
    expectStatus('cancel the replaced message', 'cancel_sm', c, E.ESME_ROK);
  });

  await t.test('a long message in message_payload becomes one message', async () => {
    const body = 'This text is longer than one short_message can carry. '.repeat(6).trim();
    assert.ok(body.length > 254);
    const resp = await request(s, 'submit_sm', {
      source_addr: FROM, source_addr_ton: 5, source_addr_npi: 0,
      destination_addr: HANDSET, dest_addr_ton: 1, dest_addr_npi: 1,
      data_coding: 1, message_payload: Buffer.from(body, 'ascii'),
    });
    expectStatus('message_payload submit', 'submit_sm', resp, E.ESME_ROK);
    const m = await api(`/messages/${resp.message_id}`);
    assert.equal(m.status, 200);
    assert.equal(m.json.body, body);
    assert.equal(m.json.recipients.items[0].messagePartCount, Math.ceil(body.length / 153));
  });

  await t.test('a second bind on the session is refused, enquire_link answered', async () => {
    const again = await request(s, 'bind_transceiver', bindParams());
    expectStatus('second bind', 'bind_transceiver', again, E.ESME_RALYBND);
    const el = await request(s, 'enquire_link');
    expectStatus('enquire_link', 'enquire_link', el, E.ESME_ROK);
  });

  await t.test('unbind', async () => {
    const resp = await request(s, 'unbind');
    expectStatus('unbind', 'unbind', resp, E.ESME_ROK);
    s.close();
    await closed(s);
  });
});

test('an MO message injected at the SMSC arrives as deliver_sm on a receiver bind', async () => {
  const s = await connect();
  const deliveries = [];
  s.on('deliver_sm', (pdu) => {
    deliveries.push(pdu);
    s.send(pdu.response()); // deliver_sm_resp ESME_ROK: omnigate's job is done
  });
  s.on('enquire_link', (pdu) => s.send(pdu.response()));
  const resp = await request(s, 'bind_receiver', bindParams());
  expectStatus('bind', 'bind_receiver', resp, E.ESME_ROK);

  const text = `Hello from a handset ${Date.now()}`;
  const inj = await fetch(new URL('/inject', SMSC_CONTROL), {
    method: 'POST', body: JSON.stringify({ from: HANDSET, to: MO_NUMBER, text }),
    signal: AbortSignal.timeout(10000),
  });
  assert.ok(inj.ok, `POST /inject answered ${inj.status}: ${await inj.text()}`);

  const body = (p) => {
    const sm = p.message_payload ?? p.short_message;
    return typeof sm === 'object' && !Buffer.isBuffer(sm) ? String(sm.message) : String(sm);
  };
  const mo = await waitFor('the MO deliver_sm', () => deliveries.find((p) => body(p) === text));
  assert.equal(mo.esm_class & 0x3c, 0, 'esm_class: a plain message, not a receipt');
  assert.equal(mo.source_addr, HANDSET);
  assert.equal(mo.destination_addr, MO_NUMBER);
  assert.equal(mo.data_coding, 0, 'GSM 03.38');
  // Answered: it is not sent again.
  await delay(1500);
  assert.equal(deliveries.filter((p) => body(p) === text).length, 1, 'the MO was delivered more than once');

  const u = await request(s, 'unbind');
  expectStatus('unbind', 'unbind', u, E.ESME_ROK);
  s.close();
  await closed(s);
});
