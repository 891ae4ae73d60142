// The independent checks of omnigate's Web Push (run by run.sh):
//  1. the npm web-push library (its own VAPID and aes128gcm encryption)
//     sends to omnigate's Web Push simulator, which must verify the JWT
//     and decrypt every message; the simulator's errors (403 for another
//     application server's key, 429 with Retry-After, 410 after
//     unsubscribe) reach web-push as a push service's would;
//  2. bodies that omnigate's webpush.Encrypt made are decrypted by the npm
//     http_ece library with the subscription's private key, and omnigate's
//     VAPID JWT is verified by node's own crypto (ES256, IEEE P1363).
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import webpush from 'web-push';
import ece from 'http_ece';

const helper = process.env.GOHELPER;
assert.ok(helper, 'GOHELPER is not set');
const b64u = (b) => Buffer.from(b).toString('base64url');
const unb64u = (s) => Buffer.from(s, 'base64url');
let checks = 0;
const ok = (what) => { checks++; console.log('ok', what); };

// ---- 1. web-push → the simulator ----------------------------------------
const vapid = webpush.generateVAPIDKeys();
const other = webpush.generateVAPIDKeys();
const subject = 'mailto:interop@example.com';
const sim = spawn(helper, ['sim', vapid.publicKey, process.env.TLS_CERT, process.env.TLS_KEY], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: sim.stdout })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  assert.ok(!done, 'the simulator stopped');
  return JSON.parse(value);
};
const command = async (cmd) => { sim.stdin.write(cmd + '\n'); const r = await next(); assert.ok(!r.error, r.error); return r; };

try {
  const { bound, open } = await next();
  const opts = (keys, extra = {}) => ({
    vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
    contentEncoding: 'aes128gcm', ...extra,
  });
  const payloads = [
    Buffer.from('When I grow up, I want to be a watermelon'),
    Buffer.from(JSON.stringify({ notification: { title: 'omnigate', body: 'Grüße ✓' } })),
    crypto.randomBytes(3000),
  ];
  for (const p of payloads) {
    const res = await webpush.sendNotification(bound, p, opts(vapid, { TTL: 120, urgency: 'high', topic: 'interop1' }));
    assert.equal(res.statusCode, 201);
  }
  // No payload: a push without a body.
  assert.equal((await webpush.sendNotification(bound, null, opts(vapid, { TTL: 0 }))).statusCode, 201);
  const { messages } = await command('messages ' + bound.endpoint);
  assert.equal(messages.length, payloads.length + 1);
  payloads.forEach((p, i) => {
    const m = messages[i];
    assert.equal(m.err, undefined, `message ${i}: ${m.err}`);
    assert.ok(unb64u(m.plaintext).equals(p), `message ${i} decrypted differently`);
    assert.deepEqual([m.ttl, m.urgency, m.topic, m.vapidKey], [120, 'high', 'interop1', vapid.publicKey]);
  });
  assert.equal(messages[payloads.length].plaintext, '');
  assert.equal(messages[payloads.length].urgency, 'normal');
  ok(`web-push → simulator: ${messages.length} messages verified (VAPID) and decrypted (aes128gcm), TTL/Urgency/Topic read`);

  const status = async (sub, payload, o) => {
    try { return (await webpush.sendNotification(sub, payload, o)).statusCode; } catch (e) {
      if (!(e instanceof webpush.WebPushError)) throw e;
      return { status: e.statusCode, retryAfter: e.headers['retry-after'], body: e.body };
    }
  };
  let r = await status(bound, 'x', opts(other));
  assert.equal(r.status, 403, JSON.stringify(r));
  ok('another application server key on a bound subscription: 403');
  assert.equal(await status(open, 'x', opts(other)), 201);
  ok('any valid VAPID key on an open subscription: 201');

  // A JWT with an aud of another origin.
  const bad = webpush.getVapidHeaders('https://other.example', subject, vapid.publicKey, vapid.privateKey, 'aes128gcm');
  r = await status(open, 'x', { headers: { Authorization: bad.Authorization }, contentEncoding: 'aes128gcm' });
  assert.equal(r.status, 401, JSON.stringify(r));
  ok('a JWT for another audience: 401 ' + JSON.parse(r.body).message);

  await command('fail 429 7');
  r = await status(open, 'x', opts(vapid));
  assert.equal(r.status, 429);
  assert.equal(r.retryAfter, '7');
  ok('injected 429 with Retry-After: 7');

  await command('unsubscribe ' + bound.endpoint);
  r = await status(bound, 'x', opts(vapid));
  assert.equal(r.status, 410);
  ok('unsubscribed endpoint: 410 Gone');
} finally {
  sim.stdin.end();
  sim.kill();
}

// ---- 2. omnigate's Encrypt and VAPID → http_ece and node's crypto ----------
const out = JSON.parse(execFileSync(helper, ['encrypt'], { encoding: 'utf8' }));
const receiver = crypto.createECDH('prime256v1');
receiver.setPrivateKey(unb64u(out.privateKey));
assert.equal(b64u(receiver.getPublicKey()), out.subscription.keys.p256dh);
for (const s of out.samples) {
  const body = unb64u(s.body);
  assert.ok(body.length <= 4096, `body of ${body.length} bytes`);
  const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: receiver, authSecret: out.subscription.keys.auth });
  assert.ok(plain.equals(unb64u(s.plaintext)), `a ${unb64u(s.plaintext).length}-byte payload decrypted differently`);
}
// A damaged body must not decrypt (so the check above can fail).
const damaged = unb64u(out.samples[2].body); damaged[damaged.length - 1] ^= 1;
assert.throws(() => ece.decrypt(damaged, { version: 'aes128gcm', privateKey: receiver, authSecret: out.subscription.keys.auth }));
ok(`http_ece decrypts omnigate's aes128gcm bodies (${out.samples.map((s) => unb64u(s.plaintext).length).join(', ')} bytes)`);

const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(out.vapid.authorization);
assert.ok(m, 'Authorization is not "vapid t=…, k=…": ' + out.vapid.authorization);
const [, jwt, k] = m;
assert.equal(k, out.vapid.publicKey);
const point = unb64u(k);
assert.equal(point.length, 65);
const key = crypto.createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) } });
const [h, p, sig] = jwt.split('.');
const verify = (signature) => crypto.verify('sha256', Buffer.from(h + '.' + p), { key, dsaEncoding: 'ieee-p1363' }, signature);
assert.ok(verify(unb64u(sig)), 'the VAPID JWT does not verify');
const forged = unb64u(sig); forged[5] ^= 1;
assert.ok(!verify(forged), 'a damaged signature verified');
const head = JSON.parse(unb64u(h)), claims = JSON.parse(unb64u(p));
assert.equal(head.alg, 'ES256');
assert.equal(claims.aud, out.vapid.audience);
assert.equal(claims.sub, out.vapid.subject);
const now = Date.now() / 1000;
assert.ok(claims.exp > now && claims.exp <= now + 24 * 3600, `exp ${claims.exp} is not within 24 h`);
ok(`node crypto verifies omnigate's VAPID JWT (ES256; aud ${claims.aud}, exp in ${Math.round((claims.exp - now) / 3600)} h)`);

console.log(`webpush interop: ${checks} checks passed`);
