import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ENVELOPE_BYTES, Outbox, outboxKey } from '../src/outbox.js';
import { HUB_URL, MemoryStorage, WEBPHONE_ORIGIN, deferred, hubError, incoming, makeRelay, settle } from '../testing/fakes.mjs';

const KEY = outboxKey(HUB_URL, WEBPHONE_ORIGIN);
const stored = storage => JSON.parse(storage.getItem(KEY));

/** A relay whose hub cannot be reached yet: events wait in the outbox. */
function offlineRelay(overrides = {}) {
  const parts = makeRelay(overrides);
  parts.hub.onStart = () => Promise.reject(new Error('Failed to fetch'));
  return parts;
}

test('an accepted event leaves the outbox', async () => {
  const { relay, post, storage, hub } = makeRelay();
  await settle();
  post('registered', {});
  assert.equal(stored(storage).items.length, 1, 'kept until acked');
  await settle();
  assert.equal(hub.calls('Publish').length, 1);
  assert.deepEqual(stored(storage).items, []);
  relay.destroy();
});

test('a duplicate ack also removes the event', async () => {
  const { relay, post, storage, hub, seen } = makeRelay();
  hub.handlers.Publish = (_c, envelope) => ({ event_id: envelope.event_id, status: 'duplicate', error: null });
  await settle();
  post('registered', {});
  await settle();
  assert.deepEqual(stored(storage).items, []);
  assert.deepEqual(seen.error, []);
  relay.destroy();
});

test('a rejected event in a batch is dropped with an error; the others are acked', async () => {
  const { relay, post, storage, hub, seen, timers } = offlineRelay();
  await settle();
  post('registered', {});
  post('call_hangup', { call: {} });
  post('unregistered', {});
  hub.onStart = () => {};
  hub.handlers.PublishBatch = (_c, envelopes) => envelopes.map(e => e.type === 'call_hangup'
    ? { event_id: e.event_id, status: 'rejected', error: 'invalid_event: call_hangup needs payload.call.uuid' }
    : { event_id: e.event_id, status: 'accepted', error: null });
  await timers.runNext();
  assert.equal(hub.calls('PublishBatch').length, 1);
  assert.deepEqual(stored(storage).items, []);
  assert.equal(seen.error.length, 1);
  assert.equal(seen.error[0].code, 'invalid_event');
  assert.equal(seen.error[0].type, 'call_hangup');
  assert.equal(seen.error[0].event_id, seen.event[1].event_id);
  assert.match(seen.error[0].detail, /needs payload.call.uuid/);
  relay.destroy();
});

test('a single event refused with invalid_event is dropped with an error and not resent', async () => {
  const { relay, post, storage, hub, seen, timers } = makeRelay();
  hub.handlers.Publish = () => { throw hubError('Publish', 'invalid_event', 'type must be 1 to 64 of a-z 0-9 _ . -'); };
  await settle();
  post('Bad Type', {});
  await settle();
  assert.deepEqual(stored(storage).items, []);
  assert.deepEqual(seen.error.map(e => e.code), ['invalid_event']);
  assert.deepEqual(timers.pending, [], 'no retry scheduled');
  assert.equal(hub.calls('Publish').length, 1);
  relay.destroy();
});

test('bus_unavailable keeps the event and retries with backoff until accepted', async () => {
  const { relay, post, storage, hub, timers, seen } = makeRelay({ options: { reconnect: { minDelayMs: 500, maxDelayMs: 30_000 } } });
  let failures = 2;
  hub.handlers.Publish = (_c, envelope) => {
    if (failures-- > 0) {
      throw hubError('Publish', 'bus_unavailable', 'keep it and retry');
    }
    return { event_id: envelope.event_id, status: 'accepted', error: null };
  };
  await settle();
  post('registered', {});
  await settle();
  assert.equal(stored(storage).items.length, 1, 'kept');
  assert.equal(timers.pending.length, 1, 'a retry is scheduled');
  const first = await timers.runNext();
  assert.ok(first >= 500 && first <= 1000, `first retry ${first}`);
  const second = await timers.runNext();
  assert.ok(second >= 500 && second <= 2000, `second retry ${second}`);
  assert.equal(hub.calls('Publish').length, 3);
  assert.deepEqual(new Set(hub.calls('Publish').map(c => c.args[0].event_id)).size, 1, 'the same event each time');
  assert.deepEqual(stored(storage).items, []);
  assert.deepEqual(seen.error, [], 'retryable: no error event');
  relay.destroy();
});

test('events keep their order with one send in flight at a time, then go as a batch', async () => {
  const { relay, post, hub, seen } = makeRelay();
  const first = deferred();
  hub.handlers.Publish = () => first.promise;
  await settle();
  post('incoming_call', incoming('c1'));
  await settle();
  post('call_answered', { call: { uuid: 'c1' } });
  post('call_hold', { call: { uuid: 'c1' } });
  post('call_unhold', { call: { uuid: 'c1' } });
  await settle();
  assert.equal(hub.invocations.filter(i => i.method.startsWith('Publish')).length, 1, 'nothing else while one is in flight');
  first.resolve({ event_id: seen.event[0].event_id, status: 'accepted', error: null });
  await settle();
  const batches = hub.calls('PublishBatch');
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0].args[0].map(e => e.type), ['call_answered', 'call_hold', 'call_unhold']);
  assert.deepEqual(hub.published.map(e => e.seq), [1, 2, 3, 4]);
  relay.destroy();
});

