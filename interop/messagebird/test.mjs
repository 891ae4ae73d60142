// Interop test: the official `messagebird` Node SDK (4.0.1, unmodified) against
// omnigate's MessageBird-compatible REST API, plus omnigate's signed status
// reports checked with the SDK's own verifiers.
//
// run.sh starts the server over TLS, with a certificate it made for
// rest.messagebird.com and 127.0.0.1, and sets:
//   OMNIGATE_URL          https://127.0.0.1:PORT of `omnigate serve --demo --tls-cert … --tls-key …`
//   OMNIGATE_CA           that certificate (PEM), to trust
//   OMNIGATE_KEY          the account's live key
//   OMNIGATE_TEST_KEY     the account's test key
//   OMNIGATE_SIGNING_KEY  the account's signing key
//   OMNIGATE_BALANCE      the balance the account was created with
//
// The SDK always calls https.request({hostname: 'rest.messagebird.com', ...})
// on port 443, with https.globalAgent. The harness does what a hosts-file
// entry does (docs/sdks.md): https.globalAgent resolves rest.messagebird.com
// to 127.0.0.1 and connects to OMNIGATE_URL's port; the request itself —
// TLS, the certificate checked against rest.messagebird.com, method, path,
// headers, body — is the SDK's, unchanged. Any other host is refused, so
// nothing leaves loopback.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

const require = createRequire(import.meta.url);

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/messagebird/run.sh`);
  return v;
}

const API = new URL(env('OMNIGATE_URL'));
const LIVE_KEY = env('OMNIGATE_KEY');
const TEST_KEY = env('OMNIGATE_TEST_KEY');
const SIGNING_KEY = env('OMNIGATE_SIGNING_KEY');
const START_BALANCE = Number(process.env.OMNIGATE_BALANCE ?? '100');
const CA = readFileSync(env('OMNIGATE_CA'));
assert.equal(API.protocol, 'https:', 'OMNIGATE_URL must be https://');
assert.equal(API.hostname, '127.0.0.1', 'OMNIGATE_URL must be on loopback (127.0.0.1)');

// ---------------------------------------------------------------------------
// Harness: what a hosts file pointing rest.messagebird.com at omnigate does.

const SDK_HOST = 'rest.messagebird.com';
const SDK_ORIGIN = `https://${SDK_HOST}`; // what hrefs say: the Host the SDK sent
const sdkRequests = []; // "METHOD /path" of every request the SDK made

const omnigateAgent = new https.Agent({
  keepAlive: true,
  ca: CA, // trusted as NODE_EXTRA_CA_CERTS would make it
  lookup(hostname, options, callback) { // the hosts-file entry
    if (hostname !== SDK_HOST) {
      callback(new Error(`interop harness: refusing to resolve ${hostname}; only ${SDK_HOST} goes to omnigate`));
    } else if (options && options.all) {
      callback(null, [{ address: API.hostname, family: 4 }]);
    } else {
      callback(null, API.hostname, 4);
    }
  },
});
// The SDK names no port, so the agent's default applies: omnigate's instead
// of 443 (https.Agent sets 443 after reading its options).
omnigateAgent.defaultPort = Number(API.port);
https.globalAgent = omnigateAgent;

// Record what the SDK asks for; change nothing.
const sdkHttpsRequest = https.request;
https.request = function recordedRequest(options, callback) {
  if (options === null || typeof options !== 'object' || options instanceof URL) {
    throw new Error(`interop harness: unexpected https.request(${typeof options}) call`);
  }
  if (options.hostname !== SDK_HOST || options.agent !== undefined || options.port !== undefined) {
    throw new Error(`interop harness: unexpected request to ${options.hostname || options.host}:${options.port} (agent ${options.agent})`);
  }
  sdkRequests.push(`${options.method} ${options.path}`);
  return sdkHttpsRequest.call(https, options, callback);
};

const sdkPackage = require('messagebird/package.json');
const messagebird = require('messagebird');
const { verify: verifyJWT } = require('messagebird/lib/webhook-signature-jwt');
const legacySignature = require('messagebird/lib/signature');

const live = messagebird.initClient(LIVE_KEY, 10000);
const testMode = messagebird.initClient(TEST_KEY, 10000);

// call runs an SDK method (Node-style callback) as a promise.
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    method(...args, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

// rejectsWithApiError checks that the SDK turned an error answer into an
// Error carrying the HTTP status and MessageBird's errors array.
async function rejectsWithApiError(promise, { status, code, parameter }) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Error, 'the SDK rejects with an Error');
    assert.equal(err.statusCode, status, `HTTP status (${err.message})`);
    assert.ok(Array.isArray(err.errors) && err.errors.length >= 1, `errors array (${err.message})`);
    assert.equal(err.errors[0].code, code, `error code (${err.message})`);
    if (parameter !== undefined) assert.equal(err.errors[0].parameter, parameter, `error parameter (${err.message})`);
    assert.equal(typeof err.errors[0].description, 'string');
    assert.ok(err.errors[0].description.length > 0);
    assert.match(err.message, new RegExp(`^api error\\(s\\): .*\\(code: ${code}\\b`));
    return true;
  });
}

// waitFor polls check() until it returns a truthy value or the deadline passes.
async function waitFor(what, check, { timeoutMs = 15000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

const HEX32 = /^[0-9a-f]{32}$/;
const DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+|-)\d\d:\d\d$/;

// ---------------------------------------------------------------------------
// The status-report receiver.

const reports = []; // { method, url, path, headers, body, query }
let receiver;
let receiverBase; // http://127.0.0.1:PORT

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, receiverBase);
      reports.push({
        method: req.method,
        url: receiverBase + req.url, // the full URL exactly as requested
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks),
        query: Object.fromEntries(url.searchParams),
      });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('OK');
    });
  });
  await new Promise((resolve, reject) => {
    receiver.once('error', reject);
    receiver.listen(0, '127.0.0.1', resolve);
  });
  receiverBase = `http://127.0.0.1:${receiver.address().port}`;
});

