// /dashboard in Debian's Chromium against a real hub process: an analyst signs in with a single-use
// token, filters change the call table, a row opens the call's timeline and the charts draw; then the
// portal embedding of seed 000: the account follows FONOUC_WORKING_ACCOUNT only from `portal_origins`,
// a sub-account shows only through an ancestor's analyst, and an origin outside `frame_ancestors`
// cannot frame the page at all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as signalR from '@microsoft/signalr';
import { adminKey, createHub } from './hub-process.mjs';
import { close, launchChromium, listen } from './support.mjs';

const screenshots = join(import.meta.dirname, 'screenshots');

let hub;
let browser;
let portal;
let evil;
/** @type {{ parent: string, child: string, stranger: string }} */
const accounts = {};
/** @type {Record<string, string>} API key of each account, with every scope */
const keys = {};

async function api(method, path, { key = adminKey, account, body } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (account) headers['x-account-id'] = account;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${hub.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function createAccount(name, parentId) {
  const tenant = await api('POST', '/api/v1/tenants', { body: parentId ? { name, parent_id: parentId } : { name } });
  const key = await api('POST', '/api/v1/api-keys', { account: tenant.id, body: { name: 'crm', scopes: ['admin'] } });
  keys[tenant.id] = key.key;
  return tenant.id;
}

async function token(account, subject, role) {
  return (await api('POST', '/api/v1/webphone/embed-token', { key: keys[account], body: { agent_id: subject, role } })).embed_token;
}

/** Plays whole calls through the agent hub as the relay would, with the real @microsoft/signalr client. */
async function playCalls(account, agentId, calls) {
  const session = await (await fetch(`${hub.url}/api/v1/sessions`, {
    method: 'POST', headers: { authorization: `Bearer ${await token(account, agentId, 'agent')}` },
  })).json();
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/agent`, { accessTokenFactory: () => session.session_token, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  await connection.start();
  await connection.invoke('Hello');
  let seq = 0;
  const start = Date.now() - 3600_000;
  const send = (type, payload, offsetMs) => connection.invoke('Publish', {
    event_id: randomUUID(), seq: ++seq, occurred_at: new Date(start + offsetMs).toISOString(), type, payload,
  });
  for (const [index, call] of calls.entries()) {
    const at = index * 600_000;
    const body = { uuid: call.id, number: call.number };
    await send(call.direction === 'outbound' ? 'outgoing_call' : 'incoming_call', { call: body }, at);
    if (call.billsec !== undefined) await send('call_answered', { call: { uuid: call.id } }, at + 5_000);
    await send('call_hangup', { call: { uuid: call.id }, billsec: call.billsec ?? 0 }, at + 5_000 + (call.billsec ?? 0) * 1000);
  }
  await connection.stop();
}

/** Resolves once the account's call log holds `count` finished calls (the workers log asynchronously). */
async function callsLogged(account, count) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const page = await api('GET', '/api/v1/calls?limit=500', { account });
    if (page.items.filter((call) => call.status !== 'ringing' && call.status !== 'in_progress').length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${page.items.length} calls logged for ${account}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

before(async () => {
  hub = await createHub();
  await hub.start();
  // The portal frames the dashboard and, beside it, a page of another origin (a compromised widget).
  portal = await listen((request, response) => {
    const url = new URL(request.url, 'http://portal');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Portal</title><h1>Portal</h1>
      <iframe id="dashboard" src="${url.searchParams.get('embed')}" width="1300" height="900"></iframe>
      <iframe id="widget" src="${evil.origin}/widget" width="200" height="100"></iframe>`);
  });
  evil = await listen((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(request.url.startsWith('/widget')
      ? '<!doctype html><title>Widget</title><p>widget</p>'
      : `<!doctype html><title>Elsewhere</title><iframe id="dashboard" src="${new URL(request.url, 'http://x').searchParams.get('embed')}"></iframe>`);
  });

  accounts.parent = await createAccount('Parent Co');
  accounts.child = await createAccount('Child Branch', accounts.parent);
  accounts.stranger = await createAccount('Stranger Inc');
  await api('PUT', '/api/v1/config', { account: accounts.parent, body: { frame_ancestors: ["'self'", portal.origin], portal_origins: [portal.origin] } });

  await playCalls(accounts.parent, 'alice', [
    { id: 'p-1', number: '0912345678', billsec: 30 },
    { id: 'p-2', number: '0912000111' },
  ]);
  await playCalls(accounts.parent, 'bob', [
    { id: 'p-3', number: '0987654321', billsec: 90 },
    { id: 'p-4', number: '0900000004', billsec: 10, direction: 'outbound' },
  ]);
  await playCalls(accounts.child, 'carol', [{ id: 'c-1', number: '0911111111', billsec: 20 }]);
  await playCalls(accounts.stranger, 'sam', [{ id: 's-secret', number: '0922222222' }]);
  await Promise.all([callsLogged(accounts.parent, 4), callsLogged(accounts.child, 1), callsLogged(accounts.stranger, 1)]);

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([close(portal?.server), close(evil?.server)]);
  await hub?.dispose();
});

