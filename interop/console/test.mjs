// The web console in a real browser: Debian's Chromium, headless, driven by
// puppeteer-core; axe-core (injected into each page) checks accessibility.
// run.sh starts `omnigate serve --demo` and passes its address, the demo
// owner's sign-in, a live key and an operator made with the CLI.
//
// The tests run in order and share the signed-in browser contexts: the
// owner's (two factors turned on here), the invited developer's and the
// operator's. The page sweep at the end takes its list of pages from the
// navigation each role is shown, so pages added to the console later are
// covered without changing this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run.sh sets it)`);
  return v;
};
const BASE = env('CONSOLE_URL');
const KEY = env('CONSOLE_KEY');
const SHOTS = env('SHOTS');
const DOWNLOADS = env('DOWNLOADS');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const LANGS = ['en', 'fr', 'ar'];
const WIDTHS = [1280, 390];
// Screenshots kept for docs/img/console/: [role, language, path, file].
const KEEP = [
  ['owner', 'en', '/console/overview', 'overview-en.png'],
  ['owner', 'ar', '/console/messages', 'messages-ar.png'],
  ['owner', 'fr', '/console/billing', 'billing-fr.png'],
];

// totp is RFC 6238's code (HMAC-SHA1, 30 s steps, 6 digits) of a base32
// secret at a time step, computed here independently of omnigate.
function totp(secret, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${secret}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', key).update(msg).digest();
  const off = h[h.length - 1] & 0xf;
  const n = (h.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 30_000);

let browser;
const S = {}; // shared between the tests in order
const problems = new Map(); // page → console errors and failed loads

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  fs.mkdirSync(DOWNLOADS, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
});

after(async () => {
  if (browser) await browser.close();
});

// newPage opens a tab in a fresh context (its own cookies) that records
// script errors and Content-Security-Policy violations.
async function newPage(lang = 'en') {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(60_000); // generous: a shared CI machine can be slow (argon2id sign-ins)
  await page.setViewport({ width: 1280, height: 900 });
  await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
  const note = (what) => {
    const u = page.url();
    if (!problems.has(u)) problems.set(u, []);
    problems.get(u).push(what);
  };
  page.on('pageerror', (e) => note(`script error: ${e.message}`));
  // Chromium logs every 4xx answer as a console error too: pages that
  // must answer 403 or 410 are asserted by the tests, so only the page's
  // own stylesheet, script and images are checked here.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) note(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    const t = r.request().resourceType();
    if (r.status() >= 400 && ['stylesheet', 'script', 'image', 'font'].includes(t)) note(`${t} ${r.url()}: ${r.status()}`);
  });
  return page;
}

// submit clicks a form's submit button and waits for the page it leads to.
async function submit(page, formSelector) {
  const [res] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(`${formSelector} button[type=submit]`),
  ]);
  return res;
}

async function go(page, p) {
  const res = await page.goto(BASE + p, { waitUntil: 'load' });
  return res;
}

async function signIn(page, email, password) {
  await go(page, '/console/signin');
  await page.type('#email', email);
  await page.type('#password', password);
  return submit(page, 'form[action="/console/signin"]');
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());
const navHrefs = (page) => page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')));

test('the owner turns two factors on, then signs in with password and TOTP code', async () => {
  const page = await newPage();
  S.owner = page;
  await signIn(page, env('OWNER_EMAIL'), env('OWNER_PASSWORD'));
  assert.equal(new URL(page.url()).pathname, '/console/overview', 'without two factors the password is enough');

  await go(page, '/console/profile');
  const secret = await page.$eval('form[action="/console/profile/totp"] input[name=secret]', (e) => e.value);
  const onStep = stepNow();
  await page.type('#on-code', totp(secret, onStep));
  await submit(page, 'form[action="/console/profile/totp"]');
  assert.ok(await page.$('form[action="/console/profile/totp/off"]'), 'two factors are on: the page offers to turn them off');

  await submit(page, 'form.signout');
  assert.equal(new URL(page.url()).pathname, '/console/signin');
  assert.equal((await go(page, '/console/overview')).url().endsWith('/console/signin'), true, 'signed out: back to sign-in');

  await signIn(page, env('OWNER_EMAIL'), env('OWNER_PASSWORD'));
  assert.equal(new URL(page.url()).pathname, '/console/signin/totp', 'the password alone no longer opens the console');
  // The code that turned two factors on was used: it is refused now.
  await page.type('#code', totp(secret, onStep));
  let res = await submit(page, 'form[action="/console/signin/totp"]');
  assert.equal(new URL(page.url()).pathname, '/console/signin/totp', 'a replayed code is refused');
  assert.ok(await page.$('.error[role=alert]'), 'the refusal is shown');
  assert.notEqual(res.status(), 200);
  // The next step's code is within the accepted drift and was never used.
  await page.type('#code', totp(secret, onStep + 1));
  res = await submit(page, 'form[action="/console/signin/totp"]');
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/console/overview', 'password and code open the console');
});