test('waiting events go in batches of batchSize, in order', async () => {
  const { relay, post, hub, timers, storage } = offlineRelay({ options: { batchSize: 2 } });
  await settle();
  for (let i = 1; i <= 5; i++) {
    post('registered', { n: i });
  }
  hub.onStart = () => {};
  await timers.runNext();
  assert.deepEqual(hub.invocations.filter(i => i.method.startsWith('Publish')).map(i => i.method), ['PublishBatch', 'PublishBatch', 'Publish']);
  assert.deepEqual(hub.published.map(e => e.payload.n), [1, 2, 3, 4, 5]);
  assert.deepEqual(stored(storage).items, []);
  relay.destroy();
});

test('the outbox survives a reload: a new relay sends what was left and seq goes on', async () => {
  const storage = new MemoryStorage();
  const first = offlineRelay({ storage });
  await settle();
  first.post('incoming_call', incoming('c1'));
  first.post('call_answered', { call: { uuid: 'c1' } });
  first.relay.destroy();
  assert.deepEqual(first.hub.published, []);
  assert.deepEqual(stored(storage).items.map(e => e.seq), [1, 2]);

  const second = makeRelay({ storage, uuidStart: 100 });
  second.post('call_hangup', { call: { uuid: 'c1' }, billsec: 12 });
  assert.equal(second.seen.event[0].seq, 3, 'seq continues');
  await settle();
  assert.deepEqual(second.hub.published.map(e => [e.seq, e.type]), [[1, 'incoming_call'], [2, 'call_answered'], [3, 'call_hangup']]);
  assert.deepEqual(second.hub.published.slice(0, 2).map(e => e.event_id), first.seen.event.map(e => e.event_id), 'same ids: the hub dedupes');
  assert.deepEqual(stored(storage).items, []);
  second.relay.destroy();

  const third = makeRelay({ storage, uuidStart: 200 });
  third.post('registered', {});
  assert.equal(third.seen.event[0].seq, 4, 'seq continues after an empty outbox too');
  third.relay.destroy();
});

test('the outbox key is namespaced by hub and webphone origin', async () => {
  const storage = new MemoryStorage();
  const { relay, post } = offlineRelay({ storage });
  post('registered', {});
  relay.destroy();
  assert.deepEqual([...storage.map.keys()], ['hub-relay:outbox:https://hub.example.com|https://app.zorio.vn']);
});

test('a full outbox drops the oldest and reports outbox_overflow', async () => {
  const { relay, post, storage, seen } = offlineRelay({ options: { outboxLimit: 3 } });
  await settle();
  for (let i = 1; i <= 5; i++) {
    post('registered', { n: i });
  }
  assert.deepEqual(stored(storage).items.map(e => e.payload.n), [3, 4, 5]);
  assert.deepEqual(seen.error, [{ code: 'outbox_overflow', dropped: 1 }, { code: 'outbox_overflow', dropped: 1 }]);
  assert.equal(seen.event.length, 5);
  relay.destroy();
});

test('an event too large for the hub is not kept and is reported', async () => {
  const { relay, post, storage, seen } = offlineRelay();
  post('registered', { blob: 'x'.repeat(MAX_ENVELOPE_BYTES) });
  const cyclic = {};
  cyclic.self = cyclic;
  post('registered', cyclic);
  assert.equal(storage.getItem(KEY), null);
  assert.deepEqual(seen.error.map(e => e.code), ['invalid_event', 'invalid_event']);
  assert.deepEqual(seen.event, []);
  relay.destroy();
});

test('Outbox: load ignores corrupt storage, trims to a lower limit, and reports a failing storage once', () => {
  const storage = new MemoryStorage();
  storage.setItem('k', '{not json');
  const corrupt = new Outbox({ storage, key: 'k', limit: 10 });
  assert.equal(corrupt.load(), 0);
  assert.equal(corrupt.size, 0);

  const big = new Outbox({ storage, key: 'k', limit: 10 });
  for (let i = 0; i < 5; i++) {
    big.add({ event_id: `e${i}`, occurred_at: 'now', type: 't', payload: null });
  }
  const small = new Outbox({ storage, key: 'k', limit: 2 });
  assert.equal(small.load(), 3);
  assert.deepEqual(small.peek(10).map(e => e.event_id), ['e3', 'e4']);
  assert.equal(small.nextSeq, 6);

  const errors = [];
  const failing = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); }, removeItem() {} };
  const outbox = new Outbox({ storage: failing, key: 'k', limit: 10, onStorageError: e => errors.push(e) });
  outbox.add({ event_id: 'a', occurred_at: 'now', type: 't', payload: null });
  outbox.add({ event_id: 'b', occurred_at: 'now', type: 't', payload: null });
  assert.equal(outbox.size, 2, 'still kept in memory');
  assert.equal(errors.length, 1);
});

test('problems found while loading are reported once listeners are attached', async () => {
  const storage = new MemoryStorage();
  const first = offlineRelay({ storage });
  for (let i = 1; i <= 4; i++) {
    first.post('registered', { n: i });
  }
  first.relay.destroy();
  const smaller = offlineRelay({ storage, options: { outboxLimit: 2 } });
  await settle();
  assert.deepEqual(smaller.seen.error, [{ code: 'outbox_overflow', dropped: 2 }]);
  smaller.relay.destroy();

  const blocked = { getItem() { throw new Error('SecurityError'); }, setItem() { throw new Error('SecurityError'); }, removeItem() {} };
  const { relay, seen, post, hub } = makeRelay({ storage: blocked });
  await settle();
  assert.deepEqual(seen.error.map(e => e.code), ['storage_failed']);
  post('registered', {});
  await settle();
  assert.deepEqual(seen.error.map(e => e.code), ['storage_failed', 'storage_failed'], 'the write failure is reported too');
  assert.equal(hub.published.length, 1, 'events still flow without storage');
  relay.destroy();
});