after(async () => {
  if (receiver) {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
  http.globalAgent.destroy();
  https.globalAgent.destroy();
});

// The report URL carries a query of its own: omnigate must keep it and the
// signatures must cover it.
const reportUrl = () => `${receiverBase}/mb/status?tenant=acme&note=a%20b`;

// Messages made by the tests below, checked against the reports at the end.
const sent = {}; // name -> { id, reference, recipients: [number], parts }

// ---------------------------------------------------------------------------

test('the SDK is messagebird 4.0.1, loaded from node_modules', () => {
  assert.equal(sdkPackage.version, '4.0.1');
  assert.equal(typeof live.messages.create, 'function');
  assert.equal(typeof verifyJWT, 'function');
  assert.equal(typeof legacySignature.validate, 'function');
});

test('messages.create with several recipients, a reference and a reportUrl', async () => {
  const reference = `interop run+${process.pid} ü`;
  const params = {
    originator: 'Omnigate',
    // The SDK joins an array into "a,b,c"; mix a number, a "+" number and a plain string.
    recipients: [31612345678, '+31612345679', '4915112345678'],
    body: 'Hello from the messagebird SDK interop test',
    reference,
    reportUrl: reportUrl(),
  };
  const before = sdkRequests.length;
  const m = await call(live.messages.create, params);
  assert.deepEqual(sdkRequests.slice(before), ['POST /messages'], 'the SDK request went through the harness');

  assert.match(m.id, HEX32);
  assert.equal(m.href, `${SDK_ORIGIN}/messages/${m.id}`);
  assert.equal(m.direction, 'mt');
  assert.equal(m.type, 'sms');
  assert.equal(m.originator, 'Omnigate');
  assert.equal(m.body, params.body);
  assert.equal(m.reference, reference);
  assert.equal(m.reportUrl, reportUrl());
  assert.equal(m.datacoding, 'plain');
  assert.equal(m.mclass, 1);
  assert.equal(m.scheduledDatetime, null);
  assert.match(m.createdDatetime, DATETIME);
  assert.ok(Math.abs(Date.parse(m.createdDatetime) - Date.now()) < 120000, 'createdDatetime is now');

  const r = m.recipients;
  assert.equal(r.totalCount, 3);
  assert.equal(r.totalSentCount, 3);
  assert.equal(r.totalDeliveredCount, 0);
  assert.equal(r.totalDeliveryFailedCount, 0);
  assert.equal(r.items.length, 3);
  assert.deepEqual(r.items.map((i) => i.recipient).sort(), [31612345678, 31612345679, 4915112345678]);
  for (const item of r.items) {
    assert.equal(typeof item.recipient, 'number', 'recipients are numbers, as MessageBird sends them');
    assert.equal(item.status, 'sent');
    assert.match(item.statusDatetime, DATETIME);
    assert.equal(item.messagePartCount, 1);
    assert.equal(item.messageLength, params.body.length);
    assert.equal(typeof item.statusReason, 'string');
  }
  const nl = r.items.find((i) => i.recipient === 31612345678);
  assert.equal(nl.recipientCountry, 'Netherlands');
  assert.equal(nl.recipientCountryPrefix, 31);
  const de = r.items.find((i) => i.recipient === 4915112345678);
  assert.equal(de.recipientCountryPrefix, 49);

  sent.main = { id: m.id, reference, recipients: [31612345678, 31612345679, 4915112345678], parts: 1 };
});

test('messages.read until every recipient is delivered', async () => {
  assert.ok(sent.main, 'the create test ran');
  const m = await waitFor('all recipients delivered', async () => {
    const got = await call(live.messages.read, sent.main.id);
    return got.recipients.items.every((i) => i.status === 'delivered') ? got : null;
  });
  assert.equal(m.id, sent.main.id);
  assert.equal(m.reference, sent.main.reference);
  assert.equal(m.recipients.totalCount, 3);
  assert.equal(m.recipients.totalSentCount, 3);
  assert.equal(m.recipients.totalDeliveredCount, 3);
  assert.equal(m.recipients.totalDeliveryFailedCount, 0);
  for (const item of m.recipients.items) {
    assert.equal(item.status, 'delivered');
    assert.match(item.statusDatetime, DATETIME);
    assert.equal(item.statusErrorCode, null);
    assert.equal(item.messagePartCount, 1);
  }
});

test('messages.list with limit and offset finds the message', async () => {
  assert.ok(sent.main, 'the create test ran');
  const first = await call(live.messages.list, { limit: 2, offset: 0 });
  assert.equal(first.offset, 0);
  assert.equal(first.limit, 2);
  assert.ok(first.totalCount >= 1);
  assert.equal(first.count, first.items.length);
  assert.ok(first.items.length <= 2);
  assert.ok(first.links && 'first' in first.links && 'next' in first.links);
  assert.ok(sdkRequests.includes('GET /messages?limit=2&offset=0'), 'limit and offset were sent as query parameters');

  // Page through with the SDK until the message shows up.
  let found = null;
  const seen = new Set();
  for (let offset = 0; offset < first.totalCount && !found; offset += 2) {
    const page = await call(live.messages.list, { limit: 2, offset });
    assert.equal(page.offset, offset);
    for (const item of page.items) {
      assert.ok(!seen.has(item.id), `message ${item.id} appears on two pages`);
      seen.add(item.id);
      if (item.id === sent.main.id) found = item;
    }
  }
  assert.ok(found, `message ${sent.main.id} is in the list`);
  assert.equal(found.reference, sent.main.reference);
  assert.equal(found.recipients.totalCount, 3);

  // The status filter.
  const delivered = await call(live.messages.list, { status: 'delivered', limit: 50 });
  assert.ok(delivered.items.some((i) => i.id === sent.main.id), 'the delivered filter includes it');
  for (const item of delivered.items) {
    assert.ok(item.recipients.items.some((i) => i.status === 'delivered'), `${item.id} matches status=delivered`);
  }
  const scheduled = await call(live.messages.list, { status: 'scheduled', limit: 50 });
  assert.ok(!scheduled.items.some((i) => i.id === sent.main.id), 'the scheduled filter excludes it');
});

test('balance.read', async () => {
  const b = await call(live.balance.read);
  assert.equal(b.payment, 'prepaid');
  assert.equal(b.type, 'euros');
  assert.equal(typeof b.amount, 'number');
  assert.ok(b.amount > 0 && b.amount <= START_BALANCE, `amount ${b.amount} is within (0, ${START_BALANCE}]`);
});

test('errors surface through the SDK with MessageBird codes', async (t) => {
  const base = { originator: 'Omnigate', recipients: ['31612345678'], body: 'error case' };

  await t.test('wrong access key: 401, code 2', async () => {
    const wrong = messagebird.initClient('live_' + 'x'.repeat(30), 10000);
    await rejectsWithApiError(call(wrong.balance.read), { status: 401, code: 2 });
    await rejectsWithApiError(call(wrong.messages.create, { ...base }), { status: 401, code: 2 });
    await rejectsWithApiError(call(wrong.messages.read, '0'.repeat(32)), { status: 401, code: 2 });
  });

  await t.test('invalid recipient: 422, code 10, parameter recipients', async () => {
    await rejectsWithApiError(call(live.messages.create, { ...base, recipients: ['hello'] }), { status: 422, code: 10, parameter: 'recipients' });
    await rejectsWithApiError(call(live.messages.create, { ...base, recipients: ['31612345678', '12'] }), { status: 422, code: 10, parameter: 'recipients' });
  });

  await t.test('unknown message id: 404, code 20', async () => {
    await rejectsWithApiError(call(live.messages.read, '0123456789abcdef0123456789abcdef'), { status: 404, code: 20 });
    await rejectsWithApiError(call(live.messages.delete, '0123456789abcdef0123456789abcdef'), { status: 404, code: 20 });
  });

  await t.test('alphanumeric originator over 11 characters: 422, code 10, parameter originator', async () => {
    await rejectsWithApiError(call(live.messages.create, { ...base, originator: 'OmnigateInterop' }), { status: 422, code: 10, parameter: 'originator' });
  });

  await t.test('missing originator: 422, code 9, parameter originator', async () => {
    const { originator, ...noOriginator } = base;
    await rejectsWithApiError(call(live.messages.create, noOriginator), { status: 422, code: 9, parameter: 'originator' });
  });
});

test('an Arabic body goes as unicode', async () => {
  const body = 'مرحبا بكم في أومنيجيت';
  const m = await call(live.messages.create, { originator: 'Omnigate', recipients: ['31612345678'], body, reference: 'interop-arabic', reportUrl: reportUrl() });
  assert.match(m.id, HEX32);
  assert.equal(m.body, body, 'the body comes back intact');
  assert.equal(m.datacoding, 'unicode');
  assert.equal(m.recipients.items[0].messagePartCount, 1);
  assert.equal(m.recipients.items[0].messageLength, [...body].length);
  sent.arabic = { id: m.id, reference: 'interop-arabic', recipients: [31612345678], parts: 1 };

  // 87 UCS-2 characters need two parts (67 characters each once concatenated).
  const longBody = [body, body, body, body].join(' ');
  assert.equal([...longBody].length, 87);
  const long = await call(live.messages.create, { originator: 'Omnigate', recipients: ['31612345678'], body: longBody });
  assert.equal(long.datacoding, 'unicode');
  assert.equal(long.recipients.items[0].messagePartCount, 2);

  // Read back: stored as sent.
  const back = await call(live.messages.read, m.id);
  assert.equal(back.body, body);
  assert.equal(back.datacoding, 'unicode');
});

test('GSM bodies: 160 characters is 1 part, 200 characters is 2 parts', async () => {
  const gsm = (n) => 'Omnigate interop 0123456789 abcdefghij. '.repeat(10).slice(0, n);
  const one = await call(live.messages.create, { originator: 'Omnigate', recipients: ['31612345678'], body: gsm(160) });
  assert.equal(one.datacoding, 'plain');
  assert.equal(one.recipients.items[0].messagePartCount, 1);
  assert.equal(one.recipients.items[0].messageLength, 160);

  const body = gsm(200);
  assert.equal(body.length, 200);
  const m = await call(live.messages.create, { originator: 'Omnigate', recipients: ['31612345678', '31612345679'], body, reference: 'interop-gsm200', reportUrl: reportUrl() });
  assert.equal(m.datacoding, 'plain');
  assert.equal(m.recipients.totalCount, 2);
  for (const item of m.recipients.items) {
    assert.equal(item.messagePartCount, 2);
    assert.equal(item.messageLength, 200);
  }
  sent.gsm200 = { id: m.id, reference: 'interop-gsm200', recipients: [31612345678, 31612345679], parts: 2 };
});

// Characters the SDKs' legacy verifiers encode differently (space as %20 or
// +; * ~ ' ( ) ! kept or escaped) and non-ASCII text, in the reference and
// in the report URL's own query (written with + for a space and escapes the
// SDK would not use): the Node verifier must still accept the reports.
const trickyReference = "it's *~(ok)! a+b, r\u00e9f \u20ac 1/2";
const trickyReportUrl = () => `${reportUrl()}&plus=a+b&x=%2A%7E%27%28%29%21&name=J%C3%BCrgen%20%C3%96`;

test('a reference and a report URL query with spaces, + * ~ \' ( ) ! and non-ASCII', async () => {
  const m = await call(live.messages.create, {
    originator: 'Omnigate', recipients: ['31612345678'], body: 'tricky', reference: trickyReference, reportUrl: trickyReportUrl(),
  });
  assert.equal(m.reference, trickyReference);
  assert.equal(m.reportUrl, trickyReportUrl());
  sent.tricky = { id: m.id, reference: trickyReference, recipients: [31612345678], parts: 1 };
});

// rfc3339 formats a time at whole seconds with a fixed UTC offset in minutes.
function rfc3339(ms, offsetMinutes) {
  const local = new Date(ms + offsetMinutes * 60000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const pad = (n) => String(n).padStart(2, '0');
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

test('a scheduled message is scheduled, messages.delete cancels it, then read is 404', async () => {
  const at = Math.floor(Date.now() / 1000) * 1000 + 3600 * 1000;
  const scheduledDatetime = rfc3339(at, 120); // e.g. 2026-11-25T22:00:00+02:00
  const m = await call(live.messages.create, {
    originator: 'Omnigate', recipients: ['31612345678', '31612345679'], body: 'later', reference: 'interop-scheduled',
    reportUrl: reportUrl(), scheduledDatetime,
  });
  assert.match(m.id, HEX32);
  assert.match(m.scheduledDatetime, DATETIME);
  assert.equal(Date.parse(m.scheduledDatetime), at, `scheduledDatetime ${m.scheduledDatetime} is the same instant as ${scheduledDatetime}`);
  assert.equal(m.recipients.totalCount, 2);
  assert.equal(m.recipients.totalSentCount, 0);
  for (const item of m.recipients.items) assert.equal(item.status, 'scheduled');
  sent.scheduled = { id: m.id };

  const back = await call(live.messages.read, m.id);
  assert.equal(Date.parse(back.scheduledDatetime), at);
  for (const item of back.recipients.items) assert.equal(item.status, 'scheduled');

  const deleted = await call(live.messages.delete, m.id);
  assert.equal(deleted, true, 'the SDK reports a 204 as true');

  await rejectsWithApiError(call(live.messages.read, m.id), { status: 404, code: 20 });
  await rejectsWithApiError(call(live.messages.delete, m.id), { status: 404, code: 20 });
});

test('messages.delete refuses a message that is already sent, and keeps it', async () => {
  assert.ok(sent.main, 'the create test ran');
  await assert.rejects(call(live.messages.delete, sent.main.id), (err) => {
    assert.ok(err.statusCode >= 400 && err.statusCode < 500, `a client error (${err.message})`);
    assert.ok(Array.isArray(err.errors) && err.errors.length >= 1);
    return true;
  });
  const still = await call(live.messages.read, sent.main.id);
  assert.equal(still.id, sent.main.id);
});

test('a test key answers with a realistic message and stores nothing', async () => {
  const m = await call(testMode.messages.create, {
    originator: 'Omnigate', recipients: ['31612345678', '31612345679'], body: 'test mode', reference: 'interop-testkey',
    reportUrl: `${receiverBase}/mb/test-status`,
  });
  assert.match(m.id, HEX32);
  assert.equal(m.href, `${SDK_ORIGIN}/messages/${m.id}`);
  assert.equal(m.originator, 'Omnigate');
  assert.equal(m.body, 'test mode');
  assert.equal(m.reference, 'interop-testkey');
  assert.equal(m.datacoding, 'plain');
  assert.equal(m.recipients.totalCount, 2);
  assert.deepEqual(m.recipients.items.map((i) => i.recipient).sort(), [31612345678, 31612345679]);
  for (const item of m.recipients.items) {
    assert.equal(item.status, 'sent');
    assert.equal(item.messagePartCount, 1);
  }
  sent.testKey = { id: m.id };

  // A live message made after it: once its report has arrived, a report for
  // the test-key message would have had its chance too.
  const sentinel = await call(live.messages.create, {
    originator: 'Omnigate', recipients: ['31612345678'], body: 'sentinel', reference: 'interop-sentinel', reportUrl: reportUrl(),
  });
  sent.sentinel = { id: sentinel.id, reference: 'interop-sentinel', recipients: [31612345678], parts: 1 };

  await rejectsWithApiError(call(live.messages.read, m.id), { status: 404, code: 20 });
  await rejectsWithApiError(call(testMode.messages.read, m.id), { status: 404, code: 20 });
  // A test key still validates.
  await rejectsWithApiError(call(testMode.messages.create, { originator: 'Omnigate', recipients: ['nope'], body: 'x' }), { status: 422, code: 10, parameter: 'recipients' });
});

// ---------------------------------------------------------------------------
// Status reports.

const goodKey = () => createSecretKey(Buffer.from(SIGNING_KEY, 'utf8'));

// legacyRequest builds the express-like request lib/signature.js expects:
// lower-case headers, the parsed query (a fresh object: the SDK mutates it)
// and the parsed body ({} for a GET, as body-parser leaves it).
function legacyRequest(report, { query = {}, headers = {} } = {}) {
  return {
    headers: { ...report.headers, ...headers },
    query: { ...report.query, ...query },
    body: {},
  };
}

function decodeJWT(token) {
  const [h, p, s] = token.split('.');
  assert.ok(h && p && s, 'a JWT has three parts');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

async function checkReport(report, msg) {
  assert.equal(report.method, 'GET');
  assert.equal(report.body.length, 0, 'an SMS status report has no body');
  assert.equal(report.path, '/mb/status');
  const q = report.query;
  assert.equal(q.id, msg.id);
  assert.equal(q.reference, msg.reference);
  assert.ok(msg.recipients.includes(Number(q.recipient)), `recipient ${q.recipient} is one of the message's`);
  assert.ok(['sent', 'buffered', 'delivered', 'delivery_failed', 'expired'].includes(q.status), `status ${q.status}`);
  assert.match(q.statusDatetime, DATETIME);
  assert.ok(q.statusReason && q.statusReason.length > 0, 'statusReason');
  assert.equal(q.messagePartCount, String(msg.parts));
  assert.equal(q.ported, '0');
  assert.equal(q.tenant, 'acme', "the reportUrl's own query is kept");
  assert.equal(q.note, 'a b', "the reportUrl's own query is kept");

  // Signature-JWT, with the SDK's verifier.
  const jwt = report.headers['messagebird-signature-jwt'];
  assert.ok(jwt, 'MessageBird-Signature-JWT header');
  assert.equal(await verifyJWT(report.url, report.body, jwt, goodKey()), true);
  const { header, payload } = decodeJWT(jwt);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.iss, 'MessageBird');
  assert.match(payload.url_hash, /^[0-9a-f]{64}$/);
  assert.ok(!('payload_hash' in payload), 'no payload_hash without a body');
  assert.ok(typeof payload.jti === 'string' && payload.jti.length > 0, 'jti');
  assert.ok(payload.nbf <= payload.iat + 5 && payload.exp > payload.iat, 'validity window');

  // Legacy MessageBird-Signature, with the SDK's verifier.
  assert.ok(report.headers['messagebird-request-timestamp'], 'MessageBird-Request-Timestamp header');
  assert.ok(report.headers['messagebird-signature'], 'MessageBird-Signature header');
  assert.equal(legacySignature.validate(legacyRequest(report), SIGNING_KEY), true);
  return payload.jti;
}

// mustFail checks the verifiers reject altered reports, so the checks above
// cannot pass vacuously.
async function mustFail(report) {
  const jwt = report.headers['messagebird-signature-jwt'];
  const wrongKey = createSecretKey(Buffer.from(SIGNING_KEY + 'x', 'utf8'));

  const otherStatus = report.query.status === 'delivered' ? 'delivery_failed' : 'delivered';
  const tamperedStatus = report.url.replace(`status=${report.query.status}`, `status=${otherStatus}`);
  assert.notEqual(tamperedStatus, report.url);
  await assert.rejects(verifyJWT(tamperedStatus, report.body, jwt, goodKey()), /url_hash/, 'a changed status fails');
  const tamperedHost = report.url.replace('http://127.0.0.1:', 'http://localhost:');
  await assert.rejects(verifyJWT(tamperedHost, report.body, jwt, goodKey()), /url_hash/, 'a changed host fails');
  const tamperedQuery = report.url.replace('tenant=acme', 'tenant=evil');
  assert.notEqual(tamperedQuery, report.url);
  await assert.rejects(verifyJWT(tamperedQuery, report.body, jwt, goodKey()), /url_hash/, "a changed customer query fails");
  await assert.rejects(verifyJWT(report.url, report.body, jwt, wrongKey), /invalid signature/, 'the wrong key fails');
  await assert.rejects(verifyJWT(report.url, report.body, jwt, createSecretKey(Buffer.from(TEST_KEY, 'utf8'))), /invalid signature/, 'an access key is not the signing key');
  await assert.rejects(verifyJWT(report.url, Buffer.from('{"x":1}'), jwt, goodKey()), /payload/, 'an added body fails');
  const [h, p, s] = jwt.split('.');
  const flipped = s[0] === 'A' ? 'B' + s.slice(1) : 'A' + s.slice(1);
  await assert.rejects(verifyJWT(report.url, report.body, `${h}.${p}.${flipped}`, goodKey()), /invalid signature/, 'a changed signature fails');

  assert.throws(() => legacySignature.validate(legacyRequest(report, { query: { status: otherStatus } }), SIGNING_KEY), /Signatures not match/);
  assert.throws(() => legacySignature.validate(legacyRequest(report, { query: { tenant: 'evil' } }), SIGNING_KEY), /Signatures not match/);
  assert.throws(() => legacySignature.validate(legacyRequest(report), SIGNING_KEY + 'x'), /Signatures not match/);
  const ts = Number(report.headers['messagebird-request-timestamp']);
  assert.throws(() => legacySignature.validate(legacyRequest(report, { headers: { 'messagebird-request-timestamp': String(ts + 1) } }), SIGNING_KEY), /Signatures not match/);
}

test('status reports arrive and pass the SDK verifiers; altered ones fail', async () => {
  const expected = [sent.main, sent.arabic, sent.gsm200, sent.sentinel, sent.tricky];
  assert.ok(expected.every(Boolean), 'the message tests ran');

  // One "delivered" report per recipient of each message.
  const deliveredFor = (msg) => reports.filter((r) => r.query.id === msg.id && r.query.status === 'delivered');
  await waitFor('a delivered report for every recipient', () =>
    expected.every((msg) => new Set(deliveredFor(msg).map((r) => r.query.recipient)).size === msg.recipients.length));

  const jtis = new Set();
  for (const msg of expected) {
    const mine = reports.filter((r) => r.query.id === msg.id);
    assert.deepEqual([...new Set(deliveredFor(msg).map((r) => Number(r.query.recipient)))].sort(), [...msg.recipients].sort());
    for (const report of mine) {
      const jti = await checkReport(report, msg);
      assert.ok(!jtis.has(jti), 'every report has its own jti');
      jtis.add(jti);
    }
  }
  // The reports say delivered for the same recipients the API says are delivered.
  const main = await call(live.messages.read, sent.main.id);
  for (const item of main.recipients.items) {
    const report = deliveredFor(sent.main).find((r) => Number(r.query.recipient) === item.recipient);
    assert.equal(report.query.statusDatetime, item.statusDatetime, 'the report and the API agree on statusDatetime');
  }

  await mustFail(deliveredFor(sent.main)[0]);
  await mustFail(deliveredFor(sent.arabic)[0]);
  await mustFail(deliveredFor(sent.tricky)[0]);

  // The tricky report's own query arrived as written, and its values
  // decode to what was sent.
  const tricky = deliveredFor(sent.tricky)[0];
  assert.ok(tricky.url.includes('&plus=a+b&x=%2A%7E%27%28%29%21&name=J%C3%BCrgen%20%C3%96&'), tricky.url);
  assert.equal(tricky.query.plus, 'a b');
  assert.equal(tricky.query.x, "*~'()!");
  assert.equal(tricky.query.name, 'J\u00fcrgen \u00d6');
  assert.equal(tricky.query.reference, trickyReference);
  assert.equal(tricky.query.statusReason, 'successfully delivered');
});

test('no report for the test-key message or the cancelled scheduled message', () => {
  assert.ok(sent.testKey && sent.scheduled && sent.sentinel, 'those tests ran');
  // The sentinel's report, for a live message created after both, has
  // arrived (previous test), so reports for them would have had their chance.
  assert.ok(reports.some((r) => r.query.id === sent.sentinel.id));
  assert.equal(reports.filter((r) => r.path === '/mb/test-status').length, 0);
  assert.equal(reports.filter((r) => r.query.id === sent.testKey.id).length, 0);
  assert.equal(reports.filter((r) => r.query.id === sent.scheduled.id).length, 0);
  assert.ok(reports.every((r) => r.path === '/mb/status'), 'every report went to the reportUrl');
});

// ---------------------------------------------------------------------------
// The address book: contacts and groups through the SDK, and a message to a
// group by groupIds.

test('contacts and groups: create, list, update, add to a group, send to groupIds', async () => {
  const ann = await call(live.contacts.create, '31612340001', { firstName: 'Ann', custom1: 'gold' });
  assert.match(ann.id, HEX32);
  assert.equal(ann.msisdn, 31612340001);
  assert.equal(ann.firstName, 'Ann');
  assert.equal(ann.customDetails.custom1, 'gold');
  assert.equal(ann.href, `${SDK_ORIGIN}/contacts/${ann.id}`);
  assert.deepEqual(ann.groups, { totalCount: 0, href: `${SDK_ORIGIN}/contacts/${ann.id}/groups` });
  assert.match(ann.createdDatetime, DATETIME);
  const bob = await call(live.contacts.create, '+31612340002', { firstName: 'Bob' });

  const list = await call(live.contacts.list, 10, 0);
  assert.equal(list.offset, 0);
  assert.equal(list.limit, 10);
  assert.ok(list.totalCount >= 2);
  assert.ok(list.items.some((c) => c.id === ann.id) && list.items.some((c) => c.id === bob.id));

  const updated = await call(live.contacts.update, ann.id, { lastName: 'Smith', custom4: 'vip' });
  assert.equal(updated.lastName, 'Smith');
  assert.equal(updated.firstName, 'Ann');
  assert.equal(updated.customDetails.custom4, 'vip');
  assert.equal((await call(live.contacts.read, ann.id)).lastName, 'Smith');

  const group = await call(live.groups.create, 'interop friends', {});
  assert.match(group.id, HEX32);
  assert.equal(group.contacts.totalCount, 0);
  const renamed = await call(live.groups.update, group.id, 'interop best friends', {});
  assert.equal(renamed.name, 'interop best friends');
  // The Node SDK adds contacts with PUT /groups/{id}/contacts and JSON {ids}.
  await call(live.groups.addContacts, group.id, [ann.id, bob.id]);
  const members = await call(live.groups.listContacts, group.id, 10, 0);
  assert.equal(members.totalCount, 2);
  assert.deepEqual(members.items.map((c) => c.id).sort(), [ann.id, bob.id].sort());
  const annGroups = await call(live.contacts.listGroups, ann.id, 10, 0);
  assert.deepEqual(annGroups.items.map((g) => g.id), [group.id]);
  assert.equal((await call(live.groups.read, group.id)).contacts.totalCount, 2);

  // A message to the group goes to both members, once each, with a number
  // listed too.
  const m = await call(live.messages.create, {
    originator: 'Omnigate', body: 'to the group', groupIds: [group.id], recipients: ['31612340001', '31612340003'],
  });
  assert.deepEqual(m.recipients.items.map((r) => r.recipient).sort(), [31612340001, 31612340002, 31612340003]);
  const annMessages = await call(live.contacts.listMessages, ann.id, 10, 0);
  assert.ok(annMessages.items.some((x) => x.id === m.id));

  await call(live.groups.removeContact, group.id, bob.id);
  assert.equal((await call(live.groups.listContacts, group.id, 10, 0)).totalCount, 1);
  await rejectsWithApiError(call(live.groups.addContacts, group.id, ['0123456789abcdef0123456789abcdef']),
    { status: 422, code: 10, parameter: 'ids' });
  await rejectsWithApiError(call(live.contacts.create, 'not a number', {}), { status: 422, code: 10, parameter: 'msisdn' });
  await rejectsWithApiError(call(live.messages.create, {
    originator: 'Omnigate', body: 'x', groupIds: ['0123456789abcdef0123456789abcdef'],
  }), { status: 422, code: 10, parameter: 'groupIds' });

  await call(live.groups.delete, group.id);
  await rejectsWithApiError(call(live.groups.read, group.id), { status: 404, code: 20 });
  await call(live.contacts.delete, bob.id);
  await rejectsWithApiError(call(live.contacts.read, bob.id), { status: 404, code: 20 });

  // A test key's contact is answered, not stored.
  const t = await call(testMode.contacts.create, '31612340009', {});
  assert.match(t.id, HEX32);
  await rejectsWithApiError(call(live.contacts.read, t.id), { status: 404, code: 20 });
});

// ---------------------------------------------------------------------------
// Lookup and HLR. The demo runs the HLR simulator, which answers by the
// number's last digit (docs/lookup.md): 0 absent, 1 unknown, 2 ported,
// 3 roaming, 4 failed, others active on the home network.

test('lookup.read: country, type and formats; a national number with its country code; a bad number', async () => {
  const l = await call(live.lookup.read, '31612345678');
  assert.equal(l.href, `${SDK_ORIGIN}/lookup/31612345678`);
  assert.equal(l.countryCode, 'NL');
  assert.equal(l.countryPrefix, 31);
  assert.equal(l.phoneNumber, 31612345678);
  assert.equal(l.type, 'mobile');
  assert.deepEqual(l.formats, {
    e164: '+31612345678', international: '+31 6 12345678', national: '06 12345678', rfc3966: 'tel:+31-6-12345678',
  });
  const fixed = await call(live.lookup.read, '0201234567', 'NL');
  assert.equal(fixed.phoneNumber, 31201234567);
  assert.equal(fixed.type, 'fixed line');
  assert.equal(fixed.formats.national, '020 123 4567');
  assert.equal((await call(testMode.lookup.read, '448001234567')).type, 'toll free');
  await rejectsWithApiError(call(live.lookup.read, 'not-a-number'), { status: 400, code: 21, parameter: 'phoneNumber' });
  await rejectsWithApiError(call(live.lookup.read, '0612345678'), { status: 400, code: 21 });
  await rejectsWithApiError(call(live.lookup.read, '0612345678', 'XX'), { status: 422, code: 10, parameter: 'countryCode' });
});

test('hlr.create is charged and answers sent; hlr.read has the simulator\'s answer', async () => {
  const before = (await call(live.balance.read)).amount;
  const h = await call(live.hlr.create, 31612345678, 'interop hlr');
  assert.match(h.id, HEX32);
  assert.equal(h.href, `${SDK_ORIGIN}/hlr/${h.id}`);
  assert.equal(h.msisdn, 31612345678);
  assert.equal(h.reference, 'interop hlr');
  assert.equal(h.status, 'sent');
  assert.equal(h.network, null);
  assert.equal(h.details, null);
  assert.match(h.createdDatetime, DATETIME);
  const after = (await call(live.balance.read)).amount;
  assert.ok(Math.abs(before - after - 0.01) < 1e-9, `balance ${before} → ${after}: one HLR query at 0.01`);

  const done = await waitFor('the HLR answer', async () => {
    const r = await call(live.hlr.read, h.id);
    return r.status !== 'sent' && r;
  });
  assert.equal(done.id, h.id);
  assert.equal(done.status, 'active');
  assert.equal(done.network, 20408);
  assert.equal(done.details.country_iso, 'NL');
  assert.equal(done.details.ported, 0);
  assert.equal(done.details.roaming, 0);
  assert.match(done.statusDatetime, DATETIME);

  const absent = await call(live.hlr.create, '31612345670');
  const absentDone = await waitFor('the absent answer', async () => {
    const r = await call(live.hlr.read, absent.id);
    return r.status !== 'sent' && r;
  });
  assert.equal(absentDone.status, 'absent');
  assert.equal(absentDone.reference, null);

  await rejectsWithApiError(call(live.hlr.read, '0123456789abcdef0123456789abcdef'), { status: 404, code: 20 });
  await rejectsWithApiError(call(live.hlr.create, 'hello'), { status: 422, code: 10, parameter: 'msisdn' });
  // A test key's query is answered, not stored; it reads none.
  const t = await call(testMode.hlr.create, 31612345678, 'test');
  assert.equal(t.status, 'sent');
  await rejectsWithApiError(call(testMode.hlr.read, h.id), { status: 404, code: 20 });
  await rejectsWithApiError(call(live.hlr.read, t.id), { status: 404, code: 20 });
});

test('lookup.hlr.create with a country code, lookup.hlr.read by number: a ported number', async () => {
  const h = await call(live.lookup.hlr.create, '0612345672', { countryCode: 'NL', reference: 'ported' });
  assert.equal(h.status, 'sent');
  assert.equal(h.network, null);
  assert.equal(h.details, null);
  assert.equal(h.msisdn, 31612345672);
  const done = await waitFor('the ported answer', async () => {
    const r = await call(live.lookup.hlr.read, '31612345672');
    return r.status !== 'sent' && r;
  });
  assert.equal(done.id, h.id);
  assert.equal(done.status, 'active');
  assert.equal(typeof done.network, 'number');
  assert.equal(done.network, 20416);
  assert.equal(done.details.ported, 1);
  assert.equal((await call(live.lookup.hlr.read, '0612345672', 'NL')).id, h.id);
  assert.equal((await call(live.lookup.read, '31612345672')).hlr.id, h.id);
  await rejectsWithApiError(call(testMode.lookup.hlr.read, '31612345672'), { status: 404, code: 20 });
  await rejectsWithApiError(call(live.lookup.hlr.read, '31699999999'), { status: 404, code: 20 });
});

// omnigateRequest makes a request the SDK has no method for (omnigate's own
// endpoints), over the same TLS connection to rest.messagebird.com.
function omnigateRequest(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = sdkHttpsRequest.call(https, {
      hostname: SDK_HOST, method, path,
      headers: { Authorization: `AccessKey ${LIVE_KEY}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('HLR reports reach the HLR report URL and pass the SDK verifiers; altered ones fail', async () => {
  const hlrReportUrl = `${receiverBase}/mb/hlr?tenant=acme`;
  const set = await omnigateRequest('PUT', '/settings/hlr', { reportUrl: hlrReportUrl });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.reportUrl, hlrReportUrl);
  try {
    const h = await call(live.hlr.create, 31612345679, 'hlr report');
    const report = await waitFor('the HLR report', () => reports.find((r) => r.path === '/mb/hlr' && r.query.id === h.id));
    const q = report.query;
    assert.equal(report.method, 'GET');
    assert.equal(q.msisdn, '31612345679');
    assert.equal(q.reference, 'hlr report');
    assert.equal(q.status, 'active');
    assert.equal(q.network, '20408');
    assert.equal(q.tenant, 'acme', "the report URL's own query is kept");
    assert.match(q.createdDatetime, DATETIME);
    assert.equal(q.statusDatetime, (await call(live.hlr.read, h.id)).statusDatetime, 'the report and the API agree');

    const jwt = report.headers['messagebird-signature-jwt'];
    assert.equal(await verifyJWT(report.url, report.body, jwt, goodKey()), true);
    assert.equal(legacySignature.validate(legacyRequest(report), SIGNING_KEY), true);
    const tampered = report.url.replace('status=active', 'status=absent');
    assert.notEqual(tampered, report.url);
    await assert.rejects(verifyJWT(tampered, report.body, jwt, goodKey()), /url_hash/, 'a changed status fails');
    assert.throws(() => legacySignature.validate(legacyRequest(report, { query: { status: 'absent' } }), SIGNING_KEY), /Signatures not match/);
  } finally {
    const off = await omnigateRequest('PUT', '/settings/hlr', { reportUrl: '' });
    assert.equal(off.status, 200);
    assert.equal(off.body.reportUrl, null);
  }
});

test('verify: create, a wrong token, the right token, read, delete', async () => {
  const v = await call(live.verify.create, '+31612345670', { originator: 'Omnigate', template: 'Interop code: %token', timeout: 120 });
  assert.match(v.id, HEX32);
  assert.equal(v.href, `${SDK_ORIGIN}/verify/${v.id}`);
  assert.equal(v.recipient, 31612345670);
  assert.equal(v.status, 'sent');
  assert.equal(v.reference, null);
  assert.match(v.createdDatetime, DATETIME);
  assert.equal(Date.parse(v.validUntilDatetime) - Date.parse(v.createdDatetime), 120000);
  // The code is in the message the verification sent (what the handset gets).
  const messageId = v.messages.href.split('/').pop();
  const m = await call(live.messages.read, messageId);
  const code = m.body.match(/\d{6}/)[0];
  assert.equal(m.body, `Interop code: ${code}`);

  const wrong = code === '000000' ? '111111' : '000000';
  await rejectsWithApiError(call(live.verify.verify, v.id, wrong), { status: 422, code: 10, parameter: 'token' });
  assert.equal((await call(live.verify.read, v.id)).status, 'sent');
  const ok = await call(live.verify.verify, v.id, code);
  assert.equal(ok.id, v.id);
  assert.equal(ok.status, 'verified');
  await rejectsWithApiError(call(live.verify.verify, v.id, code), { status: 422, code: 10, parameter: 'token' });

  // Five wrong tokens fail a verification.
  const f = await call(live.verify.create, '31612345671', { originator: 'Omnigate' });
  const fCode = (await call(live.messages.read, f.messages.href.split('/').pop())).body.match(/\d{6}/)[0];
  const fWrong = fCode === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) {
    await rejectsWithApiError(call(live.verify.verify, f.id, fWrong), { status: 422, code: 10, parameter: 'token' });
  }
  assert.equal((await call(live.verify.read, f.id)).status, 'failed');

  // delete answers 204 (the SDK passes an empty result), then the status is deleted.
  const d = await call(live.verify.create, '31612345672', { originator: 'Omnigate' });
  await call(live.verify.delete, d.id);
  assert.equal((await call(live.verify.read, d.id)).status, 'deleted');
  await rejectsWithApiError(call(live.verify.delete, d.id), { status: 404, code: 20 });
  await rejectsWithApiError(call(live.verify.read, '0123456789abcdef0123456789abcdef'), { status: 404, code: 20 });

  // Bad input and fraud protection answer in MessageBird's format.
  await rejectsWithApiError(call(live.verify.create, 'not a number', { originator: 'Omnigate' }), { status: 422, code: 10, parameter: 'recipient' });
  await rejectsWithApiError(call(live.verify.create, '31612345678', { originator: 'Omnigate', type: 'tts' }), { status: 422, code: 10, parameter: 'type' });
  await rejectsWithApiError(call(live.verify.create, '319001234567', { originator: 'Omnigate' }), { status: 422, code: 27, parameter: 'recipient' });
});
