// Interop test: `pusher-client` 1.1 (an old, independent Node
// implementation of the Pusher WebSocket protocol, on the `ws` and
// `request` packages; it does not share code with pusher-js) against
// omnigate's Pusher Channels-compatible server: connect, public, private
// (auth endpoint, or signed locally with the secret) and presence channels,
// events from the `pusher` server SDK, client events, pusher:ping/pong.
//
// run.sh runs it after test-echo.mjs against the same server and sets the
// same variables. It listens on OMNIGATE_RT_AUX_PORT for the auth endpoint
// and the app's webhook (acknowledged).
//
// pusher-client's own quirks, worked around below with a comment each:
// - its handshake reads the server's first frame only; everything else
//   goes through the socket's addEventListener, for which ws 8 knows only
//   message/close/error/open, so its 'ping'/'pong' (WebSocket-level)
//   listeners never fire;
// - it never answers a server's pusher:ping with pusher:pong (it only
//   emits 'ping');
// - it has no way to wait for a connection but its 'connected' event.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { HOST, ackWebhook, channelAuthRoute, eventHelpers, loopbackOnly, realtimeEnv, serveAux, waitFor } from './support.mjs';

const require = createRequire(import.meta.url);

loopbackOnly();

const { PORT, APP_ID, KEY, SECRET, AUX_PORT, AUX } = realtimeEnv();

const PusherClient = require('pusher-client');
const Pusher = require('pusher');
const versions = {
  'pusher-client': require('pusher-client/package.json').version,
  ws: require('ws/package.json').version,
  pusher: require('pusher/package.json').version,
};
assert.equal(versions['pusher-client'], '1.1.0');
// pusher-client prints every error with console.log (Pusher.warn); keep
// them, for the test log, but with a prefix.
PusherClient.warn = (...args) => console.log('# pusher-client warn:', ...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))));

const api = new Pusher({ appId: APP_ID, key: KEY, secret: SECRET, host: HOST, port: PORT, useTLS: false, timeout: 10000 });

// ---------------------------------------------------------------------------
// The auth endpoint pusher-client's authEndpoint option posts to (form:
// socket_id, channel_name, and auth.params), and the webhook.

const authRequests = [];
const clients = [];

serveAux(AUX_PORT, {
  '/pusher/auth': channelAuthRoute(api, (channel, form) => {
    authRequests.push(Object.fromEntries(form));
    if (channel === 'private-forbidden') return { refuse: { body: 'forbidden' } };
    return { member: { user_id: form.get('user'), user_info: { via: 'endpoint' } } };
  }),
  '/pusher/webhook': ackWebhook,
}, { beforeClose: () => { for (const c of clients) c.disconnect(); } });

// ---------------------------------------------------------------------------
// Helpers.

// once: the next emission of an event on a pusher-client emitter;
// subscribed subscribes a client and waits for pusher:subscription_succeeded.
const { once, subscribed } = eventHelpers('on', 'removeListener');

// client connects a pusher-client with the given options on top of the
// server's address; `user` goes to the auth endpoint.
async function client(options = {}) {
  const c = new PusherClient(KEY, {
    host: HOST,
    wsPort: PORT,
    encrypted: false,
    authEndpoint: `${AUX}/pusher/auth`,
    ...options,
  });
  clients.push(c);
  if (c.connection.state !== 'connected') await once(c.connection, 'connected');
  assert.match(c.connection.socket_id, /^\d+\.\d+$/);
  return c;
}

const channelInfo = async (name, info) => (await api.get({ path: `/channels/${name}`, params: info ? { info } : {} })).json();

// ---------------------------------------------------------------------------
// Tests.

test(`versions: pusher-client ${versions['pusher-client']}, ws ${versions.ws}, pusher ${versions.pusher}`, () => {});

test('connect: pusher:connection_established, activity_timeout; a wrong key is refused (4001)', async () => {
  const c = await client();
  // pusher-client takes the smaller of its own activityTimeout and the
  // server's (seconds → ms).
  assert.equal(c.connection.activityTimeout, 120 * 1000);
  assert.equal(c.connection.state, 'connected');

  const bad = new PusherClient('no-such-key', { host: HOST, wsPort: PORT, encrypted: false });
  clients.push(bad);
  // The error comes with the handshake's pusher:error frame: 4001 makes
  // pusher-client give up (disconnected, no retry).
  await once(bad.connection, 'disconnected');
  assert.equal(bad.connection.socket_id, null);
});