test('a message sent over the API reaches delivered in the messages log', async () => {
  const page = S.owner;
  S.recipient = `3161${crypto.randomInt(1_000_000, 9_999_999)}`;
  const r = await fetch(`${BASE}/messages`, {
    method: 'POST',
    headers: { Authorization: `AccessKey ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ originator: 'omnigate', recipients: [S.recipient], body: 'Hello from the browser test', reference: 'browser-test' }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  S.messageId = body.id;

  // Watch the log (as a person would, reloading) until the row says delivered.
  const deadline = Date.now() + 60_000;
  let rows = [];
  for (;;) {
    await go(page, `/console/messages?recipient=${S.recipient}`);
    rows = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    if (rows.length === 1 && rows[0][1] === S.messageId && rows[0][4] === 'delivered') break;
    assert.ok(Date.now() < deadline, `message ${S.messageId} not delivered in the log within 60 s: ${JSON.stringify(rows)}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  await Promise.all([page.waitForNavigation(), page.click(`main table a[href="/console/messages/${S.messageId}"]`)]);
  assert.equal(new URL(page.url()).pathname, `/console/messages/${S.messageId}`);
  const main = await text(page, 'main');
  assert.match(main, new RegExp(S.recipient), 'the detail names the recipient');
  assert.match(main, /delivered/, 'the detail shows the delivered status');
});

test('the messages log searches by recipient and status', async () => {
  const page = S.owner;
  await go(page, '/console/messages');
  await page.type('#q-recipient', S.recipient);
  await page.select('#q-status', 'delivered');
  await submit(page, 'form.search');
  const u = new URL(page.url());
  assert.equal(u.searchParams.get('recipient'), S.recipient);
  assert.equal(u.searchParams.get('status'), 'delivered');
  const ids = await page.$$eval('main table tbody a', (as) => as.map((a) => a.textContent.trim()));
  assert.deepEqual(ids, [S.messageId]);

  await go(page, '/console/messages');
  await page.type('#q-recipient', '3169999999999');
  await submit(page, 'form.search');
  assert.equal((await page.$$('main table tbody a')).length, 0, 'no message to an unknown recipient');
});

test('the month statement downloads as CSV with the message charge', async () => {
  const page = S.owner;
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {
    behavior: 'allow', downloadPath: DOWNLOADS, browserContextId: page.browserContext().id, eventsEnabled: true,
  });
  await go(page, '/console/billing');
  const month = await page.$eval('#month', (e) => e.value);
  assert.match(month, /^\d{4}-\d{2}$/);
  const file = path.join(DOWNLOADS, `statement-${month}.csv`);
  const done = new Promise((resolve, reject) => {
    cdp.on('Browser.downloadProgress', (e) => {
      if (e.state === 'completed') resolve();
      if (e.state === 'canceled') reject(new Error('download canceled'));
    });
  });
  await page.click('form[action="/console/billing/statement.csv"] button[type=submit]');
  await done;
  const csv = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  assert.equal(csv[0], 'id,created_at,kind,amount,currency,balance_after,reference,reason,actor');
  assert.ok(csv.length >= 2, 'the statement has the month ledger rows');
  assert.ok(csv.some((l) => l.includes(S.messageId)), `a row names message ${S.messageId}:\n${csv.join('\n')}`);
  await cdp.detach();
});

test('an invited developer joins, signs in, and cannot see billing', async () => {
  const owner = S.owner;
  await go(owner, '/console/users');
  const email = `dev-${crypto.randomInt(1e6)}@console.interop.localhost`;
  await owner.type('#inv-email', email);
  await owner.select('#inv-role', 'developer');
  await submit(owner, 'form[action="/console/users/invite"]');
  const notice = await text(owner, 'main .notice');
  const m = notice.match(/\/console\/invite\/[A-Za-z0-9_-]+/);
  assert.ok(m, `the invitation link is shown: ${notice}`);
  S.invite = m[0];

  const dev = await newPage();
  S.developer = dev;
  const password = crypto.randomBytes(12).toString('base64url');
  const join = async (name) => {
    await go(dev, S.invite);
    await dev.type('#name', name);
    await dev.type('#password', password);
    await dev.type('#password2', password);
    return submit(dev, `form[action="${S.invite}"]`);
  };
  // Markup in a name is refused, clearly, and the link still works.
  let res = await join('Dev <b>Eloper</b>');
  assert.equal(res.status(), 400);
  assert.ok(await dev.$('main .error[role=alert]'), 'the refusal is shown');
  res = await join('Dev Eloper');
  assert.equal(new URL(dev.url()).pathname, '/console/signin', `joined: ${await text(dev, 'main')}`);
  // The link works once: its page now answers 410 Gone.
  assert.equal((await go(dev, S.invite)).status(), 410, 'the link works once');
  assert.equal(await dev.$('#password'), null, 'no form for a used link');

  await signIn(dev, email, password);
  assert.equal(new URL(dev.url()).pathname, '/console/overview');
  const hrefs = await navHrefs(dev);
  assert.ok(hrefs.includes('/console/messages'), `developer nav: ${hrefs}`);
  assert.ok(!hrefs.some((h) => h.startsWith('/console/billing')), `no billing in the developer's nav: ${hrefs}`);
  assert.equal((await go(dev, '/console/billing')).status(), 403);
  assert.equal((await go(dev, `/console/billing/statement.csv?month=2026-01`)).status(), 403);
  assert.equal((await go(dev, '/console/users')).status(), 403);

  // The owner sees the new user with the developer role.
  await go(owner, '/console/users');
  const row = await owner.$$eval('main table tbody tr', (trs, e) =>
    trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())).find((t) => t[0] === e), email);
  assert.deepEqual(row?.slice(0, 3), [email, 'Dev Eloper', 'Developer'], 'the developer is listed');
});

