// No credential in the console output of a real hub process: neither in the request lines ASP.NET
// Core logs (the agent hub's `?access_token=`) nor in an exception's message, whatever the log level.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as signalR from '@microsoft/signalr';
import { adminKey, startHub } from './hub-process.mjs';

// Every category the hub and its libraries log under, at Trace: the request lines must then be
// printed, so the test sees the redacted lines and can fail if a secret is in them.
const verbose = {
  Logging__LogLevel__Default: 'Trace',
  Logging__LogLevel__Microsoft: 'Trace',
  'Logging__LogLevel__Microsoft.AspNetCore': 'Trace',
  'Logging__LogLevel__System.Net.Http.HttpClient': 'Trace',
  Logging__LogLevel__MassTransit: 'Trace',
  Logging__LogLevel__Hub: 'Trace',
};

const hubs = [];
after(async () => { await Promise.all(hubs.map((hub) => hub.stop())); });

async function start(env) {
  const hub = await startHub({ env });
  hubs.push(hub);
  return hub;
}

async function api(hub, method, path, key, body, headers = {}) {
  const response = await fetch(hub.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A tenant, a CRM key of it, an embed token for agent-1 and the session it was exchanged for. */
async function credentials(hub) {
  const tenant = await api(hub, 'POST', '/api/v1/tenants', adminKey, { name: 'Logged' });
  assert.equal(tenant.status, 201);
  const key = await api(hub, 'POST', '/api/v1/api-keys', adminKey, { name: 'crm', scopes: ['tokens', 'calls:read'] },
    { 'x-account-id': tenant.body.id });
  assert.equal(key.status, 201);
  const minted = await api(hub, 'POST', '/api/v1/webphone/embed-token', key.body.key, { agent_id: 'agent-1' });
  assert.equal(minted.status, 200);
  const embedToken = minted.body.embed_token;
  const session = await fetch(`${hub.url}/api/v1/sessions`, {
    method: 'POST', headers: { authorization: `Bearer ${embedToken}` }, signal: AbortSignal.timeout(10_000),
  });
  assert.equal(session.status, 200);
  const { session_token: sessionToken } = await session.json();
  assert.match(embedToken, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(sessionToken, /^hubs_/);
  return { crmKey: key.body.key, embedToken, sessionToken };
}

/** The agent hub as a browser reaches it: the session token in the query of negotiate and of the WebSocket. */
async function connectAgent(hub, sessionToken) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/agent?access_token=${encodeURIComponent(sessionToken)}`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await withTimeout(connection.start(), 'the agent hub connection');
  assert.equal((await withTimeout(connection.invoke('Hello'), 'Hello')).agent_id, 'agent-1');
  await connection.stop();
}

/** Requests Kestrel refuses: the errors it logs quote the request line (query and all) or the header line. */
async function sendMalformedRequests(hub, secret) {
  const { port } = new URL(hub.url);
  const requests = [
    `GET /hubs/agent?access_token=${secret}\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /api/v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization Bearer ${secret}\r\n\r\n`,
  ];
  for (const request of requests) {
    const answer = await withTimeout(new Promise((done, fail) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
      let received = '';
      socket.on('data', (chunk) => { received += chunk; });
      socket.on('error', fail);
      socket.on('close', () => done(received));
    }), 'a malformed request');
    assert.match(answer, /^HTTP\/1\.1 400 /);
  }
}

function withTimeout(promise, what, ms = 10_000) {
  return Promise.race([promise, new Promise((_, fail) => setTimeout(() => fail(new Error(`timed out: ${what}`)), ms).unref())]);
}

/** Waits until the output holds `text` (the log is written asynchronously), or fails with what it holds. */
async function outputContains(hub, text) {
  const deadline = Date.now() + 10_000;
  while (!hub.output().includes(text)) {
    if (Date.now() > deadline) assert.fail(`the hub's output never held ${text}:\n${hub.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function assertNoSecret(output, secrets) {
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(!output.includes(secret), `the hub's output holds the ${name} (${secret.slice(0, 8)}...):\n` +
      output.split('\n').filter((line) => line.includes(secret)).slice(0, 5).join('\n'));
  }
  // Whatever the test did not think of: nothing that looks like a credential, JWT or access_token value.
  const leaks = output.match(/hub[ks]_(?!\[redacted\])[\w-]{8,}|eyJ[\w-]{8,}\.[\w-]+\.[\w-]*|access_token=(?!\[redacted\])[^&\s"]+/g) ?? [];
  assert.deepEqual(leaks, []);
}

test('at trace level, no API key, embed token or session token reaches the console, though every request is logged', async () => {
  const hub = await start(verbose);
  const { crmKey, embedToken, sessionToken } = await credentials(hub);
  await connectAgent(hub, sessionToken);

  // Credentials where a careless integrator puts them: in a URL's query.
  const calls = await fetch(`${hub.url}/api/v1/calls?api_key=${crmKey}&jwt=${embedToken}`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(calls.status, 401);
  const refused = await fetch(`${hub.url}/hubs/agent/negotiate?access_token=hubs_not-a-session-0123456789&negotiateVersion=1`,
    { method: 'POST', signal: AbortSignal.timeout(10_000) });
  assert.equal(refused.status, 401);
  await sendMalformedRequests(hub, sessionToken);

  // The requests were logged (so the assertions below can fail), with their credentials redacted.
  await outputContains(hub, '/hubs/agent/negotiate?access_token=[redacted]');
  await outputContains(hub, 'api_key=hubk_[redacted]');
  await outputContains(hub, 'jwt=[redacted]');
  await outputContains(hub, "Invalid request line: 'GET /hubs/agent?access_token=[redacted]");
  await outputContains(hub, "Invalid request header: 'Authorization Bearer hubs_[redacted]");
  assertNoSecret(hub.output(), { 'admin key': adminKey, 'CRM key': crmKey, 'embed token': embedToken, 'session token': sessionToken });
});

test('by default the hub does not log request lines, only its own events', async () => {
  const hub = await start({});
  const { sessionToken } = await credentials(hub);
  await connectAgent(hub, sessionToken);

  const output = hub.output();
  assert.doesNotMatch(output, /Request starting|Request finished|Executing endpoint/);
  assert.ok(!output.includes(sessionToken));
  assert.ok(!output.includes('access_token='), 'a request line with access_token was logged');
});
