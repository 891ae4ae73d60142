// Interop test: Laravel Echo 2 (the `laravel-echo` npm package, Laravel's
// browser client) over pusher-js 8 against omnigate's Pusher
// Channels-compatible server, with the `pusher` server SDK playing the
// Laravel application: the /broadcasting/auth endpoint (bearer token →
// user, signed with authorizeChannel, as Laravel's PusherBroadcaster signs)
// and broadcast(...)->toOthers() (trigger with Echo.socketId()).
//
// run.sh runs it after test.mjs against the same server and sets the same
// variables (OMNIGATE_RT_PORT, _APP_ID, _KEY, _SECRET, _AUX_PORT). It
// listens on OMNIGATE_RT_AUX_PORT itself (test.mjs has exited by then) for
// the auth endpoint and the app's webhook, which it acknowledges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import Echo from 'laravel-echo';
import { HOST, ackWebhook, channelAuthRoute, loopbackOnly, realtimeEnv, serveAux, waitFor } from './support.mjs';

const require = createRequire(import.meta.url);

// Nothing may leave loopback (pusher-js defaults point at pusher.com).
loopbackOnly();

const { PORT, APP_ID, KEY, SECRET, AUX_PORT, AUX } = realtimeEnv();

const PusherJS = require('pusher-js');
const Client = PusherJS.default ?? PusherJS;
const Pusher = require('pusher');

const versions = {
  // laravel-echo's exports map does not export its package.json.
  'laravel-echo': JSON.parse(readFileSync(new URL('./node_modules/laravel-echo/package.json', import.meta.url))).version,
  'pusher-js': require('pusher-js/package.json').version,
  pusher: require('pusher/package.json').version,
};
assert.match(versions['laravel-echo'], /^2\./);

const encryptionMasterKeyBase64 = crypto.randomBytes(32).toString('base64');
const api = new Pusher({ appId: APP_ID, key: KEY, secret: SECRET, host: HOST, port: PORT, useTLS: false, timeout: 10000, encryptionMasterKeyBase64 });

// ---------------------------------------------------------------------------
// The Laravel application's side. Users are found by their bearer token
// (Echo's bearerToken option sends "Authorization: Bearer …" to the auth
// endpoint), ids are integers as Eloquent's are; the presence channel's
// user_info is what the channel callback returns ({id, name}), and the
// user_id a string, as pusher-php-server's authorizePresenceChannel(string
// $user_id) makes it.
const users = { 'token-1': { id: 1, name: 'Ann' }, 'token-2': { id: 2, name: 'Bob' }, 'token-3': { id: 3, name: 'Cat' } };
const authRequests = [];
const echos = [];

serveAux(AUX_PORT, {
  '/broadcasting/auth': channelAuthRoute(api, (channel, form, req) => {
    const user = users[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
    authRequests.push({ channel, socketId: form.get('socket_id'), user: user?.id });
    // routes/channels.php: App.Models.User.{id} only for that user; no
    // one may have "forbidden".
    const own = /^private-App\.Models\.User\.(\d+)$/.exec(channel);
    if (!user || channel.endsWith('forbidden') || (own && Number(own[1]) !== user.id)) {
      return { refuse: { headers: { 'content-type': 'application/json' }, body: '{"message":"This action is unauthorized."}' } };
    }
    return { member: { user_id: String(user.id), user_info: { id: user.id, name: user.name } } };
  }),
  '/pusher/webhook': ackWebhook,
}, { beforeClose: () => { for (const e of echos) e.disconnect(); } });

// ---------------------------------------------------------------------------
// Helpers.

// A promise for the first argument of the next call of an Echo callback
// (pusher-js passes event metadata as a second one), with a timeout.
function nextCall(what, ms = 10000) {
  let resolve;
  const p = new Promise((res, rej) => {
    resolve = res;
    setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms).unref();
  });
  return { p, cb: (first) => resolve(first) };
}

// echo makes a Laravel Echo instance the way resources/js/echo.js does,
// with pusher-js passed in (no window.Pusher in node), and waits until it
// is connected.
async function echo(token, { broadcaster = 'pusher' } = {}) {
  const e = new Echo({
    broadcaster,
    Pusher: Client,
    key: KEY,
    cluster: 'mt1', // pusher-js wants one; wsHost overrides it
    wsHost: HOST,
    wsPort: PORT,
    forceTLS: false,
    enabledTransports: ['ws'],
    enableStats: false,
    authEndpoint: `${AUX}/broadcasting/auth`,
    bearerToken: token,
  });
  echos.push(e);
  await waitFor(`Echo (${token}) to connect`, () => e.connectionStatus() === 'connected');
  assert.match(e.socketId(), /^\d+\.\d+$/);
  return e;
}

