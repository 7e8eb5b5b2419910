// Issue 14, point 11: the relay's outbox never sends one agent's events under another's session. A CRM
// page of our own (on its own origin) signs agent A of tenant A in; the hub goes down while A's phone
// rings, so that event stays in the tab's outbox; the CRM then switches the same tab to agent B of
// tenant B (no sign-out, as a CRM that reuses the tab does) and the hub comes back. B's own call must
// reach tenant B, A's must not; when A signs in again in that tab, A's event reaches tenant A, once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminKey, createHub } from './hub-process.mjs';
import { close, eventually, launchChromium, listen } from './support.mjs';

const SIGNAL_TIMEOUT_MS = 20_000;

let hub;
let browser;
let crm;
const tenants = {};   // name -> {id, key, agent}

function crmPage(who) {
  const frameSrc = `${hub.webphoneUrl}/webphone-simulator/?parent_origin=${encodeURIComponent(crm.origin)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM as ${who}</title></head>
<body>
  <p>Hub: <span id="badge" data-testid="status" data-status="none">none</span></p>
  <iframe id="zorio-frame" src="${frameSrc}" width="420" height="640"></iframe>
  <section id="pops"></section>
  <script src="${hub.url}/relay/hub-relay.js"></script>
  <script>
    const badge = document.getElementById('badge');
    const relay = HubRelay.connect({
      hubUrl: ${JSON.stringify(hub.url)},
      getToken: async () => (await fetch('/token?who=${who}', { method: 'POST' })).text(),
      webphone: { frame: document.getElementById('zorio-frame'), origin: ${JSON.stringify(hub.webphoneUrl)} },
      reconnect: { minDelayMs: 100, maxDelayMs: 500 },
    });
    relay.on('status', status => { badge.textContent = status; badge.dataset.status = status; });
    relay.on('screenPop', pop => {
      const card = document.createElement('div');
      card.dataset.testid = 'pop';
      card.dataset.callId = pop.call_id;
      card.textContent = pop.call_id;
      document.getElementById('pops').append(card);
    });
  </script>
</body></html>`;
}

async function rest(method, path, { key, account, body } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (account) headers['x-account-id'] = account;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(hub.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function callIds(tenant) {
  const calls = await rest('GET', '/api/v1/calls?limit=100', { key: tenant.key });
  assert.equal(calls.status, 200, JSON.stringify(calls.body));
  return calls.body.items.map((call) => call.call_id);
}

before(async () => {
  crm = await listen(async (request, response) => {
    const url = new URL(request.url, 'http://x');
    const who = url.searchParams.get('who');
    if (request.method === 'GET' && url.pathname === '/' && tenants[who]) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(crmPage(who));
      return;
    }
    if (request.method === 'POST' && url.pathname === '/token' && tenants[who]) {
      const minted = await rest('POST', '/api/v1/webphone/embed-token', { key: tenants[who].key, body: { agent_id: tenants[who].agent } });
      response.writeHead(minted.status === 200 ? 200 : 502, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      response.end(minted.body?.embed_token ?? 'refused');
      return;
    }
    response.writeHead(404);
    response.end();
  });
  hub = await createHub({ extraArgs: [`--Hub:CrmOrigins:0=${crm.origin}`] });
  await hub.start();
  browser = await launchChromium();
  for (const [name, agent] of [['a', 'agent-a'], ['b', 'agent-b']]) {
    const tenant = await rest('POST', '/api/v1/tenants', { key: adminKey, body: { name: `Tenant ${name}` } });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    const key = await rest('POST', '/api/v1/api-keys', { key: adminKey, account: tenant.body.id, body: { name: 'crm', scopes: ['tokens', 'calls:read'] } });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    tenants[name] = { id: tenant.body.id, key: key.body.key, agent };
  }
});

after(async () => {
  await browser?.close();
  await hub?.dispose();
  await close(crm?.server);
});

const status = (page, value) => page.locator(`[data-testid="status"][data-status="${value}"]`);

async function ring(page, number) {
  const simulator = page.frameLocator('#zorio-frame');
  await simulator.getByTestId('number').fill(number);
  await simulator.getByTestId('ring').click();
  await simulator.locator('[data-testid="call-state"][data-state="ringing"]').waitFor();
  const callId = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
  assert.ok(callId, 'the simulator shows the call id');
  return callId;
}

test("agent B signed in in A's tab never sends A's undelivered events; A's next session does", async (t) => {
  const context = await browser.newContext();
  context.setDefaultTimeout(SIGNAL_TIMEOUT_MS);
  const page = await context.newPage();
  try {
    await page.goto(`${crm.origin}/?who=a`);
    await status(page, 'connected').waitFor();
    await page.frameLocator('#zorio-frame').locator('[data-testid="registration"][data-state="registered"]').waitFor();

    // The hub goes down while A's phone rings: the incoming call stays in the tab's outbox.
    await hub.stop();
    const callOfA = await ring(page, '0911111111');
    await status(page, 'reconnecting').waitFor();
    const kept = await page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith('hub-relay:outbox:'))
      .map((key) => sessionStorage.getItem(key)).join(''));
    assert.ok(kept.includes(callOfA), "A's call waits in the tab's outbox");

    // The CRM switches this tab to agent B of tenant B; the hub comes back.
    await page.goto('about:blank');
    await hub.start();
    await page.goto(`${crm.origin}/?who=b`);
    await status(page, 'connected').waitFor();
    const callOfB = await ring(page, '0922222222');
    await page.locator(`[data-testid="pop"][data-call-id="${callOfB}"]`).waitFor();

    // B's own call arrived (so the relay was sending); A's never reached tenant B, nor tenant A yet.
    await eventually(async () => (await callIds(tenants.b)).includes(callOfB), "B's call in tenant B's log");
    assert.deepEqual(await callIds(tenants.b), [callOfB]);
    assert.deepEqual(await callIds(tenants.a), []);

    // A signs in again in this tab: A's event is sent under A's session, to tenant A.
    await page.goto(`${crm.origin}/?who=a`);
    await status(page, 'connected').waitFor();
    await eventually(async () => (await callIds(tenants.a)).includes(callOfA), "A's call in tenant A's log");
    assert.deepEqual(await callIds(tenants.a), [callOfA]);
    assert.deepEqual(await callIds(tenants.b), [callOfB]);
  } catch (error) {
    t.diagnostic(`hub:\n${hub.output().slice(-4000)}`);
    throw error;
  } finally {
    await context.close();
  }
});
