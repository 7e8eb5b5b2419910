// Erasure and the tenant depth cap, against a real hub process with the real @microsoft/signalr client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import { adminKey, startHub } from './hub-process.mjs';

const TIMEOUT = 15_000;

let hub;
before(async () => { hub = await startHub(); });
after(async () => { await hub?.stop(); });

async function api(method, path, key, body, headers = {}) {
  const response = await fetch(hub.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, type: response.headers.get('content-type') };
}

/** A promise that fails the test instead of hanging it. */
function within(promise, what) {
  let timer;
  const timeout = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`Timed out: ${what}`)), TIMEOUT); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function envelope(type, payload, seq, occurredAt = new Date()) {
  return { event_id: randomUUID(), seq, occurred_at: occurredAt.toISOString(), type, payload };
}

async function waitFor(read, description) {
  // The call log is written by a consumer after the ack; the REST API is the integrator's only window on it.
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads the event stream from its beginning until the event `untilEventId`; returns the event ids read. */
async function readStreamUntil(key, untilEventId) {
  const response = await fetch(`${hub.url}/api/v1/events/stream?from=beginning`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(TIMEOUT),
  });
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const ids = [];
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('The stream ended before the marker event.');
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
        if (!data) continue;
        const id = JSON.parse(data).id;
        ids.push(id);
        if (id === untilEventId) return ids;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function crmTenant(name, scopes) {
  const tenant = await api('POST', '/api/v1/tenants', adminKey, { name });
  assert.equal(tenant.status, 201);
  const key = await api('POST', '/api/v1/api-keys', adminKey, { name: 'backend', scopes }, { 'x-account-id': tenant.body.id });
  assert.equal(key.status, 201);
  return { tenantId: tenant.body.id, key: key.body.key };
}

test('an erased number is gone from the call log, the contacts and the event stream', async () => {
  const { key } = await crmTenant('Acme CRM', ['contacts', 'tokens', 'calls:read', 'calls:write', 'webhooks']);
  assert.equal((await api('PUT', '/api/v1/contacts', key, [
    { external_id: 'c-1', display_name: 'Forget me', phones: ['+84 912 345 678', '+84 987 000 111'] },
  ])).status, 200);

  const minted = await api('POST', '/api/v1/webphone/embed-token', key, { agent_id: 'agent-7' });
  const session = await fetch(`${hub.url}/api/v1/sessions`, {
    method: 'POST', headers: { authorization: `Bearer ${minted.body.embed_token}` }, signal: AbortSignal.timeout(TIMEOUT),
  });
  assert.equal(session.status, 200);
  const { session_token: sessionToken } = await session.json();
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/agent`, { accessTokenFactory: () => sessionToken })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  connection.on('ScreenPop', () => {});
  await within(connection.start(), 'the agent connection');

  try {
    const start = new Date(Date.now() - 120_000);
    const erasedCall = [
      envelope('incoming_call', { call: { uuid: 'call-forget', number: '0912345678' } }, 1, start),
      envelope('call_answered', { call: { uuid: 'call-forget' } }, 2, new Date(start.getTime() + 5_000)),
      envelope('call_hangup', { call: { uuid: 'call-forget', number: '0912345678' }, billsec: 42 }, 3, new Date(start.getTime() + 47_000)),
    ];
    const keptCall = envelope('incoming_call', { call: { uuid: 'call-keep', number: '0987000222' } }, 4, new Date(start.getTime() + 60_000));
    for (const event of [...erasedCall, keptCall]) {
      assert.equal((await within(connection.invoke('Publish', event), 'an ack')).status, 'accepted');
    }

    await waitFor(async () => {
      const page = await api('GET', '/api/v1/calls', key);
      return page.body.items.some((c) => c.call_id === 'call-forget' && c.billsec === 42) && page.body.items.some((c) => c.call_id === 'call-keep');
    }, 'both calls in the log');

    const erased = await api('POST', '/api/v1/privacy/erasures', key, { number: '+84 912 345 678' });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.deepEqual(erased.body, { calls: 1, events: 3, contacts: 1 });

    const found = await api('GET', '/api/v1/calls?number=0912345678', key);
    assert.deepEqual(found.body.items, []);
    const call = await api('GET', '/api/v1/calls/call-forget', key);
    assert.equal(call.body.status, 'answered');
    assert.equal(call.body.billsec, 42);
    assert.equal(call.body.from_number, 'erased');
    assert.equal(call.body.contact, null);
    assert.ok(call.body.erased_at);
    assert.ok(call.body.events.every((e) => e.payload === 'erased'));
    assert.doesNotMatch(JSON.stringify(call.body), /345678/);
    assert.deepEqual((await api('GET', '/api/v1/contacts/c-1', key)).body.phones, ['+84 987 000 111']);

    // The stream replays the other call and what came after, never the erased call's events.
    const marker = envelope('registered', null, 5);
    assert.equal((await within(connection.invoke('Publish', marker), 'an ack')).status, 'accepted');
    const replayed = await readStreamUntil(key, marker.event_id);
    assert.deepEqual(replayed, [keptCall.event_id, marker.event_id]);
  } finally {
    await connection.stop();
  }

  const invalid = await api('POST', '/api/v1/privacy/erasures', key, { number: 'call me maybe' });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.type, 'application/problem+json');
  assert.equal(invalid.body.code, 'invalid_number');
});

test('a tenant nested deeper than the maximum depth is refused with tenant_too_deep', async () => {
  // Level 1 is a child of the master; 16 levels are allowed by default.
  let parentId = (await api('POST', '/api/v1/tenants', adminKey, { name: 'level 1' })).body.id;
  for (let level = 2; level <= 16; level++) {
    const created = await api('POST', '/api/v1/tenants', adminKey, { name: `level ${level}`, parent_id: parentId });
    assert.equal(created.status, 201, `level ${level}: ${JSON.stringify(created.body)}`);
    parentId = created.body.id;
  }

  const tooDeep = await api('POST', '/api/v1/tenants', adminKey, { name: 'level 17', parent_id: parentId });
  assert.equal(tooDeep.status, 400);
  assert.equal(tooDeep.type, 'application/problem+json');
  assert.equal(tooDeep.body.code, 'tenant_too_deep');

  // The deepest tenant stays in reach of the master's key.
  const reached = await api('GET', '/api/v1/tenants', adminKey, undefined, { 'x-account-id': parentId });
  assert.equal(reached.status, 200);
  assert.deepEqual(reached.body.map((t) => t.id), [parentId]);
});
