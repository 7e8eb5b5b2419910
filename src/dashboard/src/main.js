// /dashboard: the analysts' call-log view. Signs in with a single-use token from the URL fragment (an
// analyst SSO/embed token) or with what the sign-in form is given, follows the portal's working account
// (src/portal.js), and draws the call table, a call's timeline and the charts from the REST API.
import { ApiError, HubApi, exchangeToken } from './api.js';
import { DashboardCharts } from './charts.js';
import { portalMessage, readLocation } from './portal.js';
import { apiFilters, FILTERS, localInputValue, timeBucket } from './query.js';

const CREDENTIAL_KEY = 'hub.dashboard.credential';
const PAGE_SIZE = 25;

/** @param {string} id */
const element = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {HubApi | null} the signed-in credential, without a working account */
  base: null,
  /** @type {HubApi | null} */
  api: null,
  /** @type {{ tenant_id: string, tenant_name: string, role: string, portal_origins: string[] } | null} */
  context: null,
  /** @type {string | null} */
  accountId: null,
  /** @type {Record<string, string>} */
  filters: {},
  /** @type {(string | null)[]} cursor of each page seen so far */
  cursors: [null],
  page: 0,
  generation: 0,
  /** @type {DashboardCharts | null} */
  charts: null,
};

/**
 * @param {'signed-out' | 'loading' | 'ready' | 'error'} kind
 * @param {string} message
 */
function setStatus(kind, message) {
  document.body.dataset.state = kind;
  const status = element('status');
  status.textContent = message;
  status.className = `status ${kind}`;
}

