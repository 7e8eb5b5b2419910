// The README's integration ("Put the relay in your CRM page" and "A call, end to end", steps 1-3) done
// by an integrator of our own, on origins of its own: a CRM page and its backend served by this test
// process, a webphone on a third origin, the hub on a fourth. Nothing of the /demo is used (it is off):
// the page is written from the README snippet only, the backend keeps the tenant's API key on the
// server and mints the agent's embed token with it, and a page on an origin the hub does not list in
// Hub__CrmOrigins cannot get a session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminKey, createHub } from './hub-process.mjs';
import { close, launchChromium, listen } from './support.mjs';

const SIGNAL_TIMEOUT_MS = 20_000;
const AGENT_ID = 'agent-42';

let hub;
let browser;
let crm;       // the integrator's CRM (page + backend), listed in Hub__CrmOrigins
let foreign;   // the same CRM page and backend on an origin the hub does not list
let phone;     // the webphone, a third origin
let tenantId;
let apiKey;

// ---- the integrator's servers -------------------------------------------------------------------

/** The CRM page, from the README snippet only: the webphone iframe, the hub's relay, pop/status/command. */
function crmPage(ownOrigin) {
  const hubUrl = hub.url;
  const phoneOrigin = phone.origin;
  const frameSrc = `${phoneOrigin}/webphone-simulator/?parent_origin=${encodeURIComponent(ownOrigin)}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Integrator CRM</title></head>
<body>
  <h1>Integrator CRM</h1>
  <p>Hub: <span id="badge" data-testid="status" data-status="none">none</span></p>
  <iframe id="zorio-frame" src="${frameSrc}" allow="microphone" width="420" height="640"></iframe>
  <section id="pops" data-testid="pops"></section>
  <ol id="commands" data-testid="commands"></ol>
  <ol id="problems" data-testid="problems"></ol>
  <script src="${hubUrl}/relay/hub-relay.js"></script>
  <script>
    const badge = document.getElementById('badge');
    function showCustomer(customer, url, pop) {
      const card = document.createElement('div');
      card.dataset.testid = 'pop';
      card.dataset.callId = pop.call_id;
      if (url) card.dataset.url = url;
      card.textContent = customer.display_name ?? ('Unknown caller ' + customer.unknown);
      document.getElementById('pops').prepend(card);
    }
    function log(command) {
      const item = document.createElement('li');
      item.dataset.testid = 'command';
      item.dataset.type = command.type;
      item.dataset.commandId = command.command_id;
      item.dataset.number = command.payload?.number ?? '';
      item.textContent = command.type + ' ' + JSON.stringify(command.payload);
      document.getElementById('commands').append(item);
    }
    function problem(kind, detail) {
      const item = document.createElement('li');
      item.dataset.testid = 'problem';
      item.dataset.kind = kind;
      item.dataset.code = detail.code ?? detail.reason ?? '';
      item.textContent = kind + ' ' + JSON.stringify(detail);
      document.getElementById('problems').append(item);
    }

    const relay = HubRelay.connect({
      hubUrl: ${JSON.stringify(hubUrl)},
      getToken: async () => (await fetch('/my-backend/hub-token', { method: 'POST' })).text(),
      webphone: { frame: document.getElementById('zorio-frame'), origin: ${JSON.stringify(phoneOrigin)} },
    });
    relay.on('screenPop', pop => showCustomer(pop.matches[0] ?? { unknown: pop.number }, pop.url, pop));
    relay.on('status', status => { badge.textContent = status; badge.dataset.status = status; });
    relay.on('command', command => log(command));
    relay.on('error', error => problem('error', error));
    relay.on('authRequired', reason => problem('authRequired', reason));
  </script>
</body>
</html>`;
}

