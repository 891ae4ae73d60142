// Interop test: the official `twilio` Node helper library (6.x, unmodified)
// against omnigate's Twilio Messaging door, plus omnigate's status callbacks
// checked with the library's own twilio.validateRequest.
//
// run.sh starts `omnigate serve --demo` over TLS and sets:
//   OMNIGATE_URL        https://127.0.0.1:PORT
//   OMNIGATE_CA         the server's certificate (PEM), to trust
//   TWILIO_SID          the demo account's Twilio account SID (AC…)
//   TWILIO_TOKEN        its auth token
//   TWILIO_KEY_SID      an API key SID (SK…)
//   TWILIO_KEY_SECRET   its secret
//   TWILIO_NUMBER       the account's inbound number (+E.164)
//   SMSC_CONTROL        the carrier simulator's control API (POST /inject)
//   SMSC_SYSTEM_ID      the system_id omnigate binds to the simulator with
//
// How the base URL is changed: the library builds every URL on
// https://api.twilio.com (edge and region only change the host's middle
// parts, to api.<edge>.<region>.twilio.com), and hands each request to its
// HTTP client. The library's documented `httpClient` option takes a custom
// client: OmnigateClient is the library's own RequestClient with the origin
// of each URL replaced by OMNIGATE_URL — api.twilio.com's and, for
// Messaging Services, messaging.twilio.com's. Everything else — auth, headers,
// the form body, paging, errors — is the library's, unchanged.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const twilio = require('twilio');
const RequestClient = require('twilio/lib/base/RequestClient');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/twilio/run.sh`);
  return v;
}

const API = new URL(env('OMNIGATE_URL'));
const CA = readFileSync(env('OMNIGATE_CA'));
const SID = env('TWILIO_SID');
const TOKEN = env('TWILIO_TOKEN');
const KEY_SID = env('TWILIO_KEY_SID');
const KEY_SECRET = env('TWILIO_KEY_SECRET');
const NUMBER = env('TWILIO_NUMBER');
const SMSC_CONTROL = env('SMSC_CONTROL');
const SMSC_SYSTEM_ID = env('SMSC_SYSTEM_ID');
assert.equal(API.hostname, '127.0.0.1', 'OMNIGATE_URL must be on loopback');

const requests = []; // "METHOD path" of every request the library made

class OmnigateClient extends RequestClient {
  constructor() {
    super({ ca: CA, keepAlive: true });
  }
  request(opts) {
    const u = new URL(opts.uri);
    if (u.hostname !== 'api.twilio.com' && u.hostname !== 'messaging.twilio.com') {
      throw new Error(`interop harness: refusing a request to ${u.hostname}; only api.twilio.com and messaging.twilio.com go to omnigate`);
    }
    u.protocol = API.protocol;
    u.host = API.host;
    requests.push(`${opts.method.toUpperCase()} ${u.pathname}`);
    return super.request({ ...opts, uri: u.href });
  }
}

const httpClient = new OmnigateClient();
const client = twilio(SID, TOKEN, { httpClient });
const keyClient = twilio(KEY_SID, KEY_SECRET, { accountSid: SID, httpClient });

const FROM = 'omnigate'; // the demo account's approved sender

// A receiver for status callbacks: each is kept with the full URL as
// requested, its form parameters and its X-Twilio-Signature.
let receiver;
let receiverBase;
const callbacks = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      callbacks.push({
        url: receiverBase + req.url,
        method: req.method,
        type: req.headers['content-type'],
        signature: req.headers['x-twilio-signature'],
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverBase = `http://127.0.0.1:${receiver.address().port}`;
});

after(() => {
  receiver?.close();
  receiver?.closeAllConnections?.();
  httpClient.axios?.defaults?.httpsAgent?.destroy?.();
});