/** Waits for the dashboard (a page or a frame) to settle with exactly these call ids in its table; fails at once on an error. */
async function shows(target, callIds) {
  const expected = [...callIds].sort().join(',');
  const outcome = await target.waitForFunction((want) => {
    if (document.body.dataset.state === 'error') return `error: ${document.getElementById('status').textContent}`;
    const shown = [...document.querySelectorAll('#calls-body tr')].map((row) => row.dataset.callId).sort().join(',');
    return document.body.dataset.state === 'ready' && shown === want ? 'shown' : false;
  }, expected, { timeout: 20_000 });
  assert.equal(await outcome.jsonValue(), 'shown');
}

const dashboardUrl = (account, signInToken) => `${hub.url}/dashboard/?account_id=${account}&avoid_cache=${Date.now()}#token=${signInToken}`;

test('an analyst filters the call table, opens a timeline and sees the charts', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });

  await page.goto(dashboardUrl(accounts.parent, await token(accounts.parent, 'ana', 'analyst')));
  await shows(page, ['p-1', 'p-2', 'p-3', 'p-4']);
  assert.equal(new URL(page.url()).hash, '', 'the single-use token leaves the address bar');
  assert.equal(await page.locator('#total-calls').textContent(), '4');
  assert.equal(await page.locator('#total-missed').textContent(), '1');

  await page.selectOption('#filter-status', 'missed');
  await page.click('#apply');
  await shows(page, ['p-2']);

  await page.selectOption('#filter-status', '');
  await page.fill('#filter-agent_id', 'bob');
  await page.click('#apply');
  await shows(page, ['p-3', 'p-4']);

  await page.selectOption('#filter-direction', 'outbound');
  await page.click('#apply');
  await shows(page, ['p-4']);

  await page.fill('#filter-agent_id', '');
  await page.selectOption('#filter-direction', '');
  await page.fill('#filter-number', '+84 98 765 4321');
  await page.click('#apply');
  await shows(page, ['p-3']);

  await page.click('#calls-body tr[data-call-id="p-3"]');
  await page.locator('#timeline-events li').nth(2).waitFor({ timeout: 10_000 });
  const timeline = await page.locator('#timeline-events li strong').allTextContents();
  assert.deepEqual(timeline, ['incoming_call', 'call_answered', 'call_hangup']);
  assert.match(await page.locator('#timeline-facts').textContent(), /Billsec90 s/);
  await page.click('#timeline-close');

  await page.fill('#filter-number', '');
  await page.click('#apply');
  await shows(page, ['p-1', 'p-2', 'p-3', 'p-4']);
  const downloading = page.waitForEvent('download', { timeout: 10_000 });
  await page.click('#export');
  const download = await downloading;
  const csv = readFileSync(await download.path(), 'utf8').trimEnd().split('\r\n');
  assert.match(csv[0], /^call_id,/);
  assert.deepEqual(csv.slice(1).map((line) => line.split(',')[0]).sort(), ['p-1', 'p-2', 'p-3', 'p-4']);

  // Chart.js drew into each canvas: count the painted pixels rather than trust that a canvas exists.
  const painted = await page.evaluate(() => ['chart-volume', 'chart-rate', 'chart-agents'].map((id) => {
    const canvas = /** @type {HTMLCanvasElement} */ (document.getElementById(id));
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++;
    return count;
  }));
  for (const count of painted) assert.ok(count > 500, `a chart painted only ${count} pixels`);

  mkdirSync(screenshots, { recursive: true });
  const file = join(screenshots, 'dashboard.png');
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  console.log(`dashboard screenshot: ${file}`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('in a portal, the dashboard follows FONOUC_WORKING_ACCOUNT from portal_origins only, and never shows another tenant', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const ignored = [];
  page.on('console', (message) => { if (message.text().includes('ignored a portal message')) ignored.push(message.text()); });
  await page.goto(`${portal.origin}/?embed=${encodeURIComponent(dashboardUrl(accounts.parent, await token(accounts.parent, 'ana', 'analyst')))}`);
  const dashboard = page.frame({ url: (url) => url.pathname.startsWith('/dashboard') });
  assert.ok(dashboard, 'the portal shows the dashboard');
  await shows(dashboard, ['p-1', 'p-2', 'p-3', 'p-4']);

  // The portal switches the working account to the sub-account: its calls, and only them.
  const post = (frameSelector, accountId) => page.evaluate(([selector, id, target]) => {
    document.querySelector(selector).contentWindow.postMessage({ type: 'FONOUC_WORKING_ACCOUNT', payload: { account_id: id } }, target);
  }, [frameSelector, accountId, hub.url]);
  await post('#dashboard', accounts.child);
  await shows(dashboard, ['c-1']);
  assert.equal(await dashboard.evaluate(() => document.body.dataset.account), accounts.child);

  // A frame of another origin on the same page sends the same message: ignored, nothing changes.
  const warned = page.waitForEvent('console', { predicate: (message) => message.text().includes('origin_not_allowed'), timeout: 10_000 });
  const widget = page.frame({ url: (url) => url.origin === evil.origin });
  await widget.evaluate((id) => window.parent.frames[0].postMessage({ type: 'FONOUC_WORKING_ACCOUNT', payload: { account_id: id } }, '*'), accounts.stranger);
  assert.match((await warned).text(), new RegExp(`from ${evil.origin}: origin_not_allowed`));
  assert.equal(await dashboard.evaluate(() => document.body.dataset.account), accounts.child);
  await shows(dashboard, ['c-1']);

  // The listed portal asks for a tenant the analyst's account is not a parent of: an error, no data.
  await post('#dashboard', accounts.stranger);
  await dashboard.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 10_000 });
  assert.match(await dashboard.locator('#status').textContent(), /account_forbidden/);
  assert.equal(await dashboard.locator('#calls-body tr').count(), 0);
  assert.equal(await dashboard.locator('#total-calls').textContent(), '–');
  assert.ok(!(await dashboard.content()).includes('s-secret'));
  assert.equal(ignored.length, 1);
  await context.close();
});

test('an analyst of a sub-account cannot be pointed at its parent', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(dashboardUrl(accounts.parent, await token(accounts.child, 'carol-analyst', 'analyst')));
  await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 20_000 });
  assert.match(await page.locator('#status').textContent(), /account_forbidden/);
  assert.equal(await page.locator('#calls-body tr').count(), 0);
  await context.close();
});

test('an origin not in frame_ancestors cannot frame the dashboard (Chromium refuses it)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused = page.waitForEvent('console', {
    predicate: (message) => /frame-ancestors/.test(message.text()) && /blocked|Refused to frame/.test(message.text()),
    timeout: 20_000,
  });
  await page.goto(`${evil.origin}/?embed=${encodeURIComponent(`${hub.url}/dashboard/?account_id=${accounts.parent}`)}`);
  assert.match((await refused).text(), new RegExp(`frame-ancestors 'self' ${portal.origin.replace(/[.]/g, '\\.')}`));
  await page.waitForLoadState('load');
  assert.ok(!page.frames().some((frame) => frame.url().startsWith(`${hub.url}/dashboard`)), 'the dashboard must not render there');
  await context.close();
});
