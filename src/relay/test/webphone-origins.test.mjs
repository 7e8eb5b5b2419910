import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHub, WEBPHONE_ORIGIN, makeRelay, settle } from '../testing/fakes.mjs';

/** A hub whose Hello carries the account's webphone_origins. */
function hubListing(origins) {
  const hub = new FakeHub();
  hub.handlers.Hello = connection => ({ tenant_id: 'acme', agent_id: 'agent-7', connection_id: `c${connection.id}`, webphone_origins: origins });
  return hub;
}

test('a webphone origin the account does not list: error webphone_origin_not_allowed, offline, nothing relayed', async () => {
  const { relay, hub, timers, post, seen } = makeRelay({ hub: hubListing(['https://other-phone.example.com']) });
  await settle();

  assert.deepEqual(seen.error.map(({ code, origin, allowed }) => ({ code, origin, allowed })),
    [{ code: 'webphone_origin_not_allowed', origin: WEBPHONE_ORIGIN, allowed: ['https://other-phone.example.com'] }]);
  assert.equal(relay.status, 'offline');
  assert.deepEqual(seen.status, ['connecting', 'offline']);
  assert.equal(hub.last.state, 'closed');

  post('registered', {});
  await timers.advance(120_000);
  assert.deepEqual(hub.published, []);
  assert.deepEqual(seen.event, []);
  assert.equal(hub.connections.length, 1, 'no reconnect');
});

test('a webphone origin the account lists: the relay connects and relays', async () => {
  const { relay, hub, post, seen } = makeRelay({ hub: hubListing(['https://other-phone.example.com', WEBPHONE_ORIGIN]) });
  await settle();
  post('registered', {});
  await settle();

  assert.equal(relay.status, 'connected');
  assert.deepEqual(seen.error, []);
  assert.deepEqual(hub.published.map(envelope => envelope.type), ['registered']);
});

test('an empty webphone_origins means not configured: the relay proceeds', async () => {
  const { relay, hub, post, seen } = makeRelay({ hub: hubListing([]) });
  await settle();
  post('registered', {});
  await settle();

  assert.equal(relay.status, 'connected');
  assert.deepEqual(seen.error, []);
  assert.equal(hub.published.length, 1);
});
