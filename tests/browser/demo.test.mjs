// The /demo CRM page and the webphone simulator in a real Chromium, against a real hub process: what a new
// user sees first, and the browser half of the product (the relay's origin checks, screen-pops,
// click-to-call through the hub, the outbox across a hub restart).
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminKey, createHub } from './hub-process.mjs';
import { eventually, launchChromium } from './support.mjs';

const screenshots = join(import.meta.dirname, 'screenshots');
const docsImage = resolve(import.meta.dirname, '..', '..', 'docs', 'images', 'demo.png');
const SIGNAL_TIMEOUT_MS = 20_000;

let hub;
let browser;
let config;
let context;
let page;

before(async () => {
  hub = await createHub();
  await hub.start();
  browser = await launchChromium();
  config = await (await fetch(`${hub.url}/demo/api/config`)).json();
});

after(async () => {
  await browser?.close();
  await hub?.dispose();
});

beforeEach(async () => {
  // A fresh context per test: its own sessionStorage, so no relay outbox carries over.
  context = await browser.newContext({ viewport: { width: 1440, height: 960 } });
  context.setDefaultTimeout(SIGNAL_TIMEOUT_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
});

afterEach(async () => {
  if (hub && !hub.running) await hub.start(); // a failed restart test must not take the others down
  await context?.close();
});

// ---- helpers ------------------------------------------------------------------------------------

/** Opens the demo page and waits until the relay is connected and the simulator has registered. */
async function openDemo() {
  await page.goto(`${hub.url}/demo/index.html`);
  await waitForStatus('connected');
  const simulator = page.frameLocator('#zorio-frame');
  await simulator.locator('[data-testid="registration"][data-state="registered"]').waitFor();
  return simulator;
}

async function waitForStatus(status) {
  await page.locator(`[data-testid="relay-status"][data-status="${status}"]`).waitFor();
}

/** The simulator frame itself, for evaluate(). */
function simulatorFrame() {
  const frame = page.frames().find((f) => f.url().includes('/webphone-simulator/'));
  assert.ok(frame, 'the simulator frame is loaded');
  return frame;
}

/** Rings `number` in the simulator and returns the call's uuid. */
async function ring(simulator, number) {
  await simulator.getByTestId('number').fill(number);
  await simulator.getByTestId('ring').click();
  await simulator.locator('[data-testid="call-state"][data-state="ringing"]').waitFor();
  const uuid = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
  assert.ok(uuid, 'the simulator shows the call id');
  return uuid;
}

/** Hangs up in the simulator and returns the billsec it posted. */
async function hangUp(simulator) {
  await simulator.getByTestId('hangup').click();
  await simulator.locator('[data-testid="call-state"][data-state="ended"]').waitFor();
  return Number(await simulator.getByTestId('call-detail').getAttribute('data-billsec'));
}

function popFor(callId) {
  return page.locator(`[data-testid="screen-pop"][data-call-id="${callId}"]`);
}

async function api(path) {
  const response = await fetch(hub.url + path, { headers: { authorization: `Bearer ${adminKey}`, 'x-account-id': config.tenant_id } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Every call of the demo tenant, following the cursor. */
async function allCalls() {
  const items = [];
  let cursor = null;
  do {
    const page = await api(`/api/v1/calls?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    items.push(...page.body.items);
    cursor = page.body.next_cursor;
  } while (cursor);
  return items;
}

/** The call once its hangup is in the log (billsec set). */
async function loggedCall(callId) {
  return eventually(async () => (await allCalls()).find((c) => c.call_id === callId && c.billsec !== null), `call ${callId} in the call log`);
}

/** Resolves when the relay's stored outbox is empty: everything the page relayed was acknowledged. */
async function outboxDrained() {
  await page.waitForFunction(() => {
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      if (key.startsWith('hub-relay:outbox:')) {
        const stored = JSON.parse(sessionStorage.getItem(key) || '{}');
        if ((stored.items || []).length) return false;
      }
    }
    return true;
  }, null, { timeout: SIGNAL_TIMEOUT_MS });
}

// ---- tests --------------------------------------------------------------------------------------

// First, while no page has ever connected as the demo agent.
test('click-to-call while the webphone is not connected to the hub says so', async () => {
  // The CRM backend refuses tokens, so the relay never connects and the hub has no agent to dial.
  await page.route('**/demo/api/token', (route) => route.fulfill({ status: 503, contentType: 'text/plain', body: 'backend down' }));
  await page.goto(`${hub.url}/demo/index.html`);
  await page.locator('[data-testid="event-log"] [data-kind="error"][data-title="token_failed"]').first().waitFor();
  await page.getByTestId('dial-c-1001').click();

  const toast = page.locator('[data-testid="toast"][data-kind="error"]');
  await toast.filter({ hasText: 'The webphone is offline' }).waitFor();
  const refused = page.locator('[data-testid="event-log"] [data-kind="error"][data-title="dial +84 912 345 678 refused"]');
  assert.match(await refused.textContent(), /agent_offline/);
  assert.notEqual(await page.getByTestId('relay-status').textContent(), 'connected');
});

test('/demo, the address a new user opens, shows the demo page', async () => {
  const response = await page.goto(`${hub.url}/demo`);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/demo/');
  assert.equal(await page.title(), 'Demo CRM · Agent desktop');
  await waitForStatus('connected');
  await page.getByTestId('dial-c-1005').waitFor();
});

test('the simulator obeys commands only from its parent\'s origin', async () => {
  const simulator = await openDemo();
  const frame = simulatorFrame();

  // From the simulator's own window (its own origin, not the parent): ignored and logged as such.
  await frame.evaluate(() => window.postMessage({ source: 'zorio-webphone', type: 'send_dtmf', payload: { digits: '666' } }, '*'));
  await simulator.locator('[data-testid="log"] li[data-dir="drop"][data-type="send_dtmf"]').waitFor();
  // From the parent page with the marker: obeyed. Without it: ignored.
  await page.evaluate((origin) => {
    const target = document.getElementById('zorio-frame').contentWindow;
    target.postMessage({ type: 'send_dtmf', payload: { digits: '777' } }, origin);
    target.postMessage({ source: 'zorio-webphone', type: 'send_dtmf', payload: { digits: '12' } }, origin);
    target.postMessage({ source: 'zorio-webphone', type: 'refresh_token', payload: { token: 'secret-token' } }, origin);
  }, config.webphone_origin);
  await simulator.getByTestId('token-status').filter({ hasText: 'token refreshed' }).waitFor();
  assert.equal(await simulator.getByTestId('dtmf').textContent(), 'DTMF 12');
  assert.doesNotMatch(await simulator.getByTestId('log').textContent(), /secret-token/);

  // Opened without ?parent_origin= it refuses to work rather than post to '*'.
  const bare = await context.newPage();
  await bare.goto(`${config.webphone_origin}/webphone-simulator/`);
  await bare.getByTestId('fatal').waitFor();
  assert.equal(await bare.getByTestId('ring').isDisabled(), true);
  assert.equal(await bare.getByTestId('log').locator('li').count(), 0);
});

test('ringing in the webphone pops the matching contact in the CRM page', async () => {
  const simulator = await openDemo();
  const uuid = await ring(simulator, '0912345678'); // stored as +84 912 345 678

  const pop = popFor(uuid);
  await pop.waitFor();
  assert.equal(await pop.getByTestId('pop-name').textContent(), 'Nguyen Van An');
  assert.equal(await pop.getByTestId('pop-company').textContent(), 'Acme Logistics');
  assert.equal(await pop.getByTestId('pop-link').getAttribute('href'), 'https://crm.example/contacts/c-1001');
  const fields = await pop.getByTestId('pop-fields').evaluate((list) =>
    Object.fromEntries([...list.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert.deepEqual(fields, { tier: 'gold', owner: 'Minh' });
  // The newest pop is first.
  assert.equal(await page.getByTestId('screen-pop').first().getAttribute('data-call-id'), uuid);
  await page.locator('[data-testid="event-log"] [data-kind="event"][data-title="incoming_call"]').first().waitFor();
});

test('an answered and hung-up call is logged once, with the billsec the webphone computed', async () => {
  const simulator = await openDemo();
  const uuid = await ring(simulator, '0912345678');
  await popFor(uuid).waitFor();

  await simulator.getByTestId('answer').click();
  await simulator.locator('[data-testid="call-state"][data-state="answered"]').waitFor();
  await popFor(uuid).locator('[data-testid="pop-state"][data-state="answered"]').waitFor();
  // Let the call last a second (the simulator's own timer is the signal), so billsec is not trivially 0.
  await simulator.locator('[data-testid="call-timer"]', { hasText: '00:01' }).waitFor();
  const billsec = await hangUp(simulator);
  assert.ok(billsec >= 1, `billsec ${billsec}`);
  await popFor(uuid).locator('[data-testid="pop-state"][data-state="ended"]').waitFor();

  const call = await loggedCall(uuid);
  assert.equal(call.status, 'answered');
  assert.equal(call.billsec, billsec);
  assert.equal(call.direction, 'inbound');
  assert.equal(call.contact?.external_id, 'c-1001');
  await outboxDrained();
  assert.equal((await allCalls()).filter((c) => c.call_id === uuid).length, 1);

  const detail = await api(`/api/v1/calls/${encodeURIComponent(uuid)}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.body.events.map((e) => e.type), ['incoming_call', 'call_answered', 'call_hangup']);
});

test('"Call" on a contact dials through the hub into the webphone', async () => {
  const simulator = await openDemo();
  await page.getByTestId('dial-c-1002').click();

  await simulator.getByTestId('dialled-number').filter({ hasText: 'Dialling 0987 654 321' }).waitFor();
  await page.locator('[data-testid="event-log"] [data-kind="command"][data-title="call"]').waitFor();
  // The simulator reports the outgoing call and, a moment later, the callee picking up.
  await simulator.locator('[data-testid="call-state"][data-state="answered"]').waitFor();
  const uuid = await simulator.getByTestId('call-detail').getAttribute('data-call-id');
  await page.locator('[data-testid="event-log"] [data-kind="event"][data-title="call_answered"]').waitFor();

  // The toggles and the error button post their events, which the relay relays.
  for (const [button, type] of [['hold', 'call_hold'], ['hold', 'call_unhold'], ['mute', 'call_mute'], ['mute', 'call_unmute'], ['error', 'error']]) {
    await simulator.getByTestId(button).click();
    await page.locator(`[data-testid="event-log"] [data-kind="event"][data-title="${type}"]`).waitFor();
  }
  const billsec = await hangUp(simulator);

  const call = await loggedCall(uuid);
  assert.equal(call.direction, 'outbound');
  assert.equal(call.billsec, billsec);
  assert.equal(call.to_number, '0987 654 321');
  const detail = await api(`/api/v1/calls/${encodeURIComponent(uuid)}`);
  assert.deepEqual(detail.body.events.map((e) => e.type),
    ['outgoing_call', 'call_answered', 'call_hold', 'call_unhold', 'call_mute', 'call_unmute', 'call_hangup']);
});

test('messages from another origin or without the webphone marker are not relayed', async () => {
  const simulator = await openDemo();

  // The CRM page itself (the wrong origin, the wrong window) forges a webphone event...
  await page.evaluate(() => window.postMessage(
    { source: 'zorio-webphone', type: 'incoming_call', payload: { call: { uuid: 'forged-1', number: '0912345678' } } }, '*'));
  // ...and the simulator's frame (the right origin and window) posts one without the `source` marker.
  await simulatorFrame().evaluate((origin) => window.parent.postMessage(
    { type: 'incoming_call', payload: { call: { uuid: 'forged-2', number: '0912345678' } } }, origin), new URL(hub.url).origin);

  // A real call afterwards is the barrier: the relay handles messages in order and sends its outbox in order.
  const uuid = await ring(simulator, '0912345678');
  await popFor(uuid).waitFor();
  await hangUp(simulator);
  await loggedCall(uuid);
  await outboxDrained();

  for (const forged of ['forged-1', 'forged-2']) {
    assert.equal((await api(`/api/v1/calls/${forged}`)).status, 404, `${forged} reached the hub`);
    assert.equal(await popFor(forged).count(), 0, `a pop for ${forged}`);
  }
  const log = await page.getByTestId('event-log').textContent();
  assert.doesNotMatch(log, /forged/);
});

test('the relay reconnects after the hub restarts and delivers the call made while it was down, once', async () => {
  const simulator = await openDemo();

  await hub.stop();
  await waitForStatus('reconnecting');

  const uuid = await ring(simulator, '0912345678');
  await simulator.getByTestId('answer').click();
  await simulator.locator('[data-testid="call-state"][data-state="answered"]').waitFor();
  const billsec = await hangUp(simulator);
  // Nothing could be delivered: the events wait in the page's outbox.
  await page.locator('[data-testid="event-log"] [data-kind="event"][data-title="call_hangup"]').waitFor();
  assert.equal(await page.getByTestId('relay-status').textContent(), 'reconnecting');

  await hub.start();
  await waitForStatus('connected');
  await outboxDrained();

  const call = await loggedCall(uuid);
  assert.equal(call.status, 'answered');
  assert.equal(call.billsec, billsec);
  assert.equal((await allCalls()).filter((c) => c.call_id === uuid).length, 1);
  const detail = await api(`/api/v1/calls/${encodeURIComponent(uuid)}`);
  assert.equal(detail.body.events.filter((e) => e.type === 'call_hangup').length, 1);
});

test('screenshot of the demo page after screen-pops', async () => {
  const simulator = await openDemo();

  // An unknown caller first, then a known one that is answered: the README picture.
  const unknown = await ring(simulator, '0281234567');
  await popFor(unknown).waitFor();
  assert.equal(await popFor(unknown).getByTestId('pop-name').textContent(), 'Unknown caller 0281234567');
  await hangUp(simulator);

  const known = await ring(simulator, '0912345678');
  await popFor(known).waitFor();
  await simulator.getByTestId('answer').click();
  await popFor(known).locator('[data-testid="pop-state"][data-state="answered"]').waitFor();
  assert.equal(await page.getByTestId('screen-pop').first().getAttribute('data-call-id'), known);

  mkdirSync(screenshots, { recursive: true });
  const file = join(screenshots, 'demo.png');
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  await page.screenshot({ path: join(screenshots, 'demo-full.png'), fullPage: true, animations: 'disabled' });
  // The README's copy changes only when asked for: UPDATE_DOCS_SCREENSHOT=1 npm test.
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(file, docsImage);
});
