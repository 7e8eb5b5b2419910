import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, jitterDelay } from '../src/backoff.js';
import { deferred, makeRelay, settle } from '../testing/fakes.mjs';

const bounds = { minDelayMs: 500, maxDelayMs: 30_000 };

test('jitterDelay: full jitter between the minimum and an exponentially growing, capped ceiling', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(30_000, 500 * 2 ** (attempt + 1));
    assert.equal(jitterDelay(attempt, bounds, () => 0), 500);
    assert.equal(jitterDelay(attempt, bounds, () => 0.999999), ceiling);
    for (let i = 0; i < 50; i++) {
      const delay = jitterDelay(attempt, bounds, Math.random);
      assert.ok(delay >= 500 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
  }
  assert.equal(jitterDelay(1000, bounds, () => 0.999999), 30_000, 'no overflow for huge attempts');
  const spread = new Set(Array.from({ length: 20 }, () => jitterDelay(5, bounds, Math.random)));
  assert.ok(spread.size > 10, 'jittered');
  const backoff = new Backoff(bounds, () => 1);
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [1000, 2000, 4000]);
  backoff.reset();
  assert.equal(backoff.next(), 1000);
  assert.throws(() => new Backoff({ minDelayMs: 10, maxDelayMs: 5 }), RangeError);
});

test('statuses: connecting, connected after Hello, reconnecting on close, connected again', async () => {
  const { relay, hub, seen, timers, fetch } = makeRelay();
  assert.equal(relay.status, 'connecting');
  const hello = deferred();
  hub.handlers.Hello = () => hello.promise;
  await settle();
  assert.deepEqual(seen.status, ['connecting'], 'not connected before Hello answers');
  assert.equal(hub.last.options.url, 'https://hub.example.com/hubs/agent');
  assert.equal(hub.last.options.accessTokenFactory(), 'hubs_1', 'the session token authenticates the connection');
  assert.equal(fetch.exchanges[0].headers.Authorization, 'Bearer embed-1');
  hello.resolve({ tenant_id: 'acme', agent_id: 'agent-7', connection_id: 'c1' });
  await settle();
  assert.deepEqual(seen.status, ['connecting', 'connected']);
  assert.equal(relay.status, 'connected');

  hub.handlers.Hello = connection => ({ tenant_id: 'acme', agent_id: 'agent-7', connection_id: `c${connection.id}` });
  hub.last.close(new Error('WebSocket closed with status code: 1006'));
  await settle();
  assert.deepEqual(seen.status, ['connecting', 'connected', 'reconnecting']);
  assert.equal(timers.pending.length, 1);
  await timers.runNext();
  assert.deepEqual(seen.status, ['connecting', 'connected', 'reconnecting', 'connected']);
  assert.equal(hub.connections.length, 2);
  assert.equal(fetch.exchanges.length, 1, 'the session is reused while valid');
  assert.equal(hub.last.options.accessTokenFactory(), 'hubs_1');
  relay.destroy();
});

test('reconnect delays grow with jitter within the bounds and reset after a connection', async () => {
  let r = 0;
  const randoms = [0.9, 0.1, 0.7, 0.3, 0.99, 0.5, 0.8, 0.2];
  const { relay, hub, timers, seen } = makeRelay({
    random: () => randoms[r++ % randoms.length],
    options: { reconnect: { minDelayMs: 1000, maxDelayMs: 5000 } },
  });
  hub.onStart = () => Promise.reject(new Error('Failed to fetch'));
  await settle();
  const delays = [];
  for (let i = 0; i < 6; i++) {
    delays.push(await timers.runNext());
  }
  const ceilings = [2000, 4000, 5000, 5000, 5000, 5000];
  delays.forEach((delay, i) => assert.ok(delay >= 1000 && delay <= ceilings[i], `attempt ${i}: ${delay} within [1000, ${ceilings[i]}]`));
  assert.deepEqual(delays, [1900, 1300, 3800, 2200, 4960, 3000]);
  assert.equal(hub.connections.length, 7, 'it never gives up');
  assert.deepEqual(seen.status, ['connecting', 'reconnecting']);

  hub.onStart = () => {};
  await timers.runNext();
  assert.equal(relay.status, 'connected');
  hub.last.close(new Error('lost'));
  await settle();
  assert.ok(timers.pending[0] <= 2000, 'the backoff starts again from the minimum');
  relay.destroy();
});

test('after a reconnect the outbox is sent again, including what was in flight when the connection dropped', async () => {
  const { relay, hub, post, timers, seen } = makeRelay();
  await settle();
  hub.handlers.Publish = () => new Promise(() => {}); // never answered: the connection drops first
  post('incoming_call', { call: { uuid: 'c1', number: '0912' } });
  await settle();
  assert.equal(hub.calls('Publish').length, 1);
  hub.last.close(new Error('lost'));
  await settle();
  post('call_answered', { call: { uuid: 'c1' } });
  await settle();
  assert.equal(hub.invocations.filter(i => i.method.startsWith('Publish')).length, 1, 'nothing sent while down');

  hub.handlers.Publish = (_c, e) => ({ event_id: e.event_id, status: 'accepted', error: null });
  await timers.runNext();
  const resent = hub.calls('PublishBatch');
  assert.equal(resent.length, 1);
  assert.equal(resent[0].connection, hub.last);
  assert.deepEqual(resent[0].args[0].map(e => e.event_id), seen.event.map(e => e.event_id));
  relay.destroy();
});

