// Which account the dashboard shows, as the fonoUC Portal's embedding guide (seed 000) describes:
// the URL's `account_id` on first load, then `FONOUC_WORKING_ACCOUNT` messages, but only from an origin
// in the signed-in account's `portal_origins`. Everything here is pure so node's tests can cover it.

/** Tenant ids (and Kazoo account ids) are 32 lowercase hex characters. */
export const ACCOUNT_ID = /^[0-9a-f]{32}$/;

/** Message types whose payload carries the working account (the access token itself is ignored). */
const ACCOUNT_MESSAGES = new Set(['FONOUC_WORKING_ACCOUNT', 'FONOUC_AUTH_ACCESS_TOKEN']);

/**
 * The bootstrap context of a page load: `account_id` from the query, a single-use sign-in token from
 * the fragment (`#token=`; a fragment never reaches a server or its logs).
 * @param {string} href
 * @returns {{ accountId: string | null, token: string | null, invalidAccountId: string | null }}
 */
export function readLocation(href) {
  const url = new URL(href);
  const raw = url.searchParams.get('account_id');
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  const accountId = raw && ACCOUNT_ID.test(raw) ? raw : null;
  return { accountId, token: token || null, invalidAccountId: raw && !accountId ? raw : null };
}

/**
 * Decides what a `message` event means for the dashboard.
 * @param {{ origin: string, data: unknown }} event
 * @param {readonly string[]} portalOrigins the signed-in account's `portal_origins`
 * @returns {{ action: 'switch', accountId: string } | { action: 'ignore', reason: string }}
 */
export function portalMessage(event, portalOrigins) {
  const data = /** @type {{ type?: unknown, payload?: { account_id?: unknown } } | null} */ (event.data);
  if (!data || typeof data !== 'object' || typeof data.type !== 'string' || !ACCOUNT_MESSAGES.has(data.type)) {
    return { action: 'ignore', reason: 'not_a_portal_message' };
  }
  const origin = String(event.origin).toLowerCase();
  if (!portalOrigins.some((allowed) => allowed.toLowerCase() === origin)) {
    return { action: 'ignore', reason: 'origin_not_allowed' };
  }
  const accountId = data.payload?.account_id;
  if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
    return { action: 'ignore', reason: 'invalid_account_id' };
  }
  return { action: 'switch', accountId };
}