/** @param {unknown} error */
function describe(error) {
  if (error instanceof ApiError) {
    if (error.code === 'account_forbidden') return `This sign-in cannot see account ${state.accountId} (account_forbidden).`;
    return `${error.detail} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function showSignIn(message = '') {
  element('signin').hidden = false;
  element('dashboard').hidden = true;
  setStatus('signed-out', message || 'Sign in with an analyst token or an API key with the calls:read scope.');
}

async function main() {
  const location = readLocation(window.location.href);
  if (location.token) {
    // Single use: keep it out of the history and out of any later copy of the URL.
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  if (location.invalidAccountId) console.warn(`Hub dashboard: account_id ${location.invalidAccountId} is not an account id; showing the signed-in account.`);

  element('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (element('signin-secret'));
    void signIn(input.value.trim(), location.accountId);
    input.value = '';
  });
  wireDashboard();

  const secret = location.token ?? sessionStorage.getItem(CREDENTIAL_KEY);
  if (!secret) {
    showSignIn();
    return;
  }
  await signIn(secret, location.accountId);
}

/**
 * @param {string} secret an API key (`hubk_`), a session (`hubs_`) or a single-use token to exchange
 * @param {string | null} accountId
 */
async function signIn(secret, accountId) {
  if (!secret) return;
  setStatus('loading', 'Signing in…');
  let credential = secret;
  try {
    if (!secret.startsWith('hubk_') && !secret.startsWith('hubs_')) {
      credential = (await exchangeToken(secret)).session_token;
    }
    const base = new HubApi(credential, null);
    state.context = await base.get('/api/v1/dashboard/context');
    state.base = base;
  } catch (error) {
    sessionStorage.removeItem(CREDENTIAL_KEY);
    showSignIn(`Sign-in failed: ${describe(error)}`);
    return;
  }

  sessionStorage.setItem(CREDENTIAL_KEY, credential);
  element('signin').hidden = true;
  element('dashboard').hidden = false;
  element('who').textContent = `${state.context?.tenant_name} · ${state.context?.role}`;
  state.charts ??= new DashboardCharts({
    volume: /** @type {HTMLCanvasElement} */ (element('chart-volume')),
    rate: /** @type {HTMLCanvasElement} */ (element('chart-rate')),
    agents: /** @type {HTMLCanvasElement} */ (element('chart-agents')),
  });
  window.addEventListener('message', onPortalMessage);
  await switchAccount(accountId ?? state.context?.tenant_id ?? '');
}

/** @param {MessageEvent} event */
function onPortalMessage(event) {
  const decision = portalMessage(event, state.context?.portal_origins ?? []);
  if (decision.action === 'ignore') {
    if (decision.reason !== 'not_a_portal_message') {
      console.warn(`Hub dashboard ignored a portal message from ${event.origin}: ${decision.reason}`);
    }
    return;
  }
  if (decision.accountId !== state.accountId) void switchAccount(decision.accountId);
}

/** @param {string} accountId */
async function switchAccount(accountId) {
  if (!state.base) return;
  state.accountId = accountId;
  state.api = state.base.forAccount(accountId);
  document.body.dataset.account = accountId;
  element('account').textContent = accountId;
  closeTimeline();
  await refresh();
}

function readFilters() {
  /** @type {Record<string, string>} */
  const values = {};
  for (const name of FILTERS) values[name] = /** @type {HTMLInputElement} */ (element(`filter-${name}`)).value;
  return apiFilters(values);
}

/** Everything for the current account and filters: the first page, the totals and the charts. */
async function refresh() {
  state.filters = readFilters();
  state.cursors = [null];
  state.page = 0;
  const generation = ++state.generation;
  const api = /** @type {HubApi} */ (state.api);
  setStatus('loading', 'Loading…');
  const bucket = timeBucket(state.filters.from, state.filters.to);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    const [page, byTime, byAgent] = await Promise.all([
      api.get('/api/v1/calls', { ...state.filters, limit: PAGE_SIZE }),
      api.get('/api/v1/calls/stats', { ...state.filters, group_by: bucket, tz }),
      api.get('/api/v1/calls/stats', { ...state.filters, group_by: 'agent' }),
    ]);
    if (generation !== state.generation) return;
    renderPage(page);
    renderTotals(byAgent.items);
    state.charts?.update(byTime.items, bucket, byAgent.items);
    element('chart-volume-title').textContent = bucket === 'hour' ? 'Calls per hour' : 'Calls per day';
    setStatus('ready', `Account ${state.accountId}`);
  } catch (error) {
    if (generation !== state.generation) return;
    // Never leave the previous account's figures on screen next to an error about another.
    clearData();
    setStatus('error', describe(error));
  }
}

/** @param {number} delta */
async function turnPage(delta) {
  const target = state.page + delta;
  if (target < 0 || target >= state.cursors.length) return;
  const generation = ++state.generation;
  setStatus('loading', 'Loading…');
  try {
    const page = await /** @type {HubApi} */ (state.api).get('/api/v1/calls', { ...state.filters, limit: PAGE_SIZE, cursor: state.cursors[target] });
    if (generation !== state.generation) return;
    state.page = target;
    renderPage(page);
    setStatus('ready', `Account ${state.accountId}`);
  } catch (error) {
    if (generation === state.generation) setStatus('error', describe(error));
  }
}

/** @param {{ items: any[], next_cursor: string | null }} page */
function renderPage(page) {
  state.cursors.length = state.page + 1;
  if (page.next_cursor) state.cursors.push(page.next_cursor);
  const body = element('calls-body');
  body.replaceChildren(...page.items.map(callRow));
  element('calls-empty').hidden = page.items.length > 0;
  element('page-number').textContent = `Page ${state.page + 1}`;
  /** @type {HTMLButtonElement} */ (element('page-prev')).disabled = state.page === 0;
  /** @type {HTMLButtonElement} */ (element('page-next')).disabled = !page.next_cursor;
}

/** @param {any} call */
function callRow(call) {
  const row = document.createElement('tr');
  row.dataset.callId = call.call_id;
  row.tabIndex = 0;
  const cells = [
    formatTime(call.started_at), call.agent_id, call.direction ?? '', call.direction === 'outbound' ? call.to_number : call.from_number,
    call.contact?.display_name ?? call.contact?.external_id ?? '', call.status, call.ring_seconds ?? '', call.billsec ?? '',
  ];
  for (const value of cells) {
    const cell = document.createElement('td');
    cell.textContent = String(value ?? '');
    row.append(cell);
  }
  row.children[5].className = `badge ${call.status}`;
  row.addEventListener('click', () => void openTimeline(call.call_id));
  row.addEventListener('keydown', (event) => { if (event.key === 'Enter') void openTimeline(call.call_id); });
  return row;
}

/** @param {{ calls: number, answered: number, missed: number, total_billsec: number }[]} rows */
function renderTotals(rows) {
  const sum = (/** @type {'calls' | 'answered' | 'missed' | 'total_billsec'} */ field) => rows.reduce((total, row) => total + row[field], 0);
  const calls = sum('calls');
  const answered = sum('answered');
  element('total-calls').textContent = String(calls);
  element('total-answered').textContent = String(answered);
  element('total-missed').textContent = String(sum('missed'));
  element('total-rate').textContent = calls ? `${Math.round((answered / calls) * 1000) / 10}%` : '–';
  element('total-billsec').textContent = answered ? `${Math.round(sum('total_billsec') / answered)} s` : '–';
}

function clearData() {
  element('calls-body').replaceChildren();
  element('calls-empty').hidden = false;
  for (const id of ['total-calls', 'total-answered', 'total-missed', 'total-rate', 'total-billsec']) element(id).textContent = '–';
  state.charts?.update([], 'day', []);
  closeTimeline();
}

/** @param {string} callId */
async function openTimeline(callId) {
  const panel = element('timeline');
  try {
    const call = await /** @type {HubApi} */ (state.api).get(`/api/v1/calls/${encodeURIComponent(callId)}`);
    element('timeline-title').textContent = `Call ${call.call_id}`;
    const facts = element('timeline-facts');
    facts.replaceChildren();
    const fields = [['Agent', call.agent_id], ['Direction', call.direction], ['From', call.from_number], ['To', call.to_number],
      ['Status', call.status], ['Started', formatTime(call.started_at)], ['Answered', formatTime(call.answered_at)],
      ['Ended', formatTime(call.ended_at)], ['Ring', secondsOf(call.ring_seconds)], ['Billsec', secondsOf(call.billsec)],
      ['Hangup cause', call.hangup_cause], ['Contact', call.contact?.display_name ?? call.contact?.external_id],
      ['Campaign', call.campaign_id], ['Lead', call.lead_id]];
    for (const [label, value] of fields) {
      if (value === null || value === undefined || value === '') continue;
      const term = document.createElement('dt');
      term.textContent = label;
      const definition = document.createElement('dd');
      definition.textContent = String(value);
      facts.append(term, definition);
    }
    const events = element('timeline-events');
    events.replaceChildren(...call.events.map((/** @type {any} */ event) => {
      const item = document.createElement('li');
      const time = document.createElement('time');
      time.textContent = formatTime(event.occurred_at);
      const type = document.createElement('strong');
      type.textContent = event.type;
      item.append(time, ' ', type);
      return item;
    }));
    panel.hidden = false;
  } catch (error) {
    setStatus('error', describe(error));
  }
}

function closeTimeline() {
  element('timeline').hidden = true;
}

async function exportCsv() {
  try {
    const response = await /** @type {HubApi} */ (state.api).request('/api/v1/calls/export.csv', state.filters);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `calls-${state.accountId}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    setStatus('error', describe(error));
  }
}

async function signOut() {
  try { await state.base?.signOut(); } catch { /* the session is gone either way */ }
  sessionStorage.removeItem(CREDENTIAL_KEY);
  window.removeEventListener('message', onPortalMessage);
  state.base = state.api = state.context = null;
  clearData();
  showSignIn('Signed out.');
}

function wireDashboard() {
  // The last seven days, also what "Clear" returns to: stats over an unbounded range read every call.
  const from = /** @type {HTMLInputElement} */ (element('filter-from'));
  from.defaultValue = localInputValue(new Date(Date.now() - 7 * 24 * 3600 * 1000));
  element('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh();
  });
  element('filters').addEventListener('reset', () => setTimeout(() => void refresh()));
  element('page-prev').addEventListener('click', () => void turnPage(-1));
  element('page-next').addEventListener('click', () => void turnPage(1));
  element('timeline-close').addEventListener('click', closeTimeline);
  element('export').addEventListener('click', () => void exportCsv());
  element('signout').addEventListener('click', () => void signOut());
}

/** @param {string | null | undefined} iso */
function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** @param {number | null | undefined} seconds */
function secondsOf(seconds) {
  return seconds === null || seconds === undefined ? null : `${seconds} s`;
}

void main();