const subscribed = (channel) => new Promise((resolve, reject) => {
  channel.subscribed(resolve).error((err) => reject(new Error(`subscription error ${JSON.stringify(err)}`)));
});

// ---------------------------------------------------------------------------
// Tests.

test(`versions: laravel-echo ${versions['laravel-echo']}, pusher-js ${versions['pusher-js']}, pusher ${versions.pusher}`, () => {});

test('Echo.channel(...).listen: Laravel event names (App\\Events\\…) on a public channel, and .name', async () => {
  const ann = await echo('token-1');
  const shipped = nextCall('OrderShipped');
  const custom = nextCall('.order.paid');
  const orders = ann.channel('orders').listen('OrderShipped', shipped.cb).listen('.order.paid', custom.cb);
  await subscribed(orders);
  // Laravel's broadcaster names events by class: App\Events\OrderShipped.
  await api.trigger('orders', 'App\\Events\\OrderShipped', { order: { id: 7 } });
  assert.deepEqual(await shipped.p, { order: { id: 7 } });
  await api.trigger('orders', 'order.paid', { id: 7 });
  assert.deepEqual(await custom.p, { id: 7 });
});

test('Echo.private(...).listen and .notification on private-App.Models.User.1 (auth with a bearer token)', async () => {
  const ann = await echo('token-1');
  const shipped = nextCall('OrderShipped');
  const note = nextCall('notification');
  const mine = ann.private('App.Models.User.1').listen('OrderShipped', shipped.cb).notification(note.cb);
  await subscribed(mine);
  const req = authRequests.find((r) => r.channel === 'private-App.Models.User.1' && r.socketId === ann.socketId());
  assert.equal(req?.user, 1, 'the auth endpoint saw the bearer token');
  await api.trigger('private-App.Models.User.1', 'App\\Events\\OrderShipped', { id: 8 });
  assert.deepEqual(await shipped.p, { id: 8 });
  const payload = { id: crypto.randomUUID(), type: 'App\\Notifications\\InvoicePaid', amount: 12.5 };
  await api.trigger('private-App.Models.User.1', 'Illuminate\\Notifications\\Events\\BroadcastNotificationCreated', payload);
  assert.deepEqual(await note.p, payload);

  // Someone else's private channel: the app refuses (403), Echo's error().
  const bob = await echo('token-2');
  const err = nextCall('error');
  bob.private('App.Models.User.1').error(err.cb);
  assert.equal((await err.p).status, 403);
  const err2 = nextCall('error');
  bob.private('forbidden').error(err2.cb);
  assert.equal((await err2.p).status, 403);
});

test('Echo.join(...).here/joining/leaving, whisper/listenForWhisper, and the users API', async () => {
  const ann = await echo('token-1');
  const annHere = nextCall('ann here');
  const joined = nextCall('joining');
  const left = nextCall('leaving');
  const annRoom = ann.join('chat.1').here(annHere.cb).joining(joined.cb).leaving(left.cb);
  assert.deepEqual(await annHere.p, [{ id: 1, name: 'Ann' }]);

  const bob = await echo('token-2');
  const bobHere = nextCall('bob here');
  const bobRoom = bob.join('chat.1').here(bobHere.cb);
  const here = await bobHere.p;
  assert.deepEqual(here.sort((a, b) => a.id - b.id), [{ id: 1, name: 'Ann' }, { id: 2, name: 'Bob' }]);
  assert.deepEqual(await joined.p, { id: 2, name: 'Bob' });

  const users = await (await api.get({ path: '/channels/presence-chat.1/users' })).json();
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['1', '2']);

  // Whispers are client events: bob gets ann's, ann does not get her own.
  let echoed = 0;
  annRoom.listenForWhisper('typing', () => echoed++);
  const typing = nextCall('whisper');
  let meta;
  bobRoom.listenForWhisper('typing', (d, m) => { meta = m; typing.cb(d); });
  annRoom.whisper('typing', { name: 'Ann', typing: true });
  assert.deepEqual(await typing.p, { name: 'Ann', typing: true });
  assert.equal(meta?.user_id, '1', 'a presence whisper carries the sender\'s user_id');
  await delay(150);
  assert.equal(echoed, 0, 'a whisper was echoed to its sender');

  // stopListeningForWhisper: no more calls.
  let after = 0;
  const bobWhisper = nextCall('second whisper');
  bobRoom.stopListeningForWhisper('typing').listenForWhisper('typing', (d) => { after++; bobWhisper.cb(d); });
  annRoom.whisper('typing', { typing: false });
  assert.deepEqual(await bobWhisper.p, { typing: false });
  assert.equal(after, 1);

  // Echo.leave: ann sees bob leave; the users API follows.
  bob.leave('chat.1');
  assert.deepEqual(await left.p, { id: 2, name: 'Bob' });
  await waitFor('one user left', async () => (await (await api.get({ path: '/channels/presence-chat.1/users' })).json()).users.length === 1);
});

