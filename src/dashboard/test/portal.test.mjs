import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portalMessage, readLocation } from '../src/portal.js';

const account = '0123456789abcdef0123456789abcdef';
const other = 'fedcba9876543210fedcba9876543210';
const portal = 'https://portal.example.com';

test('account_id comes from the query, a sign-in token from the fragment', () => {
  assert.deepEqual(readLocation(`https://hub/dashboard/?account_id=${account}&avoid_cache=1#token=abc.def`),
    { accountId: account, token: 'abc.def', invalidAccountId: null });
  assert.deepEqual(readLocation('https://hub/dashboard/'), { accountId: null, token: null, invalidAccountId: null });
});

test('an account_id that is not an account id is reported, never used', () => {
  assert.deepEqual(readLocation('https://hub/dashboard/?account_id=../../admin'),
    { accountId: null, token: null, invalidAccountId: '../../admin' });
  assert.equal(readLocation(`https://hub/dashboard/?account_id=${account.toUpperCase()}`).accountId, null);
});

test('FONOUC_WORKING_ACCOUNT from a listed portal origin switches the account', () => {
  assert.deepEqual(portalMessage({ origin: portal, data: { type: 'FONOUC_WORKING_ACCOUNT', payload: { account_id: other } } }, [portal]),
    { action: 'switch', accountId: other });
  assert.deepEqual(portalMessage({ origin: portal, data: { type: 'FONOUC_AUTH_ACCESS_TOKEN', payload: { access_token: 'x', account_id: other } } }, [portal]),
    { action: 'switch', accountId: other });
});

test('a portal message from an origin not in portal_origins is ignored', () => {
  const message = { type: 'FONOUC_WORKING_ACCOUNT', payload: { account_id: other } };
  assert.deepEqual(portalMessage({ origin: 'https://evil.example.com', data: message }, [portal]), { action: 'ignore', reason: 'origin_not_allowed' });
  assert.deepEqual(portalMessage({ origin: 'https://portal.example.com.evil.com', data: message }, [portal]), { action: 'ignore', reason: 'origin_not_allowed' });
  assert.deepEqual(portalMessage({ origin: 'null', data: message }, [portal]), { action: 'ignore', reason: 'origin_not_allowed' });
  assert.deepEqual(portalMessage({ origin: portal, data: message }, []), { action: 'ignore', reason: 'origin_not_allowed' });
});

test('other messages and malformed account ids are ignored', () => {
  assert.equal(portalMessage({ origin: portal, data: { source: 'zorio-webphone', type: 'registered' } }, [portal]).reason, 'not_a_portal_message');
  assert.equal(portalMessage({ origin: portal, data: 'FONOUC_WORKING_ACCOUNT' }, [portal]).reason, 'not_a_portal_message');
  assert.equal(portalMessage({ origin: portal, data: null }, [portal]).reason, 'not_a_portal_message');
  assert.equal(portalMessage({ origin: portal, data: { type: 'FONOUC_WORKING_ACCOUNT', payload: { account_id: 'x' } } }, [portal]).reason, 'invalid_account_id');
  assert.equal(portalMessage({ origin: portal, data: { type: 'FONOUC_WORKING_ACCOUNT' } }, [portal]).reason, 'invalid_account_id');
});