test('public channel: SDK events, multi-channel trigger, global bind; unsubscribe', async () => {
  const c = await client();
  const { channel } = await subscribed(c, 'pc-news');
  const got = once(channel, 'update');
  await api.trigger('pc-news', 'update', { n: 1, text: 'héllo' });
  assert.deepEqual(await got, { n: 1, text: 'héllo' });
  // A string that is not JSON stays a string.
  const plain = once(channel, 'plain');
  await api.trigger('pc-news', 'plain', 'just text');
  assert.equal(await plain, 'just text');
  // Pusher.bind: the event on any channel.
  await subscribed(c, 'pc-sport');
  const globals = [];
  c.bind('multi', (d) => globals.push(d));
  await api.trigger(['pc-news', 'pc-sport'], 'multi', { m: 1 });
  await waitFor('two multi events', () => globals.length === 2);
  assert.deepEqual(globals, [{ m: 1 }, { m: 1 }]);
  assert.deepEqual(await channelInfo('pc-news', 'subscription_count'), { occupied: true, subscription_count: 1 });
  c.unsubscribe('pc-news');
  await waitFor('pc-news vacated', async () => (await channelInfo('pc-news')).occupied === false);
});

test('private channel: through the auth endpoint (form post with auth.params), and a 403', async () => {
  const c = await client({ auth: { params: { user: 'u1' } } });
  const { channel } = await subscribed(c, 'private-pc-room');
  const req = authRequests.find((r) => r.channel_name === 'private-pc-room');
  assert.deepEqual(req, { socket_id: c.connection.socket_id, channel_name: 'private-pc-room', user: 'u1' });
  const got = once(channel, 'secret');
  await api.trigger('private-pc-room', 'secret', { ok: true });
  assert.deepEqual(await got, { ok: true });
  const refused = c.subscribe('private-forbidden');
  assert.equal(await once(refused, 'pusher:subscription_error'), 403);
});

test('private channel: signed locally with the secret; a wrong secret gets pusher:subscription_error', async () => {
  const c = await client({ secret: SECRET, authEndpoint: null });
  const { channel } = await subscribed(c, 'private-pc-local');
  const got = once(channel, 'e');
  await api.trigger('private-pc-local', 'e', [1, 2, 3]);
  assert.deepEqual(await got, [1, 2, 3]);

  const wrong = await client({ secret: 'not-the-secret', authEndpoint: null });
  const ch = wrong.subscribe('private-pc-local');
  const err = await once(ch, 'pusher:subscription_error');
  assert.equal(err.status, 401, JSON.stringify(err));
  assert.equal(ch.subscribed, false);
  assert.equal(wrong.connection.state, 'connected', 'the connection stays after a refused subscription');
});

test('presence channel (signed locally): members, member_added, member_removed', async () => {
  const ann = await client({ secret: SECRET, authEndpoint: null, channel_data: { user_id: 'ann', user_info: { name: 'Ann' } } });
  const a = await subscribed(ann, 'presence-pc');
  assert.equal(a.data.count, 1);
  assert.deepEqual(a.data.me, { id: 'ann', info: { name: 'Ann' } });

  const added = once(a.channel, 'pusher:member_added');
  // The endpoint's presence auth this time (user_id from auth.params).
  const bob = await client({ auth: { params: { user: 'bob' } } });
  const b = await subscribed(bob, 'presence-pc');
  assert.equal(b.data.count, 2);
  assert.deepEqual(b.data.get('ann'), { id: 'ann', info: { name: 'Ann' } });
  assert.deepEqual(b.data.me, { id: 'bob', info: { via: 'endpoint' } });
  assert.deepEqual(await added, { id: 'bob', info: { via: 'endpoint' } });
  assert.equal(a.channel.members.count, 2);

  const removed = once(a.channel, 'pusher:member_removed');
  bob.disconnect();
  assert.deepEqual(await removed, { id: 'bob', info: { via: 'endpoint' } });
  assert.equal(a.channel.members.count, 1);
});