test('401 at the token exchange: authRequired with its code, then a new token after backoff', async () => {
  const { relay, fetch, seen, timers, tokensIssued, hub } = makeRelay();
  fetch.next('POST', '/api/v1/sessions', 401, { code: 'token_replayed', detail: 'This token was already used.' });
  await settle();
  assert.deepEqual(seen.authRequired, [{ reason: 'token_replayed' }]);
  assert.equal(tokensIssued(), 1);
  assert.equal(hub.connections.length, 0);
  assert.equal(timers.pending.length, 1, 'waits before asking again');
  await timers.runNext();
  assert.equal(tokensIssued(), 2);
  assert.equal(fetch.exchanges[1].headers.Authorization, 'Bearer embed-2');
  assert.equal(relay.status, 'connected');
  relay.destroy();
});

test('401 at negotiate: the session is dropped, authRequired, and getToken is called again', async () => {
  const { relay, hub, seen, timers, tokensIssued } = makeRelay();
  await settle();
  assert.equal(relay.status, 'connected');
  hub.last.close(new Error('lost'));
  hub.onStart = () => {
    hub.onStart = () => {};
    const error = new Error("Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
    throw error;
  };
  await settle();
  await timers.runNext();
  assert.deepEqual(seen.authRequired, [{ reason: 'unauthorized' }]);
  assert.equal(tokensIssued(), 1, 'not yet: after backoff');
  await timers.runNext();
  assert.equal(tokensIssued(), 2);
  assert.equal(hub.last.options.accessTokenFactory(), 'hubs_2');
  assert.equal(relay.status, 'connected');
  relay.destroy();
});

test('an AuthRequired push: authRequired with its reason, the connection is closed, a new session follows', async () => {
  const { relay, hub, seen, timers, tokensIssued } = makeRelay();
  await settle();
  const first = hub.last;
  first.push('AuthRequired', { reason: 'session_revoked' });
  await settle();
  assert.deepEqual(seen.authRequired, [{ reason: 'session_revoked' }]);
  assert.equal(first.state, 'closed');
  assert.equal(relay.status, 'reconnecting');
  await timers.runNext();
  assert.equal(tokensIssued(), 2);
  assert.equal(hub.connections.length, 2);
  assert.equal(hub.last.options.accessTokenFactory(), 'hubs_2');
  assert.equal(relay.status, 'connected');
  assert.equal(seen.authRequired.length, 1, 'reported once');
  relay.destroy();
});

test('an expired session is replaced on reconnect without authRequired', async () => {
  const { relay, hub, fetch, timers, seen, tokensIssued } = makeRelay();
  fetch.expiresAt = new Date(timers.now + 60_000).toISOString();
  await settle();
  timers.now += 60_000;
  hub.last.close(new Error('lost'));
  await settle();
  await timers.runNext();
  assert.equal(tokensIssued(), 2);
  assert.deepEqual(seen.authRequired, []);
  assert.equal(relay.status, 'connected');
  relay.destroy();
});

test('getToken throwing is reported and retried with backoff, forever', async () => {
  let calls = 0;
  const { relay, seen, timers, hub } = makeRelay({
    getToken: async () => {
      calls++;
      if (calls <= 3) {
        throw new Error('backend down');
      }
      return 'embed-ok';
    },
  });
  await settle();
  assert.equal(calls, 1);
  assert.equal(seen.error[0].code, 'token_failed');
  assert.match(seen.error[0].detail, /backend down/);
  await timers.runNext();
  await timers.runNext();
  assert.equal(calls, 3);
  assert.equal(hub.connections.length, 0);
  await timers.runNext();
  assert.equal(calls, 4);
  assert.equal(relay.status, 'connected');
  assert.deepEqual(timers.delays.slice(0, 3).map(d => d >= 500 && d <= 30_000), [true, true, true]);
  relay.destroy();
});

test('a failing exchange (network, 5xx) is retried with a new token', async () => {
  const { relay, fetch, timers, seen, tokensIssued } = makeRelay();
  fetch.next('POST', '/api/v1/sessions', 503, { code: 'internal_error' });
  await settle();
  assert.equal(seen.error[0].code, 'token_failed');
  await timers.runNext();
  assert.equal(tokensIssued(), 2);
  assert.equal(relay.status, 'connected');
  relay.destroy();
});

test('Hello failing stops that connection and tries again', async () => {
  const { relay, hub, timers } = makeRelay();
  hub.handlers.Hello = () => { throw new Error('boom'); };
  await settle();
  assert.equal(hub.last.state, 'closed');
  assert.equal(relay.status, 'reconnecting');
  hub.handlers.Hello = () => ({ tenant_id: 'acme', agent_id: 'agent-7', connection_id: 'c2' });
  await timers.runNext();
  assert.equal(relay.status, 'connected');
  relay.destroy();
});
