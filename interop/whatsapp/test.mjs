// Meta's WhatsApp Cloud API Node SDK (npm "whatsapp", 0.0.5-Alpha) against
// omnigate's Cloud API simulator (omnigate chatsim over TLS): the SDK sends
// text, a template with a body parameter, interactive buttons and a list,
// and an image uploaded beforehand (the SDK has no upload: Node's own
// fetch and FormData do it). The simulator's webhooks go to a listener
// here: the GET verification handshake is passed to the SDK's own webhook
// listener, which answers it; the signed POSTs are checked here with
// node:crypto, because the SDK's listener cannot read a POST body (0.0.5-
// Alpha joins the chunks into a string and hands it to Buffer.concat,
// which throws). Wrong input gets the Cloud API's errors.
//
// Environment (run.sh sets it): SIM_URL, SIM_PORT, CA (the simulator's
// certificate, also in NODE_EXTRA_CA_CERTS), LISTENER_PORT,
// WEBHOOK_ENDPOINT, and the SDK's own WA_* / CLOUD_API_* / M4D_* settings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WhatsApp from 'whatsapp';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, get } from 'node:http';

const SIM = process.env.SIM_URL;
const WABA = process.env.WA_BUSINESS_ACCOUNT_ID;
const TO = 966501234567;

const wa = new WhatsApp();
// The SDK always speaks HTTPS on port 443 of WA_BASE_URL and has no port
// setting; its requester's port is the one thing pointed elsewhere.
wa.requester.port = Number(process.env.SIM_PORT);

const hooks = [];
const hookErrors = [];
// The SDK's listener, on SDK_LISTENER_PORT, answers the handshake.
wa.config.LISTENER_PORT = Number(process.env.SDK_LISTENER_PORT);
wa.webhooks.start((status, headers, body, res, err) => {
  if (err) hookErrors.push(err.message);
});
const listener = createServer((req, res) => {
  if (req.method === 'GET') {
    get(`http://127.0.0.1:${process.env.SDK_LISTENER_PORT}${req.url}`, (sdk) => {
      res.writeHead(sdk.statusCode);
      sdk.pipe(res);
    }).on('error', () => { res.writeHead(502); res.end(); });
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const want = createHmac('sha256', process.env.M4D_APP_SECRET).update(body).digest();
    const got = Buffer.from(String(req.headers['x-hub-signature-256'] || '').replace(/^sha256=/, ''), 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      hookErrors.push('bad signature');
      res.writeHead(401);
      res.end();
      return;
    }
    hooks.push(JSON.parse(body.toString('utf8')));
    res.writeHead(200);
    res.end();
  });
}).listen(Number(process.env.LISTENER_PORT), '127.0.0.1');
after(() => Promise.all([
  new Promise((resolve) => wa.webhooks.stop(() => resolve())),
  new Promise((resolve) => listener.close(() => resolve())),
]));

