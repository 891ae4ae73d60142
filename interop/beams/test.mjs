// The official Pusher Beams server SDK (@pusher/push-notifications-server,
// pinned by package-lock.json) against omnigate, unchanged but for its
// documented `endpoint` and `port` options (with `endpoint` it speaks plain
// HTTP to that host instead of https://{instanceId}.pushnotifications.pusher.com).
// Devices are registered through the device API as the client SDKs do; the
// deliveries go to omnigate's APNs and FCM simulators (--push-simulator)
// and are counted by omnigate_push_deliveries_total.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const PushNotifications = require("@pusher/push-notifications-server");

const port = Number(process.env.OMNIGATE_BEAMS_PORT);
const instanceId = process.env.OMNIGATE_BEAMS_INSTANCE;
const secretKey = process.env.OMNIGATE_BEAMS_SECRET;
const base = `http://127.0.0.1:${port}`;
const beams = new PushNotifications({ instanceId, secretKey, endpoint: "127.0.0.1", port });

async function device(method, path, body, headers = {}) {
  const r = await fetch(`${base}/device_api/v1/instances/${instanceId}/devices/${path}`, {
    method, headers: { "Content-Type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

async function delivered(platform) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`omnigate_push_deliveries_total\\{outcome="delivered",platform="${platform}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

async function until(what, cond) {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} did not happen within 15 s`);
}

const apnsToken = "6e1326c0e4758b54332fab3b3cb2f9ed92e2cd332e9ba8182f49027054b64d29";

test("publishToInterests reaches APNs and FCM devices", async () => {
  const ios = await device("POST", "apns", { token: apnsToken, bundleIdentifier: "com.example.omnigate", metadata: { sdkVersion: "interop" } });
  assert.equal(ios.status, 200, JSON.stringify(ios.body));
  const android = await device("POST", "fcm", { token: "fcm-interop-token", metadata: { sdkVersion: "interop" } });
  assert.equal(android.status, 200);
  assert.equal((await device("PUT", `apns/${ios.body.id}/interests`, { interests: ["donuts"] })).status, 200);
  assert.equal((await device("POST", `fcm/${android.body.id}/interests/donuts`)).status, 200);
  const apns0 = await delivered("apns"), fcm0 = await delivered("fcm");
  const res = await beams.publishToInterests(["donuts"], {
    apns: { aps: { alert: { title: "Hello", body: "Hello, world!" } } },
    fcm: { notification: { title: "Hello", body: "Hello, world!" } },
    web: { notification: { title: "Hello", body: "Hello, world!" } },
  });
  assert.match(res.publishId, /^pubid-/);
  await until("both deliveries", async () => (await delivered("apns")) > apns0 && (await delivered("fcm")) > fcm0);
});

test("generateToken's token binds a device to a user; publishToUsers and deleteUser", async () => {
  const d = await device("POST", "fcm", { token: "fcm-interop-alice" });
  const { token } = beams.generateToken("alice");
  const set = await device("PUT", `fcm/${d.body.id}/user_id`, undefined, { Authorization: `Bearer ${token}` });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const forged = new PushNotifications({ instanceId, secretKey: "not-the-secret-key", endpoint: "127.0.0.1", port }).generateToken("mallory");
  const refused = await device("PUT", `fcm/${d.body.id}/user_id`, undefined, { Authorization: `Bearer ${forged.token}` });
  assert.equal(refused.status, 401);
  assert.ok(refused.body.error && refused.body.description, JSON.stringify(refused.body));

  const fcm0 = await delivered("fcm");
  const res = await beams.publishToUsers(["alice"], { fcm: { notification: { title: "Hi Alice" }, data: { n: 1 } } });
  assert.match(res.publishId, /^pubid-/);
  await until("the delivery to alice", async () => (await delivered("fcm")) > fcm0);

  await beams.deleteUser("alice");
  assert.equal((await device("GET", `fcm/${d.body.id}`)).status, 404);
});

test("errors come back in Beams' shape through the SDK", async () => {
  const wrong = new PushNotifications({ instanceId, secretKey: "wrong", endpoint: "127.0.0.1", port });
  await assert.rejects(wrong.publishToInterests(["donuts"], { fcm: { notification: { title: "x" } } }), /^Error: 401 Unauthorized - /);
  await assert.rejects(beams.publishToInterests(["donuts"], {}), /^Error: 400 Bad Request - /);
  await assert.rejects(beams.publishToInterests(["donuts"], { fcm: { data: { x: "y".repeat(11000) } } }), /^Error: 413 /);
});

// Web Push, checked independently: this test is the browser's push service
// (a loopback HTTP server; omnigate allows http endpoints on loopback only)
// and the browser behind it: http_ece decrypts each message with the
// subscription's private key, and node's crypto verifies the VAPID JWT.
const ece = require("http_ece");
const crypto = require("node:crypto");
const http = require("node:http");
const b64u = (b) => Buffer.from(b).toString("base64url");
const unb64u = (s) => Buffer.from(s, "base64url");

test("publishToInterests reaches a browser: aes128gcm and VAPID verified by independent code", async () => {
  const receiver = crypto.createECDH("prime256v1");
  receiver.generateKeys();
  const auth = crypto.randomBytes(16);
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const origin = `http://127.0.0.1:${server.address().port}`;
    const sub = { endpoint: `${origin}/push/abc`, keys: { p256dh: b64u(receiver.getPublicKey()), auth: b64u(auth) } };
    const d = await device("POST", "web", { token: JSON.stringify(sub) });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.match(d.body.id, /^web-/);
    assert.equal((await device("PUT", `web/${d.body.id}/interests`, { interests: ["bagels"] })).status, 200);

    await beams.publishToInterests(["bagels"], {
      web: { notification: { title: "Bagels", body: "fresh", deep_link: "https://example.com" }, data: { k: "v" }, time_to_live: 120 },
    });
    await until("the push message", async () => got.length === 1);
    const m = got[0];
    assert.equal(m.headers["content-encoding"], "aes128gcm");
    assert.equal(m.headers.ttl, "120");
    const plain = JSON.parse(ece.decrypt(m.body, { version: "aes128gcm", privateKey: receiver, authSecret: b64u(auth) }).toString());
    assert.equal(plain.notification.title, "Bagels");
    assert.equal(plain.data.k, "v");

    const [, t, k] = m.headers.authorization.match(/^vapid t=([^,\s]+),\s*k=(\S+)$/) ?? [];
    assert.ok(t && k, `Authorization ${m.headers.authorization}`);
    const [h, p, sig] = t.split(".");
    const point = unb64u(k);
    const key = crypto.createPublicKey({ format: "jwk", key: { kty: "EC", crv: "P-256", x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) } });
    assert.ok(crypto.verify("sha256", Buffer.from(h + "." + p), { key, dsaEncoding: "ieee-p1363" }, unb64u(sig)), "the VAPID JWT does not verify");
    const claims = JSON.parse(unb64u(p));
    assert.equal(claims.aud, origin);
    assert.ok(claims.exp > Date.now() / 1000 && claims.exp < Date.now() / 1000 + 24 * 3600, `exp ${claims.exp}`);
    assert.match(claims.sub, /^(mailto|https):/);
  } finally {
    server.close();
  }
});
