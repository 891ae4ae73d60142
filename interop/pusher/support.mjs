// What the pusher interop tests (test.mjs, test-echo.mjs,
// test-pusher-client.mjs) share: the loopback-only DNS guard, the variables
// run.sh sets, the customer's HTTP server on the aux port (auth endpoints
// signed with the `pusher` server SDK, the webhook receiver) with its
// listen/close hooks, and the waiting helpers. Each test keeps its own
// endpoints' specifics (who is refused, what a presence member is).

import { before, after } from 'node:test';
import http from 'node:http';
import dns from 'node:dns';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export const HOST = '127.0.0.1';

// loopbackOnly makes nothing leave loopback: a lookup of anything but
// localhost or a loopback address fails (pusher-js defaults point at
// pusher.com).
export function loopbackOnly() {
  const realLookup = dns.lookup;
  const loopback = (h) => h === 'localhost' || (net.isIPv4(h) && h.startsWith('127.')) || h === '::1';
  dns.lookup = function guardedLookup(hostname, ...rest) {
    if (!loopback(hostname)) {
      throw new Error(`interop harness: refusing to resolve ${hostname}; only loopback is allowed`);
    }
    return realLookup.call(dns, hostname, ...rest);
  };
}

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/pusher/run.sh`);
  return v;
}

// realtimeEnv reads the variables every test gets from run.sh: the
// server's port, the app's id, key and secret, and the aux port the test
// listens on (AUX is its base URL).
export function realtimeEnv() {
  const PORT = Number(env('OMNIGATE_RT_PORT'));
  const APP_ID = env('OMNIGATE_RT_APP_ID');
  const KEY = env('OMNIGATE_RT_KEY');
  const SECRET = env('OMNIGATE_RT_SECRET');
  const AUX_PORT = Number(env('OMNIGATE_RT_AUX_PORT'));
  return { PORT, APP_ID, KEY, SECRET, AUX_PORT, AUX: `http://${HOST}:${AUX_PORT}` };
}

// ---------------------------------------------------------------------------
// The customer's side.

export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJSON(res, value) {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

// ackWebhook is a webhook receiver that acknowledges whatever it gets.
export function ackWebhook(req, res) {
  res.writeHead(200).end('ok');
}

// channelAuthRoute is a channel auth endpoint (a form with socket_id and
// channel_name) signed with the server SDK's authorizeChannel.
// decide(channel, form, req) returns { refuse: { headers, body } } for a
// 403, or else { member } (presence channels sign with it as channel data).
export function channelAuthRoute(api, decide) {
  return (req, res, body) => {
    const form = new URLSearchParams(body);
    const channel = form.get('channel_name');
    const socketId = form.get('socket_id');
    const { refuse, member } = decide(channel, form, req);
    if (refuse) {
      res.writeHead(403, refuse.headers).end(refuse.body);
      return;
    }
    const auth = channel.startsWith('presence-')
      ? api.authorizeChannel(socketId, channel, member)
      : api.authorizeChannel(socketId, channel);
    sendJSON(res, auth);
  };
}

// serveAux serves routes (path → handler(req, res, body), POST only; 404
// otherwise) on HOST:port from before the tests until after them; after
// them it calls beforeClose (to disconnect the clients), then closes the
// server and its keep-alive connections (the SDKs' agents keep some open).
export function serveAux(port, routes, { beforeClose = () => {} } = {}) {
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url, `http://${HOST}:${port}`);
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : null;
    if (req.method === 'POST' && route) {
      route(req, res, body);
      return;
    }
    res.writeHead(404).end();
  });
  before(async () => {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, resolve);
    });
  });
  after(async () => {
    await beforeClose();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections?.();
    await closed;
  });
  return server;
}

// ---------------------------------------------------------------------------
// Waiting.

export async function waitFor(what, cond, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

// eventHelpers makes, for emitters whose methods to add and remove a
// listener are named on and off ('bind'/'unbind' in pusher-js,
// 'on'/'removeListener' in pusher-client):
// - once(target, event, ms): the next emission of event, with a timeout;
// - subscribed(client, name): subscribes and waits for
//   pusher:subscription_succeeded; { channel, data }.
export function eventHelpers(on, off) {
  function once(target, event, ms = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        target[off](event, handler);
        reject(new Error(`timed out waiting for ${event}`));
      }, ms);
      function handler(data) {
        clearTimeout(timer);
        target[off](event, handler);
        resolve(data);
      }
      target[on](event, handler);
    });
  }
  async function subscribed(client, name) {
    const channel = client.subscribe(name);
    const data = await once(channel, 'pusher:subscription_succeeded');
    return { channel, data };
  }
  return { once, subscribed };
}
