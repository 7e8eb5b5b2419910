import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWebphoneMessage } from '../src/origin.js';
import { FakeFrame, WEBPHONE_ORIGIN, incoming, makeRelay, settle } from '../testing/fakes.mjs';

const frame = new FakeFrame();
const webphone = { frame, origin: WEBPHONE_ORIGIN };
const good = { origin: WEBPHONE_ORIGIN, source: frame.contentWindow, data: { source: 'zorio-webphone', type: 'registered', payload: {} } };

test('isWebphoneMessage accepts only the exact origin, the frame window, the marker and a string type', () => {
  assert.equal(isWebphoneMessage(good, webphone), true);
  assert.equal(isWebphoneMessage({ ...good, origin: 'https://evil.example' }, webphone), false, 'wrong origin');
  assert.equal(isWebphoneMessage({ ...good, origin: 'https://app.zorio.vn:443' }, webphone), false, 'origin is compared exactly');
  assert.equal(isWebphoneMessage({ ...good, origin: 'http://app.zorio.vn' }, webphone), false, 'scheme matters');
  assert.equal(isWebphoneMessage({ ...good, data: { ...good.data, source: 'other' } }, webphone), false, 'wrong marker');
  assert.equal(isWebphoneMessage({ ...good, data: { source: 'zorio-webphone' } }, webphone), false, 'missing type');
  assert.equal(isWebphoneMessage({ ...good, data: { source: 'zorio-webphone', type: 42 } }, webphone), false, 'type not a string');
  assert.equal(isWebphoneMessage({ ...good, data: 'zorio-webphone' }, webphone), false, 'data not an object');
  assert.equal(isWebphoneMessage({ ...good, data: null }, webphone), false, 'null data');
  assert.equal(isWebphoneMessage({ ...good, source: {} }, webphone), false, 'another window');
  assert.equal(isWebphoneMessage({ ...good, source: null }, webphone), false, 'no source');
});

test('without a frame, the source window is not checked but the origin still is', () => {
  const noFrame = { origin: WEBPHONE_ORIGIN };
  assert.equal(isWebphoneMessage({ ...good, source: {} }, noFrame), true);
  assert.equal(isWebphoneMessage({ ...good, source: {}, origin: 'https://evil.example' }, noFrame), false);
});

test('a frame that lost its window relays nothing', () => {
  const gone = { contentWindow: null };
  assert.equal(isWebphoneMessage({ ...good, source: null }, { frame: gone, origin: WEBPHONE_ORIGIN }), false);
});

test('the relay ignores every message that fails the rules, silently, and relays the right one', async () => {
  const { relay, win, frame, post, seen, hub } = makeRelay();
  await settle();
  const data = { source: 'zorio-webphone', type: 'incoming_call', payload: incoming('call-1') };
  win.dispatch({ origin: 'https://evil.example', source: frame.contentWindow, data });
  win.dispatch({ origin: WEBPHONE_ORIGIN, source: frame.contentWindow, data: { ...data, source: 'not-zorio' } });
  win.dispatch({ origin: WEBPHONE_ORIGIN, source: frame.contentWindow, data: { source: 'zorio-webphone', payload: {} } });
  win.dispatch({ origin: WEBPHONE_ORIGIN, source: { postMessage() {} }, data });
  win.dispatch({ origin: WEBPHONE_ORIGIN, source: frame.contentWindow, data: 'hello' });
  await settle();
  assert.deepEqual(seen.event, []);
  assert.deepEqual(seen.error, []);
  assert.deepEqual(hub.published, []);

  post('incoming_call', incoming('call-1'));
  await settle();
  assert.equal(seen.event.length, 1);
  const [envelope] = seen.event;
  assert.equal(envelope.type, 'incoming_call');
  assert.deepEqual(envelope.payload, incoming('call-1'));
  assert.match(envelope.event_id, /^[0-9a-f-]{36}$/);
  assert.equal(envelope.seq, 1);
  assert.equal(envelope.occurred_at, '2025-01-01T00:00:00.000Z');
  assert.deepEqual(hub.published, [envelope]);
  relay.destroy();
});
