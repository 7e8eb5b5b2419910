import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRelay } from '../src/relay.js';
import { FakeFrame, FakeWindow, makeRelay, settle } from '../testing/fakes.mjs';

test('destroy removes the window listener, stops the connection, clears timers and sends nothing more', async () => {
  const { relay, win, hub, timers, post, seen } = makeRelay();
  await settle();
  hub.handlers.Publish = () => { throw new Error('HubException: bus_unavailable: retry'); };
  post('registered', {});
  await settle();
  assert.equal(timers.pending.length, 1, 'a send retry is pending');
  const sends = hub.invocations.length;

  relay.destroy();
  assert.equal(win.listeners.size, 0);
  assert.deepEqual(timers.pending, []);
  assert.equal(hub.last.state, 'closed');
  assert.equal(relay.status, 'offline');
  assert.equal(seen.status.at(-1), 'offline');

  post('unregistered', {});
  await timers.advance(120_000);
  assert.equal(hub.invocations.length, sends, 'no further sends');
  assert.equal(hub.connections.length, 1, 'no reconnect');
  assert.equal(seen.event.length, 1);
});

test('destroy during a reconnect backoff cancels it; listeners are gone', async () => {
  const { relay, hub, timers, seen } = makeRelay();
  hub.onStart = () => Promise.reject(new Error('Failed to fetch'));
  await settle();
  assert.equal(timers.pending.length, 1);
  let heard = 0;
  relay.on('status', () => heard++);
  relay.destroy();
  assert.deepEqual(timers.pending, []);
  await timers.advance(60_000);
  assert.equal(hub.connections.length, 1);
  assert.deepEqual(seen.status, ['connecting', 'reconnecting', 'offline']);
  assert.equal(heard, 1, 'offline is the last thing listeners hear');
});

test('destroy while getToken is pending: nothing happens when it answers', async () => {
  let answer;
  const { relay, hub, fetch } = makeRelay({ getToken: () => new Promise(resolve => (answer = resolve)) });
  await settle();
  relay.destroy();
  answer('embed-late');
  await settle();
  assert.equal(fetch.exchanges.length, 0);
  assert.equal(hub.connections.length, 0);
});

test('destroy right after connect: nothing starts', async () => {
  const { relay, hub, seen, tokensIssued } = makeRelay();
  relay.destroy();
  await settle();
  assert.equal(tokensIssued(), 0);
  assert.equal(hub.connections.length, 0);
  assert.deepEqual(seen.status, ['offline']);
});

test('signOut revokes the session with its token, stops, and goes offline without authRequired', async () => {
  const { relay, hub, fetch, seen, timers, win, tokensIssued } = makeRelay();
  await settle();
  const connection = hub.last;
  const done = relay.signOut();
  connection.push('AuthRequired', { reason: 'signed_out' }); // what the hub says before closing
  await done;
  const revoke = fetch.calls.find(c => c.method === 'DELETE');
  assert.equal(revoke.url, 'https://hub.example.com/api/v1/sessions/current');
  assert.equal(revoke.headers.Authorization, 'Bearer hubs_1');
  assert.equal(connection.state, 'closed');
  assert.equal(relay.status, 'offline');
  assert.deepEqual(seen.status, ['connecting', 'connected', 'offline']);
  assert.deepEqual(seen.authRequired, []);
  assert.equal(win.listeners.size, 0);
  await timers.advance(120_000);
  assert.equal(tokensIssued(), 1, 'no new session');
  assert.equal(hub.connections.length, 1);
});

test('signOut that the hub does not confirm still stops, and reports sign_out_failed', async () => {
  const { relay, fetch, seen } = makeRelay();
  await settle();
  fetch.next('DELETE', '/api/v1/sessions/current', new TypeError('Failed to fetch'));
  await relay.signOut();
  assert.equal(relay.status, 'offline');
  assert.deepEqual(seen.error.map(e => e.code), ['sign_out_failed']);
});

test('on() returns an unsubscribe function; a throwing listener does not break the relay', async () => {
  const { relay, post, hub } = makeRelay();
  const heard = [];
  const off = relay.on('event', e => heard.push(e.type));
  relay.on('event', () => { throw new Error('listener bug'); });
  await settle();
  post('registered', {});
  off();
  post('unregistered', {});
  await settle();
  assert.deepEqual(heard, ['registered']);
  assert.deepEqual(hub.published.map(e => e.type), ['registered', 'unregistered']);
  relay.destroy();
});

test('options are checked: hubUrl, getToken, an exact webphone origin, limits', () => {
  const base = { hubUrl: 'https://hub', getToken: () => 't', webphone: { frame: new FakeFrame(), origin: 'https://app.zorio.vn' }, window: new FakeWindow(), createConnection: () => { throw new Error('unused'); } };
  assert.throws(() => createRelay({ ...base, hubUrl: '' }), /hubUrl/);
  assert.throws(() => createRelay({ ...base, getToken: 'x' }), /getToken/);
  assert.throws(() => createRelay({ ...base, webphone: { origin: '*' } }), /exact origin/);
  assert.throws(() => createRelay({ ...base, outboxLimit: 0 }), /outboxLimit/);
  assert.throws(() => createRelay({ ...base, batchSize: Number.NaN }), /batchSize/);
  assert.throws(() => createRelay({ ...base, reconnect: { minDelayMs: 1000, maxDelayMs: 10 } }), /minDelayMs/);
});
