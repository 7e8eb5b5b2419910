import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { buildBundles } from '../build.mjs';
import { createSignalRConnection } from '../src/index.js';
import { hubErrorCode, isUnauthorized } from '../src/session.js';

const outdir = await mkdtemp(join(tmpdir(), 'hub-relay-'));
after(() => rm(outdir, { recursive: true, force: true }));
const [iife, esm] = await buildBundles(outdir);

test('the classic-script bundle sets globalThis.HubRelay', async () => {
  const context = vm.createContext({ console, setTimeout, clearTimeout });
  vm.runInContext(await readFile(iife, 'utf8'), context);
  assert.equal(typeof context.HubRelay?.connect, 'function');
  assert.match(context.HubRelay.version, /^\d+\.\d+\.\d+$/);
});

test('the ES module bundle exports HubRelay, connect and a default', async () => {
  const module = await import(pathToFileURL(esm).href);
  assert.equal(typeof module.connect, 'function');
  assert.equal(module.HubRelay.connect, module.connect);
  assert.equal(module.default, module.HubRelay);
  await readFile(`${esm}.map`);
  await readFile(join(outdir, 'hub-relay.d.ts'));
});

test('the bundled relay runs: it listens, relays into its outbox and stops cleanly', async () => {
  const { connect } = await import(pathToFileURL(esm).href);
  const listeners = new Set();
  const win = { addEventListener: (_t, l) => listeners.add(l), removeEventListener: (_t, l) => listeners.delete(l) };
  const relay = connect({
    hubUrl: 'https://hub.example.com',
    getToken: () => new Promise(() => {}),
    webphone: { origin: 'https://app.zorio.vn' },
    window: win,
    storage: null,
    logLevel: 'none',
  });
  const events = [];
  relay.on('event', e => events.push(e));
  [...listeners][0]({ origin: 'https://app.zorio.vn', source: null, data: { source: 'zorio-webphone', type: 'registered', payload: {} } });
  assert.equal(events[0].type, 'registered');
  relay.destroy();
  assert.equal(listeners.size, 0);
  assert.equal(relay.status, 'offline');
});

test('real SignalR client: a 401 at negotiate is recognised, and the session token is sent', async () => {
  const seen = [];
  const server = createServer((request, response) => {
    seen.push({ url: request.url, authorization: request.headers.authorization });
    response.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"code":"unauthorized"}');
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  try {
    const connection = createSignalRConnection({
      url: `http://127.0.0.1:${server.address().port}/hubs/agent`,
      accessTokenFactory: () => 'hubs_secret',
      logLevel: 'none',
    });
    const error = await connection.start().then(() => undefined, e => e);
    assert.ok(error, 'start failed');
    assert.ok(isUnauthorized(error), `recognised as 401: ${error.message}`);
    assert.match(seen[0].url, /^\/hubs\/agent\/negotiate/);
    assert.equal(seen[0].authorization, 'Bearer hubs_secret');
  } finally {
    server.close();
  }
});

test('hub exception codes are read from SignalR invocation errors', () => {
  assert.equal(hubErrorCode(new Error("An unexpected error occurred invoking 'Publish' on the server. HubException: bus_unavailable: the message bus did not confirm")), 'bus_unavailable');
  assert.equal(hubErrorCode(new Error("An unexpected error occurred invoking 'Publish' on the server. HubException: invalid_event: seq must be a non-negative integer")), 'invalid_event');
  assert.equal(hubErrorCode(new Error('Invocation canceled due to the underlying connection being closed.')), undefined);
  assert.equal(isUnauthorized(new Error('WebSocket failed to connect.')), false);
  assert.equal(isUnauthorized({ statusCode: 401, message: 'Unauthorized' }), true);
});
