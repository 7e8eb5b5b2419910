// @ts-check

/** @typedef {import('./hub-relay.js').Session} Session */
/** @typedef {import('./hub-relay.js').FetchLike} FetchLike */

/** The hub said 401: the token or session is no good, and a new token is needed. */
export class AuthError extends Error {
  /** @param {string} code e.g. invalid_token, token_expired, token_replayed, unauthorized */
  constructor(code, detail = '') {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
  }
}

/**
 * Trades a single-use embed (or SSO) token for a session at `POST /api/v1/sessions`.
 * @param {FetchLike} fetch
 * @param {string} hubUrl without a trailing slash
 * @param {string} token
 * @returns {Promise<Session>}
 * @throws {AuthError} on 401; another Error for anything else (network, 5xx), worth retrying
 */
export async function exchangeToken(fetch, hubUrl, token) {
  const response = await fetch(`${hubUrl}/api/v1/sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  if (response.status === 401) {
    const problem = await readJson(response);
    throw new AuthError(typeof problem?.code === 'string' ? problem.code : 'unauthorized', typeof problem?.detail === 'string' ? problem.detail : '');
  }
  if (!response.ok) {
    throw new Error(`the session exchange answered HTTP ${response.status}`);
  }
  const session = await readJson(response);
  if (typeof session?.session_token !== 'string' || !session.session_token) {
    throw new Error('the session exchange answered without a session_token');
  }
  return /** @type {Session} */ (session);
}

/**
 * Revokes the session at `DELETE /api/v1/sessions/current`; the hub closes its connections.
 * @param {FetchLike} fetch
 * @param {string} hubUrl
 * @param {string} sessionToken
 */
export async function revokeSession(fetch, hubUrl, sessionToken) {
  const response = await fetch(`${hubUrl}/api/v1/sessions/current`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${sessionToken}` },
  });
  // 401: the session was already gone, which is what signing out wants.
  if (!response.ok && response.status !== 401) {
    throw new Error(`sign-out answered HTTP ${response.status}`);
  }
}

/**
 * getToken may answer the token itself or, when the CRM backend passes on the hub's
 * `{embed_token, expires_at}` answer as is, that JSON.
 * @param {unknown} value
 * @returns {string}
 */
export function tokenOf(value) {
  let token = typeof value === 'string' ? value.trim() : '';
  if (token.startsWith('{')) {
    try {
      const parsed = JSON.parse(token);
      token = typeof parsed?.embed_token === 'string' ? parsed.embed_token : typeof parsed?.token === 'string' ? parsed.token : '';
    } catch {
      token = '';
    }
  }
  if (!token) {
    throw new Error('getToken did not give a token');
  }
  return token;
}

/**
 * Whether a SignalR start/close error is the server's 401 (at negotiate, or a poll after revocation).
 * @param {unknown} error
 */
export function isUnauthorized(error) {
  if (!error) {
    return false;
  }
  const status = /** @type {{statusCode?: unknown}} */ (error).statusCode;
  return status === 401 || /Status code '401'/.test(String(/** @type {{message?: unknown}} */ (error).message ?? error));
}

/**
 * The code of a refused hub invocation: SignalR rejects with "... HubException: <code>: ...".
 * @param {unknown} error
 * @returns {string | undefined}
 */
export function hubErrorCode(error) {
  const message = String(/** @type {{message?: unknown}} */ (error)?.message ?? error);
  return /HubException: ([a-z_]+)/.exec(message)?.[1];
}

/** @param {{json(): Promise<any>}} response */
async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}
