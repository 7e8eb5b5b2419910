import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeFetch, hubError, incoming, makeRelay, MemoryStorage, settle } from '../testing/fakes.mjs';

/** A relay whose hub refuses every publish, so what the webphone sends stays in the outbox. */
async function relayWithUndelivered(storage, identity) {
  const fetchFake = new FakeFetch();
  fetchFake.identity = identity;
  const made = makeRelay({ storage, fetchFake });
  made.hub.handlers.Publish = () => { throw hubError('Publish', 'bus_unavailable'); };
  made.hub.handlers.PublishBatch = () => { throw hubError('PublishBatch', 'bus_unavailable'); };
  await settle();
  assert.equal(made.relay.status, 'connected');
  return made;
}

const agentA = { tenant_id: 'tenant-a', agent_id: 'agent-a' };
const agentB = { tenant_id: 'tenant-b', agent_id: 'agent-b' };

test("a page signed in as another agent never sends the previous agent's undelivered events", async () => {
  const storage = new MemoryStorage();
  const a = await relayWithUndelivered(storage, agentA);
  a.post('incoming_call', incoming('call-of-a'));
  await settle();
  assert.ok(a.hub.published.some(e => e.payload?.call?.uuid === 'call-of-a'), 'A tried to send it');
  a.relay.destroy(); // the tab is reloaded, or the CRM switches user without signing out

  const fetchB = new FakeFetch();
  fetchB.identity = agentB;
  const b = makeRelay({ storage, fetchFake: fetchB, uuidStart: 100 });
  await settle();
  b.post('incoming_call', incoming('call-of-b'));
  await settle();

  // B's own event went out first: the absence of A's below is not just a relay that sent nothing.
  assert.deepEqual(b.hub.published.map(e => e.payload.call.uuid), ['call-of-b']);
  b.relay.destroy();

  // A's event waited for A: back in this browser, A's session sends it.
  const fetchA = new FakeFetch();
  fetchA.identity = agentA;
  const again = makeRelay({ storage, fetchFake: fetchA, uuidStart: 200 });
  await settle();
  assert.deepEqual(again.hub.published.map(e => e.payload.call.uuid), ['call-of-a']);
  again.relay.destroy();
});

test('signOut forgets the agent\'s undelivered events, so the next session in this browser cannot send them', async () => {
  const storage = new MemoryStorage();
  const a = await relayWithUndelivered(storage, agentA);
  a.post('incoming_call', incoming('call-of-a'));
  await settle();
  await a.relay.signOut();

  for (const identity of [agentB, agentA]) {
    const fetchFake = new FakeFetch();
    fetchFake.identity = identity;
    const next = makeRelay({ storage, fetchFake, uuidStart: 100 });
    await settle();
    next.post('registered', {});
    await settle();
    assert.deepEqual(next.hub.published.map(e => e.type), ['registered'], `as ${identity.agent_id}`);
    next.relay.destroy();
  }
});

test('events captured while no session is known belong to the session that comes next', async () => {
  const storage = new MemoryStorage();
  let answer;
  const fetchFake = new FakeFetch();
  fetchFake.identity = agentB;
  const { relay, hub, post } = makeRelay({ storage, fetchFake, getToken: () => new Promise(resolve => (answer = resolve)) });
  await settle();
  post('incoming_call', incoming('before-session'));
  await settle();
  assert.equal(hub.published.length, 0);

  answer('embed-1');
  await settle();
  await settle();
  assert.deepEqual(hub.published.map(e => e.payload.call.uuid), ['before-session']);
  assert.ok(hub.published.every(e => !('owner' in e)), 'the owner is the relay\'s own bookkeeping, never sent');
  relay.destroy();
});
