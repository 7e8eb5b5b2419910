// The README's walkthrough, run against a real hub process with the real @microsoft/signalr client:
// what a CRM integrator does on day one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import { adminKey, startHub } from './hub-process.mjs';

let hub;
before(async () => { hub = await startHub(); });
after(async () => { await hub?.stop(); });

async function api(method, path, key, body, headers = {}) {
  const response = await fetch(hub.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(SIGNAL_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, type: response.headers.get('content-type') };
}

function envelope(type, payload, seq, occurredAt = new Date()) {
  return { event_id: randomUUID(), seq, occurred_at: occurredAt.toISOString(), type, payload };
}

const SIGNAL_TIMEOUT_MS = 10_000;

/** Resolves with the next invocation of `method` on the connection; rejects if none comes in time (a lost pop must fail, not hang). */
function next(connection, method) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { connection.off(method, handler); reject(new Error(`No ${method} within ${SIGNAL_TIMEOUT_MS} ms`)); }, SIGNAL_TIMEOUT_MS);
    const handler = (arg) => { clearTimeout(timer); connection.off(method, handler); resolve(arg); };
    connection.on(method, handler);
  });
}

async function waitFor(read, description) {
  // Effects of the bus are asynchronous; the REST API is the integrator's only window, so poll it briefly.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a CRM integrator gets a screen-pop, a logged call and click-to-call', { timeout: 120_000 }, async () => {
  // 1. A tenant and a key for its CRM backend.
  const tenant = await api('POST', '/api/v1/tenants', adminKey, { name: 'Acme CRM' });
  assert.equal(tenant.status, 201);
  const key = await api('POST', '/api/v1/api-keys', adminKey, { name: 'acme-backend', scopes: ['contacts', 'tokens', 'dial', 'calls:read'] },
    { 'x-account-id': tenant.body.id });
  assert.equal(key.status, 201);
  const crmKey = key.body.key;

  // 2. A contact whose number is written differently from how the webphone will report it.
  const upsert = await api('PUT', '/api/v1/contacts', crmKey, [
    { external_id: 'c-42', display_name: 'Nguyen Van A', company: 'Acme', phones: ['+84 912 345 678'], url: 'https://crm.example/contacts/c-42' },
  ]);
  assert.equal(upsert.status, 200);

  // 3. The backend mints an embed token; the page exchanges it for a session.
  const minted = await api('POST', '/api/v1/webphone/embed-token', crmKey, { agent_id: 'agent-7' });
  assert.equal(minted.status, 200);
  const session = await fetch(`${hub.url}/api/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${minted.body.embed_token}` } });
  assert.equal(session.status, 200);
  const { session_token: sessionToken } = await session.json();

  const replay = await fetch(`${hub.url}/api/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${minted.body.embed_token}` } });
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).code, 'token_replayed');

  // 4. The relay connects with the real SignalR client.
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/agent`, { accessTokenFactory: () => sessionToken })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  await connection.start();
  const hello = await connection.invoke('Hello');
  assert.equal(hello.agent_id, 'agent-7');
  assert.equal(hello.tenant_id, tenant.body.id);

  try {
    // 5. incoming_call in national format pops the contact saved in international format.
    const pop = next(connection, 'ScreenPop');
    const start = new Date(Date.now() - 60_000);
    const incoming = envelope('incoming_call', { call: { uuid: 'call-e2e-1', number: '0912345678' } }, 1, start);
    const ack = await connection.invoke('Publish', incoming);
    assert.deepEqual(ack, { event_id: incoming.event_id, status: 'accepted', error: null });
    const shown = await pop;
    assert.equal(shown.call_id, 'call-e2e-1');
    assert.equal(shown.unknown_caller, false);
    assert.equal(shown.matches[0].display_name, 'Nguyen Van A');
    assert.equal(shown.url, 'https://crm.example/contacts/c-42');

    // The same event again is a duplicate.
    assert.equal((await connection.invoke('Publish', incoming)).status, 'duplicate');

    // A malformed event is refused and the connection stays usable.
    await assert.rejects(connection.invoke('Publish', envelope('incoming_call', { call: { uuid: 'x' } }, 2)), /invalid_event: incoming_call needs payload.call.number/);

    // 6. Answer and hang up with billsec 42; the call is in the log.
    await connection.invoke('Publish', envelope('call_answered', { call: { uuid: 'call-e2e-1' } }, 3, new Date(start.getTime() + 5_000)));
    await connection.invoke('Publish', envelope('call_hangup', { call: { uuid: 'call-e2e-1' }, billsec: 42 }, 4, new Date(start.getTime() + 47_000)));
    const call = await waitFor(async () => {
      const page = await api('GET', '/api/v1/calls', crmKey);
      return page.body.items.find((c) => c.call_id === 'call-e2e-1' && c.billsec !== null);
    }, 'the logged call');
    assert.equal(call.billsec, 42);
    assert.equal(call.status, 'answered');
    assert.equal(call.contact.external_id, 'c-42');

    // 7. Click-to-call arrives as a `call` command; reporting the result marks it delivered.
    const command = next(connection, 'Command');
    const dial = await api('POST', '/api/v1/agents/agent-7/dial', crmKey, { number: '0987654321', options: { campaignId: 36 } });
    assert.equal(dial.status, 202);
    assert.equal(dial.body.status, 'pending');
    const received = await command;
    assert.equal(received.type, 'call');
    assert.equal(received.payload.number, '0987654321');
    await connection.invoke('CommandResult', { command_id: received.command_id, status: 'delivered' });
    const status = await api('GET', `/api/v1/commands/${dial.body.command_id}`, crmKey);
    assert.equal(status.body.status, 'delivered');
  } finally {
    await connection.stop();
  }

  // 8. Nobody connected: dial is refused with agent_offline.
  const offline = await api('POST', '/api/v1/agents/agent-nobody/dial', crmKey, { number: '0987654321' });
  assert.equal(offline.status, 409);
  assert.equal(offline.type, 'application/problem+json');
  assert.equal(offline.body.code, 'agent_offline');
});