async function waitFor(what, f, tries = 300) {
  for (let i = 0; i < tries; i++) {
    const v = await f();
    if (v) return v;
    await delay(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function rejects(promise, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `want a RestException ${code}, got success`);
  assert.ok(err instanceof twilio.RestException, `want a RestException, got ${err}`);
  assert.equal(err.status, status, err.message);
  assert.equal(err.code, code, err.message);
  assert.equal(err.moreInfo, `https://www.twilio.com/docs/errors/${code}`);
  assert.ok(err.message.length > 0);
  return err;
}

let delivered; // a message created with a status callback

test('messages.create, then fetch until delivered; callbacks verify with validateRequest', async () => {
  const cb = `${receiverBase}/twilio/status?tenant=acme&note=a%20b`;
  const m = await client.messages.create({ to: '+31612345678', from: FROM, body: 'Hello from the twilio library', statusCallback: cb });
  assert.match(m.sid, /^SM[0-9a-f]{32}$/);
  assert.equal(m.accountSid, SID);
  assert.equal(m.to, '+31612345678');
  assert.equal(m.from, FROM);
  assert.equal(m.body, 'Hello from the twilio library');
  assert.equal(m.status, 'queued');
  assert.equal(m.direction, 'outbound-api');
  assert.equal(m.numSegments, '1');
  assert.equal(m.apiVersion, '2010-04-01');
  assert.ok(m.dateCreated instanceof Date && !isNaN(m.dateCreated), 'date_created parses as a date');
  assert.equal(m.uri, `/2010-04-01/Accounts/${SID}/Messages/${m.sid}.json`);
  assert.ok(m.subresourceUris.media);

  const got = await waitFor('delivered', async () => {
    const f = await client.messages(m.sid).fetch();
    return f.status === 'delivered' ? f : null;
  });
  assert.equal(got.sid, m.sid);
  assert.equal(got.body, m.body);
  assert.equal(got.errorCode, null);
  assert.ok(got.dateSent instanceof Date && !isNaN(got.dateSent));
  assert.match(got.price, /^-\d+\.\d+$/);
  assert.equal(got.priceUnit, 'EUR');
  delivered = got;

  const seen = await waitFor('a delivered callback', async () =>
    callbacks.find((c) => c.params.MessageSid === m.sid && c.params.MessageStatus === 'delivered'));
  const mine = callbacks.filter((c) => c.params.MessageSid === m.sid);
  for (const c of mine) {
    assert.equal(c.method, 'POST');
    assert.match(c.type, /^application\/x-www-form-urlencoded/);
    assert.equal(c.url, cb);
    assert.equal(c.params.AccountSid, SID);
    assert.equal(c.params.SmsSid, m.sid);
    assert.equal(c.params.SmsStatus, c.params.MessageStatus);
    assert.equal(c.params.To, '+31612345678');
    assert.equal(c.params.From, FROM);
    assert.ok(twilio.validateRequest(TOKEN, c.signature, c.url, c.params), `signature of ${c.params.MessageStatus} verifies`);
    assert.ok(!twilio.validateRequest('0'.repeat(32), c.signature, c.url, c.params), 'another token does not verify');
    assert.ok(!twilio.validateRequest(TOKEN, c.signature, c.url, { ...c.params, MessageStatus: 'failed' }), 'changed parameters do not verify');
  }
  assert.ok(seen);
});

test('list and each page with a small pageSize; an API key authenticates', async () => {
  const sids = [];
  for (let i = 0; i < 5; i++) {
    const m = await keyClient.messages.create({ to: '+31612345679', from: FROM, body: `page ${i}` });
    sids.push(m.sid);
  }
  const before = requests.length;
  const list = await keyClient.messages.list({ to: '+31612345679', pageSize: 2 });
  assert.equal(list.length, 5);
  assert.deepEqual(new Set(list.map((m) => m.sid)), new Set(sids));
  assert.ok(requests.length - before >= 3, `5 messages in pages of 2 take 3 requests, took ${requests.length - before}`);

  const seen = [];
  await new Promise((resolve, reject) => {
    client.messages.each({
      pageSize: 2, limit: 4, to: '+31612345679',
      done: (err) => (err ? reject(err) : resolve()),
    }, (m) => seen.push(m.sid));
  });
  assert.equal(new Set(seen).size, 4);
  assert.ok(seen.every((s) => sids.includes(s)));

  const page = await client.messages.page({ pageSize: 2, to: '+31612345679' });
  assert.equal(page.instances.length, 2);
  const next = await page.nextPage();
  assert.equal(next.instances.length, 2);
  assert.notDeepEqual(next.instances.map((m) => m.sid), page.instances.map((m) => m.sid));
  const prev = await next.previousPage();
  assert.deepEqual(prev.instances.map((m) => m.sid), page.instances.map((m) => m.sid));
});

test('a scheduled message is canceled with update({status: "canceled"})', async () => {
  const sendAt = new Date(Date.now() + 3600 * 1000);
  const m = await client.messages.create({ to: '+31612345678', from: FROM, body: 'later', sendAt, scheduleType: 'fixed' });
  assert.equal(m.status, 'scheduled');
  const c = await client.messages(m.sid).update({ status: 'canceled' });
  assert.equal(c.sid, m.sid);
  assert.equal(c.status, 'canceled');
});

test('errors are RestExceptions with Twilio codes', async () => {
  await rejects(client.messages.create({ to: '12', from: FROM, body: 'x' }), 400, 21211);
  await rejects(client.messages.create({ to: '+31612345678', from: FROM }), 400, 21602);
  await rejects(client.messages.create({ to: '+31612345678', from: FROM, body: 'x', mediaUrl: ['https://example.com/a.png'] }), 400, 21620);
  await rejects(client.messages.create({ to: '+31612345678', from: FROM, body: 'x', sendAt: new Date(Date.now() + 3600e3) }), 400, 35111);
  await rejects(client.messages('SM' + '0'.repeat(32)).fetch(), 404, 20404);
  assert.ok(delivered, 'the first test delivered a message');
  await rejects(client.messages(delivered.sid).update({ status: 'canceled' }), 400, 30409);
  const wrong = twilio(SID, '0'.repeat(32), { httpClient });
  await rejects(wrong.messages.list({ limit: 1 }), 401, 20003);
  const other = twilio('AC' + '1'.repeat(32), TOKEN, { httpClient });
  await rejects(other.messages.list({ limit: 1 }), 401, 20003);
});

test('a delivered message is redacted with update({body: ""}) and deleted with remove()', async () => {
  assert.ok(delivered, 'the first test delivered a message');
  const r = await client.messages(delivered.sid).update({ body: '' });
  assert.equal(r.sid, delivered.sid);
  assert.equal(r.body, '');
  assert.equal((await client.messages(delivered.sid).fetch()).body, '');
  assert.equal(await client.messages(delivered.sid).remove(), true);
  await rejects(client.messages(delivered.sid).fetch(), 404, 20404);
});

test('a Messaging Service is created, given the number, and sends from it', async () => {
  const svc = await client.messaging.v1.services.create({ friendlyName: 'Interop', stickySender: true });
  assert.match(svc.sid, /^MG[0-9a-f]{32}$/);
  assert.equal(svc.accountSid, SID);
  assert.equal(svc.friendlyName, 'Interop');
  assert.equal(svc.stickySender, true);
  assert.ok(svc.dateCreated instanceof Date && !isNaN(svc.dateCreated));
  const listed = await client.messaging.v1.services.list({ limit: 20 });
  assert.ok(listed.some((s) => s.sid === svc.sid));

  // No sender yet: Twilio's 21704.
  await rejects(client.messages.create({ to: '+31612345678', messagingServiceSid: svc.sid, body: 'x' }), 400, 21704);

  const nums = await client.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
  assert.equal(nums.length, 1);
  assert.equal(nums[0].phoneNumber, NUMBER);
  assert.match(nums[0].sid, /^PN[0-9a-f]{32}$/);
  assert.equal(nums[0].capabilities.sms, true);
  const pn = await client.messaging.v1.services(svc.sid).phoneNumbers.create({ phoneNumberSid: nums[0].sid });
  assert.equal(pn.sid, nums[0].sid);
  assert.equal(pn.phoneNumber, NUMBER);
  assert.equal(pn.serviceSid, svc.sid);

  const m = await client.messages.create({ to: '+31612345678', messagingServiceSid: svc.sid, body: 'via a Messaging Service' });
  assert.equal(m.messagingServiceSid, svc.sid);
  assert.equal(m.from, NUMBER);
  await waitFor('delivered through the service', async () => (await client.messages(m.sid).fetch()).status === 'delivered');
  await rejects(client.messages.create({ to: '+31612345678', messagingServiceSid: 'MG' + '0'.repeat(32), body: 'x' }), 404, 21701);
  await rejects(client.messaging.v1.services('MG' + '0'.repeat(32)).fetch(), 404, 20404);

  assert.equal(await client.messaging.v1.services(svc.sid).remove(), true);
  await rejects(client.messaging.v1.services(svc.sid).fetch(), 404, 20404);
});

test('an inbound SMS is posted to the number\'s SmsUrl, validateRequest verifies it, and the TwiML reply is delivered', async () => {
  const posts = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const url = hookBase + req.url;
      const valid = twilio.validateRequest(TOKEN, req.headers['x-twilio-signature'], url, params);
      posts.push({ params, valid, method: req.method, type: req.headers['content-type'] });
      if (!valid) {
        res.writeHead(403).end();
        return;
      }
      const twiml = new twilio.twiml.MessagingResponse();
      twiml.message(`Got: ${params.Body}`);
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(twiml.toString());
    });
  });
  await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookBase = `http://127.0.0.1:${hook.address().port}`;
  try {
    const [num] = await client.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
    const updated = await client.incomingPhoneNumbers(num.sid).update({ smsUrl: `${hookBase}/sms?tenant=acme`, smsMethod: 'POST' });
    assert.equal(updated.smsUrl, `${hookBase}/sms?tenant=acme`);
    assert.equal(updated.smsMethod, 'POST');
    assert.equal((await client.incomingPhoneNumbers(num.sid).fetch()).smsUrl, updated.smsUrl);

    const handset = '+31612345672'; // a number no other test sends to
    const r = await fetch(`${SMSC_CONTROL}/inject`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ system_id: SMSC_SYSTEM_ID, from: handset.slice(1), to: NUMBER.slice(1), text: 'hello omnigate' }),
    });
    assert.equal(r.status, 202, await r.text());

    const post = await waitFor('the inbound POST', async () => posts[0]);
    assert.equal(post.method, 'POST');
    assert.match(post.type, /^application\/x-www-form-urlencoded/);
    assert.ok(post.valid, 'X-Twilio-Signature verifies with twilio.validateRequest');
    assert.equal(post.params.From, handset);
    assert.equal(post.params.To, NUMBER);
    assert.equal(post.params.Body, 'hello omnigate');
    assert.equal(post.params.AccountSid, SID);
    assert.equal(post.params.NumMedia, '0');
    assert.equal(post.params.ApiVersion, '2010-04-01');
    assert.match(post.params.MessageSid, /^SM[0-9a-f]{32}$/);

    const inbound = await client.messages(post.params.MessageSid).fetch();
    assert.equal(inbound.direction, 'inbound');
    assert.equal(inbound.body, 'hello omnigate');
    assert.equal(inbound.from, handset);

    const reply = await waitFor('the TwiML reply delivered', async () => {
      const list = await client.messages.list({ to: handset, limit: 20 });
      return list.find((m) => m.body === 'Got: hello omnigate' && m.status === 'delivered');
    });
    assert.equal(reply.from, NUMBER);
    assert.equal(reply.direction, 'outbound-api');
    assert.equal(posts.length, 1, 'the inbound message was posted once');
  } finally {
    hook.close();
    hook.closeAllConnections?.();
  }
});
