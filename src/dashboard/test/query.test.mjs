import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFilters, localInputValue, timeBucket, withQuery } from '../src/query.js';

test('empty filters are dropped and local date-times become instants', () => {
  const local = '2026-11-20T09:30';
  assert.deepEqual(apiFilters({ from: local, to: '', agent_id: ' alice ', status: 'missed', number: undefined }),
    { from: new Date(local).toISOString(), agent_id: 'alice', status: 'missed' });
});

test('hours for up to three days, days beyond', () => {
  assert.equal(timeBucket('2026-11-18T00:00:00Z', '2026-11-21T00:00:00Z'), 'hour');
  assert.equal(timeBucket('2026-11-17T23:59:00Z', '2026-11-21T00:00:00Z'), 'day');
  assert.equal(timeBucket(undefined, undefined), 'day');
});

test('a datetime-local value round-trips through the form', () => {
  const date = new Date(2026, 10, 21, 7, 5);
  assert.equal(localInputValue(date), '2026-11-21T07:05');
  assert.equal(new Date(localInputValue(date)).getTime(), date.getTime());
});

test('query strings skip empty values and encode the rest', () => {
  assert.equal(withQuery('/api/v1/calls', { number: '+84 912', cursor: null, limit: 25, agent_id: '' }), '/api/v1/calls?number=%2B84+912&limit=25');
  assert.equal(withQuery('/api/v1/calls', {}), '/api/v1/calls');
});
