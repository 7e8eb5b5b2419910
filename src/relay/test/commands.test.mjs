import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WEBPHONE_ORIGIN, makeRelay, settle } from '../testing/fakes.mjs';

const CMD = '3f2c1d7e-0000-4000-8000-000000000001';

test('a hub command is emitted, posted into the frame with the exact origin, and reported delivered', async () => {
  const { relay, hub, frame, seen } = makeRelay();
  await settle();
  const command = { command_id: CMD, type: 'send_dtmf', payload: { digits: '12#' } };
  hub.last.push('Command', command);
  await settle();
  assert.deepEqual(seen.command, [command]);
  assert.deepEqual(frame.posted, [{ message: { source: 'zorio-webphone', type: 'send_dtmf', payload: { digits: '12#' } }, targetOrigin: WEBPHONE_ORIGIN }]);
  assert.notEqual(frame.posted[0].targetOrigin, '*');
  assert.deepEqual(hub.calls('CommandResult').map(c => c.args[0]), [{ command_id: CMD, status: 'delivered' }]);
  relay.destroy();
});

test('a call command from the hub carries number and options', async () => {
  const { relay, hub, frame } = makeRelay();
  await settle();
  hub.last.push('Command', { command_id: CMD, type: 'call', payload: { number: '0912345678', options: { campaignId: 36 } } });
  await settle();
  assert.deepEqual(frame.posted[0].message, { source: 'zorio-webphone', type: 'call', payload: { number: '0912345678', options: { campaignId: 36 } } });
  relay.destroy();
});

test('a command that cannot be posted (frame gone) is reported failed with the error', async () => {
  const { relay, hub, frame } = makeRelay();
  await settle();
  frame.contentWindow = null;
  hub.last.push('Command', { command_id: CMD, type: 'hangup', payload: {} });
  await settle();
  const [result] = hub.calls('CommandResult').map(c => c.args[0]);
  assert.equal(result.command_id, CMD);
  assert.equal(result.status, 'failed');
  assert.match(result.error, /frame is not available/);
  relay.destroy();
});

test('postMessage throwing is reported failed', async () => {
  const { relay, hub, frame } = makeRelay();
  await settle();
  frame.contentWindow.postMessage = () => { throw new DOMException('could not be cloned', 'DataCloneError'); };
  hub.last.push('Command', { command_id: CMD, type: 'mute', payload: {} });
  await settle();
  assert.deepEqual(hub.calls('CommandResult').map(c => c.args[0]), [{ command_id: CMD, status: 'failed', error: 'could not be cloned' }]);
  relay.destroy();
});

test('refresh_token is forwarded as {token} into the frame', async () => {
  const { relay, hub, frame } = makeRelay();
  await settle();
  hub.last.push('Command', { command_id: CMD, type: 'refresh_token', payload: { token: 'eyJ.new.token', extra: 'not forwarded' } });
  await settle();
  assert.deepEqual(frame.posted, [{ message: { source: 'zorio-webphone', type: 'refresh_token', payload: { token: 'eyJ.new.token' } }, targetOrigin: WEBPHONE_ORIGIN }]);
  assert.equal(hub.calls('CommandResult')[0].args[0].status, 'delivered');
  relay.destroy();
});

test('a screen-pop push is emitted as is', async () => {
  const { relay, hub, seen } = makeRelay();
  await settle();
  const pop = { call_id: 'c1', number: '+84912345678', unknown_caller: false, url: 'https://crm/contacts/1', matches: [], created_at: '2025-01-01T00:00:00Z' };
  hub.last.push('ScreenPop', pop);
  assert.deepEqual(seen.screenPop, [pop]);
  relay.destroy();
});

test('dial posts a call command straight into the frame', async () => {
  const { relay, frame, hub } = makeRelay();
  relay.dial('0912345678', { campaignId: 36 });
  assert.deepEqual(frame.posted, [{ message: { source: 'zorio-webphone', type: 'call', payload: { number: '0912345678', options: { campaignId: 36 } } }, targetOrigin: WEBPHONE_ORIGIN }]);
  assert.equal(frame.posted[0].message.payload.number, '0912345678');
  await settle();
  assert.equal(hub.calls('CommandResult').length, 0, 'local: no hub round trip');
  assert.throws(() => relay.dial(''), TypeError);
  frame.contentWindow = null;
  assert.throws(() => relay.dial('0912345678'), /frame is not available/);
  relay.destroy();
  assert.throws(() => relay.dial('0912345678'), /stopped/);
});

test('pickContact tells the hub which of the pop\'s matches the agent chose', async () => {
  const { relay, hub } = makeRelay();
  await settle();
  await relay.pickContact('c1', 'cust-2');
  assert.deepEqual(hub.calls('PickContact').map(c => c.args[0]), [{ call_id: 'c1', external_id: 'cust-2' }]);
  await assert.rejects(relay.pickContact('', 'cust-2'), TypeError);
  relay.destroy();
  await assert.rejects(relay.pickContact('c1', 'cust-2'), /stopped/);
});
