// Interop test: the official `messagebird` Node SDK (4.0.1, unmodified) and
// its `conversations` methods against omnigate's Conversations API: send,
// start, list, read, update, reply, listMessages, readMessage and webhooks
// CRUD, plus a conversation webhook delivery checked with the SDK's own
// JWT verifier. run.sh starts the server and runs this file after test.mjs
// with the same environment, and OMNIGATE_CHANNEL: the id of an sms
// channel of the account (`omnigate channel add`).
//
// The SDK calls https.request({hostname: 'conversations.messagebird.com'})
// on port 443. As in test.mjs, the harness does what a hosts-file entry
// does: https.globalAgent resolves that name to 127.0.0.1 and connects to
// OMNIGATE_URL's port; the certificate is checked against the name. Any
// other host is refused, so nothing leaves loopback.

import { test } from 'node:test';
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
const SIGNING_KEY = env('OMNIGATE_SIGNING_KEY');
const CHANNEL = env('OMNIGATE_CHANNEL');
const CA = readFileSync(env('OMNIGATE_CA'));
assert.equal(API.hostname, '127.0.0.1', 'OMNIGATE_URL must be on loopback (127.0.0.1)');

const SDK_HOST = 'conversations.messagebird.com';
const agent = new https.Agent({
  keepAlive: true,
  ca: CA,
  lookup(hostname, options, callback) {
    if (hostname !== SDK_HOST) {
      callback(new Error(`interop harness: refusing to resolve ${hostname}; only ${SDK_HOST} goes to omnigate`));
    } else if (options && options.all) {
      callback(null, [{ address: API.hostname, family: 4 }]);
    } else {
      callback(null, API.hostname, 4);
    }
  },
});
agent.defaultPort = Number(API.port);
https.globalAgent = agent;

const messagebird = require('messagebird');
const { verify: verifyJWT } = require('messagebird/lib/webhook-signature-jwt');
const live = messagebird.initClient(LIVE_KEY, 10000);
const conv = live.conversations;

function call(method, ...args) {
  return new Promise((resolve, reject) => {
    method(...args, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function rejectsWithApiError(promise, { status, code, parameter }) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.statusCode, status, `HTTP status (${err.message})`);
    assert.equal(err.errors[0].code, code, `error code (${err.message})`);
    if (parameter !== undefined) assert.equal(err.errors[0].parameter, parameter, `error parameter (${err.message})`);
    return true;
  });
}

async function waitFor(what, check, { timeoutMs = 15000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

const HEX32 = /^[0-9a-f]{32}$/;
const TO = '+31612345670';

test('send, start, list, read, reply, listMessages, readMessage, update', async () => {
  const sent = await call(conv.send, { to: TO, from: CHANNEL, type: 'text', content: { text: 'Your order shipped' } });
  assert.match(sent.id, HEX32);
  assert.equal(sent.status, 'accepted');

  const c = await call(conv.start, { to: TO, channelId: CHANNEL, type: 'text', content: { text: 'Track it here' }, source: { crm: 'x' } });
  assert.match(c.id, HEX32);
  assert.equal(c.status, 'active');
  assert.equal(c.contact.msisdn, 31612345670);
  assert.equal(c.contactId, c.contact.id);
  assert.equal(c.channels[0].id, CHANNEL);
  assert.equal(c.lastUsedChannelId, CHANNEL);
  assert.equal(c.messages.totalCount, 2, 'the /v1/send message opened it; start continued it');

  const list = await call(conv.list, 20, 0);
  assert.equal(list.offset, 0);
  assert.equal(list.limit, 20);
  assert.ok(list.items.some((it) => it.id === c.id));
  assert.equal((await call(conv.read, c.id)).id, c.id);

  const reply = await call(conv.reply, c.id, { type: 'text', content: { text: 'Anything else?' } });
  assert.match(reply.id, HEX32);
  assert.equal(reply.conversationId, c.id);
  assert.equal(reply.channelId, CHANNEL);
  assert.equal(reply.direction, 'sent');
  assert.equal(reply.content.text, 'Anything else?');

  const msgs = await call(conv.listMessages, c.id, 10, 0);
  assert.equal(msgs.totalCount, 3);
  assert.equal(msgs.items[0].id, reply.id, 'newest first');
  assert.ok(msgs.items.every((m) => m.conversationId === c.id && m.platform === 'sms'));

  await waitFor('the reply delivered', async () => (await call(conv.readMessage, reply.id)).status === 'delivered');

  const archived = await call(conv.update, c.id, { status: 'archived' });
  assert.equal(archived.status, 'archived');
  const active = await call(conv.update, c.id, { status: 'active' });
  assert.equal(active.status, 'active');

  await rejectsWithApiError(call(conv.start, { to: TO, channelId: 'f'.repeat(32), type: 'text', content: { text: 'x' } }),
    { status: 422, code: 10, parameter: 'channelId' });
  await rejectsWithApiError(call(conv.update, c.id, { status: 'closed' }), { status: 422, code: 10, parameter: 'status' });
  await rejectsWithApiError(call(conv.read, 'f'.repeat(32)), { status: 404, code: 20 });
});

test('webhooks CRUD, and a signed conversation event the SDK verifies', async () => {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: `http://${req.headers.host}${req.url}`, body: Buffer.concat(chunks), headers: req.headers });
      res.end('ok');
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${srv.address().port}/conv-events?tenant=acme`;
    const wh = await call(conv.webhooks.create, { channelId: CHANNEL, url, events: ['conversation.created', 'message.created'] });
    assert.match(wh.id, HEX32);
    assert.equal(wh.status, 'enabled');
    assert.equal(wh.url, url);
    assert.deepEqual(wh.events, ['conversation.created', 'message.created']);
    assert.equal((await call(conv.webhooks.read, wh.id)).id, wh.id);
    const list = await call(conv.webhooks.list, 10, 0);
    assert.ok(list.items.some((w) => w.id === wh.id));

    const c = await call(conv.start, { to: '+31612345671', channelId: CHANNEL, type: 'text', content: { text: 'Hello' } });
    const ev = await waitFor('the conversation.created event', () => got.find((g) => JSON.parse(g.body).type === 'conversation.created'));
    const body = JSON.parse(ev.body);
    assert.equal(body.conversation.id, c.id);
    assert.equal(body.contact.id, c.contactId);
    const key = createSecretKey(Buffer.from(SIGNING_KEY, 'utf8'));
    assert.equal(await verifyJWT(ev.url, ev.body, ev.headers['messagebird-signature-jwt'], key), true);
    await assert.rejects(verifyJWT(ev.url, Buffer.from('{"type":"x"}'), ev.headers['messagebird-signature-jwt'], key), /payload/);
    const created = await waitFor('the message.created event', () => got.find((g) => JSON.parse(g.body).type === 'message.created'));
    assert.equal(JSON.parse(created.body).message.conversationId, c.id);

    const upd = await call(conv.webhooks.update, wh.id, { status: 'disabled' });
    assert.equal(upd.status, 'disabled');
    await rejectsWithApiError(call(conv.webhooks.create, { url, events: ['message.deleted'] }), { status: 422, code: 10, parameter: 'events[0]' });
    assert.equal(await call(conv.webhooks.delete, wh.id), true);
    await rejectsWithApiError(call(conv.webhooks.read, wh.id), { status: 404, code: 20 });
  } finally {
    srv.close();
  }
});
