// nodemailer sends through omnigate's SMTP submission door: STARTTLS
// (required), AUTH with an access key as the password, a message with an
// attachment; the id in the 250 reply is read back through the API. A
// wrong key is refused with 535, and a test key is validated, not stored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import nodemailer from "nodemailer";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const ca = readFileSync(env("OMNIGATE_CA"));
const port = Number(env("OMNIGATE_SMTP_PORT"));
const from = env("OMNIGATE_FROM");

const transport = (pass) =>
  nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    requireTLS: true,
    tls: { ca, servername: "127.0.0.1" },
    auth: { user: "interop", pass },
  });

const mail = {
  from: `Shop <${from}>`,
  to: "ann@demo.example, bob@demo.example",
  replyTo: "help@shop.example",
  subject: "Your order — café",
  text: "Your order has shipped.",
  html: "<p>Your order has <b>shipped</b>.</p>",
  headers: { "X-Campaign": "interop" },
  attachments: [{ filename: "receipt.txt", content: "total: 12.50 EUR\n" }],
};

function get(path) {
  return new Promise((resolve, reject) => {
    const req = https.get(env("OMNIGATE_URL") + path, { ca, headers: { Authorization: "AccessKey " + env("OMNIGATE_KEY") } }, (r) => {
      let body = "";
      r.on("data", (c) => (body += c));
      r.on("end", () => resolve({ status: r.statusCode, body }));
    });
    req.on("error", reject);
  });
}

test("a message with an attachment is accepted and can be read back", async () => {
  const info = await transport(env("OMNIGATE_KEY")).sendMail(mail);
  const m = /^250 2\.0\.0 OK id=([0-9a-f]{32})/.exec(info.response);
  assert.ok(m, `reply ${info.response}`);
  assert.deepEqual(info.accepted.sort(), ["ann@demo.example", "bob@demo.example"]);
  const r = await get(`/v1/messages/${m[1]}`);
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, new RegExp(m[1]));
});

test("a wrong key is refused with 535", async () => {
  await assert.rejects(transport("live_notakeynotakeynotakey").sendMail(mail), (err) => {
    assert.equal(err.responseCode, 535);
    return true;
  });
});

test("a test key is validated and not stored", async () => {
  const info = await transport(env("OMNIGATE_TEST_KEY")).sendMail(mail);
  const m = /OK id=([0-9a-f]{32}) \(test key/.exec(info.response);
  assert.ok(m, `reply ${info.response}`);
  const r = await get(`/v1/messages/${m[1]}`);
  assert.equal(r.status, 404, r.body);
});