test('whisper on a private channel reaches the other subscriber only', async () => {
  const ann = await echo('token-1');
  const bob = await echo('token-2');
  const a = ann.private('project.9');
  const b = bob.private('project.9');
  await Promise.all([subscribed(a), subscribed(b)]);
  let echoed = 0;
  a.listenForWhisper('cursor', () => echoed++);
  const got = nextCall('cursor whisper');
  b.listenForWhisper('cursor', got.cb);
  a.whisper('cursor', { x: 1, y: 2 });
  assert.deepEqual(await got.p, { x: 1, y: 2 });
  await delay(150);
  assert.equal(echoed, 0);
});

test('broadcast(...)->toOthers(): Echo.socketId() as the trigger socket_id excludes the sender', async () => {
  const ann = await echo('token-1');
  const bob = await echo('token-2');
  const annGot = [];
  const bobGot = nextCall('bob MessagePosted');
  const a = ann.join('chat.2').listen('MessagePosted', (d) => annGot.push(d));
  const b = bob.join('chat.2').listen('MessagePosted', bobGot.cb);
  await Promise.all([subscribed(a), subscribed(b)]);
  // What Laravel does for toOthers(): the X-Socket-ID header Echo's
  // interceptors add (axios …) becomes the trigger's socket_id.
  const res = await api.trigger('presence-chat.2', 'App\\Events\\MessagePosted', { body: 'hi' }, { socket_id: ann.socketId() });
  assert.equal(res.status, 200);
  assert.deepEqual(await bobGot.p, { body: 'hi' });
  await delay(150);
  assert.deepEqual(annGot, [], 'the sender got its own toOthers() event');
  // Without socket_id both get it.
  const both = nextCall('ann MessagePosted');
  a.listen('MessagePosted', both.cb);
  await api.trigger('presence-chat.2', 'App\\Events\\MessagePosted', { body: 'all' });
  assert.deepEqual(await both.p, { body: 'all' });
});

test('Echo.encryptedPrivate: end-to-end encrypted events decrypted by pusher-js', async () => {
  const ann = await echo('token-1');
  const got = nextCall('encrypted event');
  const vault = ann.encryptedPrivate('vault.1').listen('SecretShared', got.cb);
  await subscribed(vault);
  await api.trigger('private-encrypted-vault.1', 'App\\Events\\SecretShared', { code: 42 });
  assert.deepEqual(await got.p, { code: 42 });
});

test('listenToAll and stopListening', async () => {
  const ann = await echo('token-1');
  const all = [];
  let stopped = 0;
  const ch = ann.channel('feed').listenToAll((name, data) => all.push([name, data])).listen('Ping', () => stopped++);
  await subscribed(ch);
  await api.trigger('feed', 'App\\Events\\Ping', 1);
  await api.trigger('feed', 'raw-name', 2);
  await waitFor('both events', () => all.length === 2);
  // Echo strips its namespace, and marks names outside it with a dot.
  assert.deepEqual(all, [['Ping', 1], ['.raw-name', 2]]);
  ch.stopListening('Ping');
  await api.trigger('feed', 'App\\Events\\Ping', 3);
  await waitFor('the third event', () => all.length === 3);
  assert.equal(stopped, 1);
});

test("broadcaster 'reverb' (pusher-js without a cluster), onConnectionChange and disconnect", async () => {
  const e = await echo('token-3', { broadcaster: 'reverb' });
  const got = nextCall('reverb event');
  const ch = e.channel('orders').listen('OrderShipped', got.cb);
  await subscribed(ch);
  await api.trigger('orders', 'App\\Events\\OrderShipped', { via: 'reverb' });
  assert.deepEqual(await got.p, { via: 'reverb' });
  const states = [];
  // Echo 2 has onConnectionChange on its connector, not on Echo itself.
  const off = e.connector.onConnectionChange((s) => states.push(s));
  e.disconnect();
  await waitFor('disconnected', () => e.connectionStatus() === 'disconnected');
  off();
  assert.ok(states.includes('disconnected'), JSON.stringify(states));
  // Only the first test's Echo is left on "orders".
  await waitFor('the reverb client to leave orders', async () =>
    (await (await api.get({ path: '/channels/orders', params: { info: 'subscription_count' } })).json()).subscription_count === 1);
});
