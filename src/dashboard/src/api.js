// The hub's REST API as the dashboard uses it: same origin, a bearer credential (an analyst session
// or an API key with calls:read), and X-Account-ID for the working account.
import { withQuery } from './query.js';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code the problem's `code` (API.md: every error has one)
   * @param {string} detail
   */
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** @param {Response} response */
async function failure(response) {
  let problem = {};
  try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
  return new ApiError(response.status, problem.code ?? `http_${response.status}`, problem.detail ?? problem.title ?? response.statusText);
}

/**
 * Trades a single-use embed or SSO token for a session (POST /api/v1/sessions).
 * @param {string} token
 * @returns {Promise<{ session_token: string, expires_at: string, tenant_id: string, agent_id: string, role: string }>}
 */
export async function exchangeToken(token) {
  const response = await fetch('/api/v1/sessions', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export class HubApi {
  /**
   * @param {string} credential `hubs_…` session or `hubk_…` key
   * @param {string | null} accountId the working account; null for the credential's own
   */
  constructor(credential, accountId) {
    this.credential = credential;
    this.accountId = accountId;
  }

  /** @param {string} accountId */
  forAccount(accountId) {
    return new HubApi(this.credential, accountId);
  }

  /**
   * @param {string} path
   * @param {Record<string, string | number | undefined | null>} [params]
   * @param {RequestInit} [init]
   */
  async request(path, params = {}, init = {}) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.credential}` };
    if (this.accountId) headers['x-account-id'] = this.accountId;
    const response = await fetch(withQuery(path, params), { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
    if (!response.ok) throw await failure(response);
    return response;
  }

  /**
   * @param {string} path
   * @param {Record<string, string | number | undefined | null>} [params]
   */
  async get(path, params) {
    return (await this.request(path, params)).json();
  }

  /** Ends the session (a key has nothing to end). */
  async signOut() {
    if (this.credential.startsWith('hubs_')) await this.request('/api/v1/sessions/current', {}, { method: 'DELETE' });
  }
}