async function control(path, body) {
  const r = await fetch(SIM + '/_control/' + path, { method: 'POST', body: JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

async function graph(method, path, body, headers = {}) {
  const r = await fetch(SIM + '/v21.0/' + path, {
    method, body, headers: { Authorization: 'Bearer ' + process.env.CLOUD_API_ACCESS_TOKEN, ...headers },
  });
  return { status: r.status, json: await r.json() };
}

async function sent(res) {
  assert.equal(res.statusCode(), 200);
  const body = await res.responseBodyToJSON();
  assert.equal(body.messaging_product, 'whatsapp');
  assert.equal(body.contacts[0].wa_id, String(TO));
  assert.match(body.messages[0].id, /^wamid\./);
  return body.messages[0].id;
}

async function until(what, cond) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('timed out waiting for ' + what);
}

function statuses(id) {
  return hooks.flatMap((h) => h.entry.flatMap((e) => e.changes.flatMap((c) => c.value.statuses || [])))
    .filter((s) => s.id === id).map((s) => s.status);
}

test('the webhook verification handshake reaches the SDK listener', async () => {
  await control('verify', {});
});

test('the handset writes; its webhook is signed with the app secret', async () => {
  await control('reply', { from: String(TO), phoneNumberId: process.env.WA_PHONE_NUMBER_ID, text: 'hello' });
  await until('the inbound message', () => hooks.some((h) => h.entry[0].changes[0].value.messages?.[0]?.text?.body === 'hello'));
  assert.deepEqual(hookErrors, []);
});

test('text', async () => {
  const id = await sent(await wa.messages.text({ body: 'Your order A-17 has shipped', preview_url: false }, TO));
  await until('sent and delivered', () => statuses(id).includes('delivered'));
  assert.deepEqual(statuses(id), ['sent', 'delivered']);
});

test('template with a body parameter', async () => {
  const sub = await graph('POST', WABA + '/message_templates', JSON.stringify({
    name: 'order_shipped', language: 'en_US', category: 'UTILITY',
    components: [{ type: 'BODY', text: 'Your order {{1}} has shipped', example: { body_text: [['A-17']] } }],
  }), { 'Content-Type': 'application/json' });
  assert.equal(sub.status, 200, JSON.stringify(sub.json));
  assert.equal(sub.json.status, 'PENDING');
  const tpl = { name: 'order_shipped', language: { policy: 'deterministic', code: 'en_US' },
    components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-17' }] }] };
  let res = await wa.messages.template(tpl, TO);
  assert.equal(res.statusCode(), 400, 'a pending template is refused');
  assert.equal((await res.responseBodyToJSON()).error.code, 132001);
  await control('template', { id: sub.json.id, status: 'APPROVED' });
  await until('the template review webhook', () => hooks.some((h) =>
    h.entry[0].changes[0].field === 'message_template_status_update' && h.entry[0].changes[0].value.event === 'APPROVED'));
  await sent(await wa.messages.template(tpl, TO));
  res = await wa.messages.template({ ...tpl, components: [] }, TO);
  assert.equal(res.statusCode(), 400);
  assert.equal((await res.responseBodyToJSON()).error.code, 132000, 'a missing parameter is 132000');
});

test('interactive buttons and list', async () => {
  const buttons = (n) => Array.from({ length: n }, (_, i) => ({ type: 'reply', reply: { id: 'b' + i, title: 'Option ' + i } }));
  await sent(await wa.messages.interactive({ type: 'button', header: { type: 'text', text: 'Delivery' },
    body: { text: 'When shall we come?' }, footer: { text: 'omnigate' }, action: { buttons: buttons(3) } }, TO));
  await sent(await wa.messages.interactive({ type: 'list', body: { text: 'Pick a slot' },
    action: { button: 'Slots', sections: [{ title: 'Morning', rows: [{ id: 'm1', title: '09:00', description: 'early' }] }] } }, TO));
  const res = await wa.messages.interactive({ type: 'button', body: { text: 'Too many' }, action: { buttons: buttons(4) } }, TO);
  assert.equal(res.statusCode(), 400);
  const err = (await res.responseBodyToJSON()).error;
  assert.equal(err.code, 131009);
  assert.match(err.error_data.details, /at most 3/);
});

test('media: upload with fetch and FormData, send by id with the SDK', async () => {
  const form = new FormData();
  form.append('messaging_product', 'whatsapp');
  form.append('type', 'image/png');
  form.append('file', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }), 'parcel.png');
  const up = await graph('POST', process.env.WA_PHONE_NUMBER_ID + '/media', form);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.match(up.json.id, /^[0-9]+$/);
  const info = await graph('GET', up.json.id);
  assert.equal(info.json.mime_type, 'image/png');
  assert.equal(info.json.file_size, 8);
  await sent(await wa.messages.image({ id: up.json.id, caption: 'your parcel' }, TO));
  const bad = await wa.messages.image({ id: '999', caption: 'nothing' }, TO);
  assert.equal(bad.statusCode(), 400);
  assert.equal((await bad.responseBodyToJSON()).error.code, 131053);
});

test('a wrong token is 190', async () => {
  const token = process.env.CLOUD_API_ACCESS_TOKEN;
  process.env.CLOUD_API_ACCESS_TOKEN = 'wrong';
  const other = new WhatsApp();
  process.env.CLOUD_API_ACCESS_TOKEN = token;
  other.requester.port = Number(process.env.SIM_PORT);
  const res = await other.messages.text({ body: 'x' }, TO);
  assert.equal(res.statusCode(), 401);
  assert.equal((await res.responseBodyToJSON()).error.code, 190);
});