test('the operator signs in with two factors', async () => {
  const page = await newPage();
  S.operator = page;
  await signIn(page, env('OP_EMAIL'), env('OP_PASSWORD'));
  assert.equal(new URL(page.url()).pathname, '/console/signin/totp', 'operators always need the code');
  await page.type('#code', totp(env('OP_SECRET'), stepNow()));
  const res = await submit(page, 'form[action="/console/signin/totp"]');
  assert.equal(res.status(), 200);
  const hrefs = await navHrefs(page);
  assert.ok(hrefs.includes('/console/operator/accounts'), `operator nav: ${hrefs}`);
  assert.ok(!hrefs.includes('/console/billing'), `no account billing for operators: ${hrefs}`);
});

// check loads one page in a language at each width and applies every rule;
// it returns the failures as strings.
async function check(page, role, lang, p, status = 200) {
  const failures = [];
  const fail = (w, msg) => failures.push(`${role} ${lang} ${w}px ${p}: ${msg}`);
  await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
  // One load per page and language; the other widths resize the same page
  // (the stylesheet's media queries apply as they would on a phone).
  await page.setViewport({ width: WIDTHS[0], height: 900 });
  const res = await go(page, p);
  if (res.status() !== status) return [`${role} ${lang} ${p}: status ${res.status()}, want ${status}`];
  for (const width of WIDTHS) {
    await page.setViewport({ width, height: 900 });
    const doc = await page.evaluate(() => {
      const { scrollWidth, clientWidth } = document.documentElement;
      // The widest culprits, named only when the page overflows.
      const wide = scrollWidth <= clientWidth ? [] : [...document.querySelectorAll('body *')]
        .filter((e) => !e.matches('.skip, .sr') && (e.getBoundingClientRect().right > clientWidth + 1 || e.getBoundingClientRect().left < -1))
        .slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
      return { lang: document.documentElement.lang, dir: document.documentElement.dir, scrollWidth, clientWidth, wide };
    });
    if (doc.lang !== lang) fail(width, `<html lang="${doc.lang}">`);
    const wantDir = lang === 'ar' ? 'rtl' : 'ltr';
    if (doc.dir !== wantDir) fail(width, `<html dir="${doc.dir}">, want ${wantDir}`);
    if (doc.scrollWidth > doc.clientWidth) fail(width, `horizontal overflow: scrollWidth ${doc.scrollWidth} > clientWidth ${doc.clientWidth} (${doc.wide.join(', ')})`);

    if (width === 1280) {
      // Mirroring: the brand starts the header and the navigation runs
      // from it, left to right or right to left.
      const x = await page.evaluate(() => {
        const r = (e) => { const b = e.getBoundingClientRect(); return { left: b.left, right: b.right, top: b.top }; };
        const items = [...document.querySelectorAll('header nav li')].map(r);
        return { brand: r(document.querySelector('header .brand')), items };
      });
      if (x.items.length >= 2) {
        // The navigation may wrap (below the brand, or onto more rows):
        // compare the first item with the next one on its row.
        const [a] = x.items;
        const b = x.items.slice(1).find((i) => Math.abs(i.top - a.top) < 2);
        const ltr = x.brand.left <= a.left + 1 && (!b || a.left < b.left);
        const rtl = x.brand.right >= a.right - 1 && (!b || a.right > b.right);
        if (lang === 'ar' ? !rtl : !ltr) fail(width, `navigation not ${wantDir}: brand ${Math.round(x.brand.left)}–${Math.round(x.brand.right)}, items ${Math.round(a.left)}–${Math.round(a.right)}, ${b ? Math.round(b.left) + '–' + Math.round(b.right) : 'none on its row'}`);
      }
      // axe-core, evaluated over DevTools (the page's own CSP forbids
      // injected scripts, and stays on).
      await page.evaluate(AXE);
      const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        if (r.passes.length + r.incomplete.length + r.inapplicable.length < 20) return [{ id: 'axe-did-not-run', impact: 'critical', help: 'too few rules', nodes: [] }];
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      for (const v of result) {
        if (v.impact === 'serious' || v.impact === 'critical') fail(width, `axe ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join('; ')}`);
        else S.minor = (S.minor || 0) + 1;
      }
      // Keyboard: the first Tab reaches the skip link, which shows itself
      // inside the viewport with a visible focus outline.
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return { cls: e.className, outline: s.outlineStyle, width: parseFloat(s.outlineWidth), inView: r.left >= 0 && r.right <= innerWidth && r.top >= 0 };
      });
      if (focus.cls !== 'skip') fail(width, `the first Tab focuses "${focus.cls}", not the skip link`);
      else if (focus.outline === 'none' || focus.width < 2 || !focus.inView) fail(width, `the focused skip link is not visible (${JSON.stringify(focus)})`);
      // Every other control, focused after that keyboard use (so that
      // :focus-visible applies as it would for Tab), shows an outline.
      const unfocused = await page.evaluate(() => {
        const bad = [];
        for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')) {
          if (e.disabled || e.getClientRects().length === 0) continue;
          e.focus();
          const s = getComputedStyle(e);
          if (document.activeElement !== e || s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) {
            bad.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${(e.textContent || e.name || '').trim().slice(0, 30)}"`);
          }
        }
        return bad;
      });
      if (unfocused.length) fail(width, `focus not visible on ${unfocused.join(', ')}`);
      const keep = KEEP.find(([r, l, kp]) => r === role && l === lang && kp === p);
      if (keep) {
        await page.mouse.move(0, 0);
        await page.evaluate(() => document.activeElement.blur());
        await page.screenshot({ path: path.join(SHOTS, keep[3]) });
      }
    }
  }
  return failures;
}