/** The integrator's CRM: its page at / and its backend at /my-backend/hub-token. */
async function startCrm() {
  const state = { tokenRequests: 0, tokenFailures: [] };
  const listening = await listen(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (request.method === 'GET' && path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(crmPage(listening.origin));
      return;
    }
    if (request.method === 'POST' && path === '/my-backend/hub-token') {
      // The backend: the tenant's API key stays here, the browser only ever sees the single-use token.
      state.tokenRequests++;
      const minted = await fetch(`${hub.url}/api/v1/webphone/embed-token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: AGENT_ID }),
      });
      const text = await minted.text();
      if (!minted.ok) {
        state.tokenFailures.push(`${minted.status} ${text}`);
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end('hub refused the token');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      response.end(JSON.parse(text).embed_token);
      return;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  });
  return Object.assign(listening, { state });
}

const contentTypes = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The webphone on its own origin: the hub's simulator page and the assets it references, copied over. */
async function startPhone() {
  const files = new Map();
  const listening = await listen(async (request, response) => {
    let path = new URL(request.url, 'http://x').pathname;
    if (path === '/webphone-simulator/') path = '/webphone-simulator/index.html';
    const file = files.get(path);
    if (request.method !== 'GET' || !file) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    response.end(file.body);
  });

  /** Fetches the page and every asset it references from the hub (once it runs). */
  async function load() {
    const get = async (path) => {
      const response = await fetch(hub.url + path);
      assert.equal(response.status, 200, `GET ${path} from the hub`);
      return response.text();
    };
    const page = await get('/webphone-simulator/index.html');
    files.set('/webphone-simulator/index.html', { type: contentTypes['.html'], body: page });
    const assets = [...page.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length >= 2, `the simulator page references its script and stylesheet: ${assets}`);
    for (const asset of assets) {
      const url = new URL(asset, `${hub.url}/webphone-simulator/index.html`);
      assert.equal(url.origin, hub.url, `the simulator's asset ${asset} is relative`);
      const extension = url.pathname.slice(url.pathname.lastIndexOf('.'));
      files.set(url.pathname, { type: contentTypes[extension] ?? 'application/octet-stream', body: await get(url.pathname) });
    }
    return [...files.keys()];
  }

  return Object.assign(listening, { load });
}

// ---- REST ---------------------------------------------------------------------------------------

async function rest(method, path, { key = apiKey, account, body } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (account) headers['x-account-id'] = account;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(hub.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls a REST effect that has no browser signal, briefly. */
async function eventually(read, description, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  let last;
  for (;;) {
    last = await read();
    if (last.done) return last.value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}; last: ${JSON.stringify(last.value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- browser ------------------------------------------------------------------------------------

/** A fresh context and page that records console lines, page errors and whether the API key ever left the backend. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(SIGNAL_TIMEOUT_MS);
  const page = await context.newPage();
  const seen = { console: [], pageErrors: [], failedRequests: [], keyLeaks: [] };
  page.on('console', (message) => seen.console.push(`${message.type()}: ${message.text()} (${message.location()?.url ?? ''})`));
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  context.on('requestfailed', (request) => seen.failedRequests.push(`${request.method()} ${request.url()} ${request.failure()?.errorText}`));
  context.on('request', (request) => {
    const headers = JSON.stringify(request.headers());
    if (headers.includes(apiKey) || request.url().includes(apiKey) || (request.postData() ?? '').includes(apiKey)) {
      seen.keyLeaks.push(request.url());
    }
  });
  context.on('response', async (response) => {
    if (response.url().startsWith(hub.url) && !response.url().includes('/relay/')) {
      // Only bodies the page itself could read; an API key never comes back from the hub anyway.
      const body = await response.text().catch(() => '');
      if (body.includes(apiKey)) seen.keyLeaks.push(response.url());
    }
  });
  return { context, page, seen };
}

function phoneFrame(page) {
  return page.frameLocator('#zorio-frame');
}

const status = (page, value) => page.locator(`[data-testid="status"][data-status="${value}"]`);

// ---- setup --------------------------------------------------------------------------------------

before(async () => {
  // The integrator's servers first, so their origins are known when the hub starts.
  phone = await startPhone();
  crm = await startCrm();
  foreign = await startCrm();
  hub = await createHub({ extraArgs: [`--Hub:CrmOrigins:0=${crm.origin}`, '--Hub:Demo:Enabled=false'] });
  await hub.start();
  const files = await phone.load();
  assert.deepEqual(files.sort(), ['/webphone-simulator/index.html', '/webphone-simulator/simulator.css', '/webphone-simulator/simulator.js']);

  browser = await launchChromium();

  // README "A call, end to end", steps 1 and 2, with the admin key and then the tenant's own key.
  const tenant = await rest('POST', '/api/v1/tenants', { key: adminKey, body: { name: 'Integrator Inc' } });
  assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
  tenantId = tenant.body.id;
  const key = await rest('POST', '/api/v1/api-keys', {
    key: adminKey, account: tenantId,
    body: { name: 'integrator-backend', scopes: ['contacts', 'tokens', 'dial', 'calls:read'] },
  });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  apiKey = key.body.key;
  assert.ok(apiKey, 'the API key is returned');
  const contacts = await rest('PUT', '/api/v1/contacts', {
    body: [{ external_id: 'cust-7', display_name: 'Integrator Customer', phones: ['+84 912 345 678'] }],
  });
  assert.ok(contacts.status >= 200 && contacts.status < 300, `${contacts.status} ${JSON.stringify(contacts.body)}`);
});

after(async () => {
  await browser?.close();
  await hub?.dispose();
  await Promise.all([close(crm?.server), close(foreign?.server), close(phone?.server)]);
});

// ---- tests --------------------------------------------------------------------------------------

test('the demo is off: the integrator uses only the relay and the REST API', async () => {
  assert.equal((await fetch(`${hub.url}/demo/api/config`)).status, 404);
  const relay = await fetch(`${hub.url}/relay/hub-relay.js`, { headers: { origin: crm.origin } });
  assert.equal(relay.status, 200);
  await relay.arrayBuffer();
});

test('a CRM page on its own origin, from the README snippet: connects, pops, and takes click-to-call from its backend', async (t) => {
  const { context, page, seen } = await newPage();
  try {
    const started = Date.now();
    const mark = (label) => t.diagnostic(`${label}: ${Date.now() - started} ms`);

    await page.goto(`${crm.origin}/`);
    await status(page, 'connected').waitFor();
    mark('connected');
    const simulator = phoneFrame(page);
    await simulator.locator('[data-testid="registration"][data-state="registered"]').waitFor();
    assert.equal(await simulator.getByTestId('parent-origin').textContent(), `parent ${crm.origin}`);
    assert.ok(crm.state.tokenRequests >= 1, 'the page asked its backend for the token');
    assert.deepEqual(crm.state.tokenFailures, []);

    // The agent's phone rings: the pop for the contact the backend upserted appears on the CRM page.
    await simulator.getByTestId('number').fill('0912345678');
    await simulator.getByTestId('ring').click();
    await simulator.locator('[data-testid="call-state"][data-state="ringing"]').waitFor();
    const uuid = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
    assert.ok(uuid, 'the simulator shows the call id');
    const pop = page.locator(`[data-testid="pop"][data-call-id="${uuid}"]`);
    await pop.waitFor();
    mark('screen-pop');
    assert.equal(await pop.textContent(), 'Integrator Customer');
    await simulator.getByTestId('hangup').click();
    await simulator.locator('[data-testid="call-state"][data-state="ended"]').waitFor();

    // Click-to-call from the integrator's backend, with its API key.
    const dial = await rest('POST', `/api/v1/agents/${AGENT_ID}/dial`, { body: { number: '0987654321' } });
    assert.equal(dial.status, 202, JSON.stringify(dial.body));
    const commandId = dial.body.command_id;
    const logged = page.locator(`[data-testid="command"][data-type="call"][data-command-id="${commandId}"]`);
    await logged.waitFor();
    assert.equal(await logged.getAttribute('data-number'), '0987654321');
    await simulator.locator('[data-testid="dialled-number"][data-number="0987654321"]').waitFor();
    assert.equal(await simulator.getByTestId('dialled-number').textContent(), 'Dialling 0987654321');
    mark('dial in the webphone');
    const command = await eventually(async () => {
      const read = await rest('GET', `/api/v1/commands/${commandId}`);
      return { done: read.status === 200 && read.body.status === 'delivered', value: read.body };
    }, `command ${commandId} delivered`);
    assert.equal(command.status, 'delivered');
    mark('command delivered');

    // The outgoing call the webphone reported reaches the call log, with the tenant's read scope.
    const outgoing = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
    await eventually(async () => {
      const read = await rest('GET', `/api/v1/calls/${encodeURIComponent(outgoing)}`);
      return { done: read.status === 200, value: read.body };
    }, `call ${outgoing} in the log`);

    assert.deepEqual(await page.getByTestId('problem').allTextContents(), []);
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.console.filter((line) => line.startsWith('error')), []);
    assert.deepEqual(seen.failedRequests, []);
    assert.deepEqual(seen.keyLeaks, [], 'the API key never reaches the browser');
  } catch (error) {
    t.diagnostic(`console:\n${seen.console.join('\n')}\nfailed requests:\n${seen.failedRequests.join('\n')}\nhub:\n${hub.output().slice(-4000)}`);
    throw error;
  } finally {
    await context.close();
  }
});

test('the same page on an origin not in Hub__CrmOrigins gets no session: CORS blocks the token exchange', async (t) => {
  // What the browser is told, from the hub's preflight answers.
  const preflight = async (origin) => {
    const response = await fetch(`${hub.url}/api/v1/sessions`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    await response.arrayBuffer();
    return response.headers.get('access-control-allow-origin');
  };
  assert.equal(await preflight(crm.origin), crm.origin);
  assert.equal(await preflight(foreign.origin), null);

  const allowed = await newPage();
  const blocked = await newPage();
  try {
    const corsBlocked = blocked.page.waitForEvent('console', {
      predicate: (message) => /\/api\/v1\/sessions/.test(message.text()) && /blocked by CORS policy/.test(message.text()),
    });
    const tokenRequestsBefore = foreign.state.tokenRequests;
    // Both at once; the allowed page reaching `connected` is the barrier.
    await Promise.all([allowed.page.goto(`${crm.origin}/`), blocked.page.goto(`${foreign.origin}/`)]);
    await status(allowed.page, 'connected').waitFor();

    // The blocked page's backend gave it a token, but the browser refused the hub's answer to the exchange.
    const message = await corsBlocked;
    t.diagnostic(`blocked page console: ${message.text()}`);
    await blocked.page.locator('[data-testid="problem"][data-kind="error"][data-code="token_failed"]').first().waitFor();
    assert.ok(foreign.state.tokenRequests > tokenRequestsBefore, 'the blocked page asked its backend for a token');
    assert.ok(blocked.seen.failedRequests.some((line) => line.includes(`${hub.url}/api/v1/sessions`)),
      `failed requests: ${blocked.seen.failedRequests.join('; ')}`);

    const badge = blocked.page.getByTestId('status');
    assert.notEqual(await badge.getAttribute('data-status'), 'connected');
    assert.ok(['connecting', 'reconnecting'].includes(await badge.getAttribute('data-status')));
    // The webphone in the blocked page works (it is the hub that refuses): its events just wait in the outbox.
    await phoneFrame(blocked.page).locator('[data-testid="registration"][data-state="registered"]').waitFor();

    // The hub sees one live connection for the agent: the allowed page's.
    const agents = await eventually(async () => {
      const read = await rest('GET', '/api/v1/agents');
      const agent = read.body?.find?.((a) => a.agent_id === AGENT_ID);
      return { done: agent?.connections === 1, value: read.body };
    }, 'one live connection for the agent');
    assert.equal(agents.find((a) => a.agent_id === AGENT_ID).connections, 1);
    assert.deepEqual(blocked.seen.keyLeaks, []);
    assert.notEqual(await badge.getAttribute('data-status'), 'connected');
  } catch (error) {
    t.diagnostic(`blocked console:\n${blocked.seen.console.join('\n')}\nallowed console:\n${allowed.seen.console.join('\n')}`);
    throw error;
  } finally {
    await allowed.context.close();
    await blocked.context.close();
  }
});

test('the relay refuses to start when its webphone origin is not in the account\'s webphone_origins', async (t) => {
  const configured = await rest('PUT', '/api/v1/config', { key: adminKey, account: tenantId, body: { webphone_origins: ['https://app.zorio.vn'] } });
  assert.equal(configured.status, 200, JSON.stringify(configured.body));
  const { context, page, seen } = await newPage();
  try {
    await page.goto(`${crm.origin}/`);
    const refused = page.locator('[data-testid="problem"][data-kind="error"][data-code="webphone_origin_not_allowed"]');
    await refused.waitFor();
    assert.match(await refused.textContent(), new RegExp(`"origin":"${phone.origin.replace(/[.]/g, '\\.')}"`));
    await status(page, 'offline').waitFor();

    // The webphone still rings, but nothing reaches the hub: no call is logged for it.
    const simulator = phoneFrame(page);
    await simulator.locator('[data-testid="registration"][data-state="registered"]').waitFor();
    await simulator.getByTestId('number').fill('0912345678');
    await simulator.getByTestId('ring').click();
    await simulator.locator('[data-testid="call-state"][data-state="ringing"]').waitFor();
    const uuid = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
    await simulator.getByTestId('hangup').click();
    await simulator.locator('[data-testid="call-state"][data-state="ended"]').waitFor();

    // The barrier that proves the path ran: once the origin is listed, the same tab connects and its next
    // call is logged. The refused call was neither sent then nor kept to be sent later.
    const listed = await rest('PUT', '/api/v1/config', { key: adminKey, account: tenantId, body: { webphone_origins: [phone.origin] } });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    await page.reload();
    await status(page, 'connected').waitFor();
    await simulator.locator('[data-testid="registration"][data-state="registered"]').waitFor();
    await simulator.getByTestId('number').fill('0912345678');
    await simulator.getByTestId('ring').click();
    await simulator.locator('[data-testid="call-state"][data-state="ringing"]').waitFor();
    const allowedUuid = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
    assert.notEqual(allowedUuid, uuid);
    await page.locator(`[data-testid="pop"][data-call-id="${allowedUuid}"]`).waitFor();
    await eventually(async () => {
      const read = await rest('GET', `/api/v1/calls/${encodeURIComponent(allowedUuid)}`);
      return { done: read.status === 200, value: read.status };
    }, `call ${allowedUuid} in the log`);

    assert.equal((await rest('GET', `/api/v1/calls/${encodeURIComponent(uuid)}`)).status, 404);
    assert.equal(await page.locator(`[data-testid="pop"][data-call-id="${uuid}"]`).count(), 0);
    assert.deepEqual(seen.keyLeaks, []);
  } catch (error) {
    t.diagnostic(`console:\n${seen.console.join('\n')}`);
    throw error;
  } finally {
    await context.close();
    await rest('DELETE', '/api/v1/config', { key: adminKey, account: tenantId });
  }
});