test('presence channel: an integer user_id (what older server SDKs sign) is accepted', async () => {
  // pusher-client signs whatever channel_data it is given; older
  // pusher-php-server versions put Laravel's integer ids in as numbers.
  const c = await client({ secret: SECRET, authEndpoint: null, channel_data: { user_id: 7, user_info: { name: 'Seven' } } });
  const ch = c.subscribe('presence-pc-int');
  const result = await Promise.race([
    once(ch, 'pusher:subscription_succeeded').then((m) => ({ ok: m })),
    once(ch, 'pusher:subscription_error').then((e) => ({ err: e })),
  ]);
  assert.ok(result.ok, `subscription refused: ${JSON.stringify(result.err)}`);
  assert.equal(result.ok.count, 1);
  const users = await (await api.get({ path: '/channels/presence-pc-int/users' })).json();
  assert.equal(users.users.length, 1);
  assert.equal(String(users.users[0].id), '7');
});

test('client events: private and presence, not echoed, with user_id on presence', async () => {
  const ann = await client({ secret: SECRET, authEndpoint: null, channel_data: { user_id: 'ce-ann' } });
  const bob = await client({ secret: SECRET, authEndpoint: null, channel_data: { user_id: 'ce-bob' } });
  const a = await subscribed(ann, 'private-pc-chat');
  const b = await subscribed(bob, 'private-pc-chat');
  let echoed = 0;
  a.channel.on('client-msg', () => echoed++);
  const got = once(b.channel, 'client-msg');
  assert.equal(a.channel.trigger('client-msg', { text: 'hi' }), true);
  assert.deepEqual(await got, { text: 'hi' });

  const ap = await subscribed(ann, 'presence-pc-chat');
  const bp = await subscribed(bob, 'presence-pc-chat');
  ap.channel.on('client-msg', () => echoed++);
  // pusher-client hands channel handlers the data only; the frame's
  // user_id is seen on the raw message.
  const raw = new Promise((resolve) => bob.connection.on('message', (m) => { if (m.event === 'client-typing') resolve(m); }));
  ap.channel.trigger('client-typing', { typing: true });
  const frame = await raw;
  assert.equal(frame.channel, 'presence-pc-chat');
  assert.deepEqual(frame.data, { typing: true });
  assert.equal(frame.user_id, 'ce-ann');
  void bp;
  await delay(150);
  assert.equal(echoed, 0, 'a client event was echoed to its sender');

  // On a public channel a client event is not delivered.
  await subscribed(ann, 'pc-open');
  const bo = await subscribed(bob, 'pc-open');
  let leaked = 0;
  bo.channel.on('client-open', () => leaked++);
  const errs = [];
  ann.connection.on('error', (e) => errs.push(e));
  ann.channel('pc-open').trigger('client-open', {});
  await waitFor('a pusher:error for the public client event', () => errs.some((e) => e.type === 'PusherError'));
  await delay(100);
  assert.equal(leaked, 0);
  assert.equal(ann.connection.state, 'connected');
});

test('ping and pong: pusher:ping answered with pusher:pong, WebSocket ping with a pong frame', async () => {
  const c = await client();
  const pong = once(c.connection, 'pong');
  c.sendEvent('pusher:ping', {});
  await pong;
  // WebSocket-level: what pusher-client itself sends after activity_timeout
  // of silence. Its own 'pong' listener is dead with ws 8 (see the top), so
  // the test listens on the socket.
  const ws = c.connection.connection;
  const frame = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping(Buffer.from('hi'));
  assert.equal((await frame).toString(), 'hi');
  assert.equal(c.connection.state, 'connected');
});

test('disconnect and reconnect: channels are subscribed again', async () => {
  const c = await client();
  const { channel } = await subscribed(c, 'pc-again');
  const first = c.connection.socket_id;
  c.disconnect();
  await waitFor('pc-again vacated', async () => (await channelInfo('pc-again')).occupied === false);
  const again = once(channel, 'pusher:subscription_succeeded');
  c.connect();
  await once(c.connection, 'connected');
  await again;
  assert.notEqual(c.connection.socket_id, first);
  const got = once(channel, 'back');
  await api.trigger('pc-again', 'back', { ok: 1 });
  assert.deepEqual(await got, { ok: 1 });
});