test('every page of every role, in English, French and Arabic: axe-core, RTL mirroring, no overflow, focus', async () => {
  assert.ok(S.owner && S.developer && S.operator, 'the sign-in tests ran');
  const started = Date.now();
  const plan = [];
  for (const [role, page] of [['owner', S.owner], ['developer', S.developer], ['operator', S.operator]]) {
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en' });
    await go(page, '/console/profile');
    const pages = await navHrefs(page);
    assert.ok(pages.length >= 2, `${role} has a navigation: ${pages}`);
    if (role === 'owner') pages.push(`/console/messages/${S.messageId}`);
    for (const p of pages) plan.push([role, page, p]);
  }
  // The pages without a session: sign-in, and an invitation.
  const anon = await newPage();
  await go(S.owner, '/console/users');
  await S.owner.type('#inv-email', `later-${crypto.randomInt(1e6)}@console.interop.localhost`);
  await S.owner.select('#inv-role', 'billing');
  await submit(S.owner, 'form[action="/console/users/invite"]');
  const invite = (await text(S.owner, 'main .notice')).match(/\/console\/invite\/[A-Za-z0-9_-]+/)[0];
  plan.push(['anonymous', anon, '/console/signin'], ['anonymous', anon, invite]);
  // Half signed in: the owner's password given, the code page waiting.
  const pending = await newPage();
  await signIn(pending, env('OWNER_EMAIL'), env('OWNER_PASSWORD'));
  assert.equal(new URL(pending.url()).pathname, '/console/signin/totp');
  plan.push(['pending', pending, '/console/signin/totp']);
  // The error page, inside the console's frame.
  plan.push(['owner', S.owner, '/console/no-such-page', 404]);

  // Each browser context (role) goes through its pages on its own, the
  // contexts at the same time: the machine waits less on one page's server
  // round trips and script.
  const byPage = new Map();
  for (const item of plan) {
    if (!byPage.has(item[1])) byPage.set(item[1], []);
    byPage.get(item[1]).push(item);
  }
  const failures = (await Promise.all([...byPage.values()].map(async (items) => {
    const out = [];
    for (const lang of LANGS) {
      for (const [role, page, p, status] of items) out.push(...(await check(page, role, lang, p, status)));
    }
    return out;
  }))).flat();
  const errs = [...problems].map(([u, list]) => `${u}: ${list.join('; ')}`);
  console.log(`# ${plan.length} pages × ${LANGS.length} languages × ${WIDTHS.length} widths in ${Date.now() - started} ms; ${S.minor || 0} minor or moderate axe findings`);
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.deepEqual(errs, [], `script or CSP errors:\n${errs.join('\n')}`);
  for (const [, , , file] of KEEP) assert.ok(fs.statSync(path.join(SHOTS, file)).size > 1000, `screenshot ${file}`);
});
