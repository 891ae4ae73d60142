// Kannel as a customer's gateway in front of omnigate's SMPP server: sends
// one SMS through Kannel's sendsms HTTP interface with dlr-mask 3 and a
// dlr-url pointing at a receiver here, and waits for Kannel to call it with
// the delivery report that omnigate sent back as deliver_sm.
//
// run.sh sets SENDSMS_URL (Kannel's http://127.0.0.1:port/cgi-bin/sendsms),
// SENDSMS_USER, SENDSMS_PASSWORD, OMNIGATE_URL, OMNIGATE_KEY, FROM.

import { createServer } from 'node:http';
import assert from 'node:assert/strict';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run interop/smpp-server-kannel/run.sh`);
  return v;
}

const HANDSET = '31612345678';
const TEXT = 'Hello through Kannel';
const reports = [];
let notify = () => {};

const hook = createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  reports.push(Object.fromEntries(u.searchParams));
  res.end('ok');
  notify();
});
await new Promise((r) => hook.listen(0, '127.0.0.1', r));
const hookPort = hook.address().port;

try {
  // Kannel expands %d (report type: 1 delivered, 2 failed), %A (the
  // receipt's text), %F (the SMSC's message id) and %p (the recipient).
  const dlrURL = `http://127.0.0.1:${hookPort}/dlr?type=%d&id=%F&to=%p&answer=%A`;
  const send = new URL(env('SENDSMS_URL'));
  for (const [k, v] of Object.entries({
    username: env('SENDSMS_USER'), password: env('SENDSMS_PASSWORD'),
    from: env('FROM'), to: HANDSET, text: TEXT, 'dlr-mask': '3', 'dlr-url': dlrURL,
  })) send.searchParams.set(k, v);
  const res = await fetch(send, { signal: AbortSignal.timeout(10000) });
  const body = await res.text();
  console.log(`sendsms: ${res.status} ${body.trim()}`);
  assert.ok(res.status === 202 || res.status === 200, `sendsms answered ${res.status} ${body}`);

  const deadline = Date.now() + 60000;
  while (!reports.some((r) => r.type === '1' || r.type === '2')) {
    if (Date.now() > deadline) throw new Error(`no delivery report within 60 s (got ${JSON.stringify(reports)})`);
    await new Promise((r) => { notify = r; setTimeout(r, 250); });
  }
  const dlr = reports.find((r) => r.type === '1' || r.type === '2');
  console.log(`dlr-url called: ${JSON.stringify(dlr)}`);
  assert.equal(dlr.type, '1', 'report type 1 (delivered)');
  assert.equal(dlr.to, HANDSET);
  assert.match(dlr.id, /^[0-9a-f]{32}$/, "omnigate's message id as Kannel's SMSC id");
  assert.match(dlr.answer, new RegExp(`id:${dlr.id} .*stat:DELIVRD`), 'the receipt text');

  // omnigate has the message Kannel submitted, delivered.
  const api = await fetch(new URL(`/messages/${dlr.id}`, env('OMNIGATE_URL')), {
    headers: { Authorization: `AccessKey ${env('OMNIGATE_KEY')}` }, signal: AbortSignal.timeout(10000),
  });
  assert.equal(api.status, 200);
  const m = await api.json();
  assert.equal(m.body, TEXT);
  assert.equal(m.originator, env('FROM'));
  assert.equal(m.recipients.items[0].status, 'delivered');
  console.log('OK: Kannel sent through omnigate and got the delivery report back');
} finally {
  hook.close();
}
