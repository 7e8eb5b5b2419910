// Black-box checks of issue 14 points 3 and 4 against a separately started hub: a revoked key's open event
// stream ends by itself, and a key holds at most 10 streams (the 11th is 429 too_many_streams).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, adminKey } from './hub-process.mjs';

const timeout = () => AbortSignal.timeout(15_000);
let hub;

before(async () => {
  hub = await startHub({ env: { Hub__Limits__StreamCredentialCheck: '00:00:00.300' } });
});

after(async () => {
  await hub?.stop();
});

async function api(path, { key = adminKey, method = 'GET', body, account } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (body) headers['content-type'] = 'application/json';
  if (account) headers['x-account-id'] = account;
  return fetch(new URL(path, hub.url), { method, headers, body: body && JSON.stringify(body), signal: timeout() });
}

async function tenantWithKey(name) {
  const tenant = await (await api('/api/v1/tenants', { method: 'POST', body: { name } })).json();
  const created = await api('/api/v1/api-keys', { method: 'POST', account: tenant.id, body: { name: 'crm', scopes: ['webhooks'] } });
  assert.equal(created.status, 201);
  return { tenantId: tenant.id, ...(await created.json()) };
}

function openStream(key, controller = new AbortController()) {
  return fetch(new URL('/api/v1/events/stream', hub.url), { headers: { authorization: `Bearer ${key}` }, signal: controller.signal })
    .then((response) => ({ response, controller }));
}

test('a revoked key\'s open event stream ends by itself', async () => {
  const { tenantId, id, key } = await tenantWithKey('Acme');
  const { response } = await openStream(key);
  assert.equal(response.status, 200);
  const reader = response.body.getReader();

  const revoked = await api(`/api/v1/api-keys/${id}`, { method: 'DELETE', account: tenantId });
  assert.equal(revoked.status, 204);

  // Read until the server ends the response; bounded so a stream that never ends fails the test.
  const ended = (async () => {
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += new TextDecoder().decode(value);
    }
  })();
  const text = await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream did not end')), 10_000))]);
  assert.match(text, /: credential_revoked/);
  assert.equal((await api('/api/v1/events/stream', { key })).status, 401);
});

test('the 11th open stream of a key is 429 too_many_streams', async () => {
  const { key } = await tenantWithKey('Globex');
  const open = [];
  try {
    for (let i = 0; i < 10; i++) {
      const stream = await openStream(key);
      assert.equal(stream.response.status, 200);
      open.push(stream);
    }

    const refused = await fetch(new URL('/api/v1/events/stream', hub.url), { headers: { authorization: `Bearer ${key}` }, signal: timeout() });
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('content-type'), /application\/problem\+json/);
    assert.equal((await refused.json()).code, 'too_many_streams');
  } finally {
    for (const { controller } of open) controller.abort();
  }
});
