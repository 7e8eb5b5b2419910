// A stand-in for the Zorio webphone: speaks its postMessage protocol to the page that embeds it, so the
// demo (and the browser tests) can ring, answer and hang up calls without a PBX.
//
//   iframe -> parent: {source: 'zorio-webphone', type, payload}, posted to exactly ?parent_origin=...
//   parent -> iframe: commands in the same shape, obeyed only from that origin (and from the parent window).
(() => {
  'use strict';

  const SOURCE = 'zorio-webphone';
  const LOG_LIMIT = 60;
  const PICK_UP_DELAY_MS = 1000;

  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  const ui = {
    registration: $('registration'),
    fatal: $('fatal'),
    state: $('call-state'),
    detail: $('call-detail'),
    timer: $('call-timer'),
    held: $('held-flag'),
    muted: $('muted-flag'),
    dialled: $('dialled-number'),
    dtmf: $('dtmf'),
    token: $('token-status'),
    number: $('number'),
    ring: $('ring'),
    answer: $('answer'),
    hangup: $('hangup'),
    hold: $('hold'),
    mute: $('mute'),
    error: $('error'),
    log: $('log'),
    origin: $('parent-origin'),
  };

  /** The parent's exact origin, from ?parent_origin=; null when missing or not an http(s) origin. */
  function readParentOrigin() {
    const raw = new URLSearchParams(location.search).get('parent_origin');
    if (!raw || raw === '*') return null;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      return url.origin;
    } catch {
      return null;
    }
  }

  const parentOrigin = readParentOrigin();

  /** crypto.randomUUID needs a secure context; getRandomValues does not. */
  function uuid() {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- log ---------------------------------------------------------------------------------------

  function log(dir, type, detail) {
    const item = document.createElement('li');
    item.dataset.dir = dir;
    item.dataset.type = type;
    const arrow = document.createElement('span');
    arrow.className = 'log__dir';
    arrow.textContent = dir === 'out' ? '→' : dir === 'in' ? '←' : '✕';
    arrow.title = dir === 'out' ? 'posted to the parent' : dir === 'in' ? 'received from the parent' : 'ignored';
    const name = document.createElement('span');
    name.className = 'log__type';
    name.textContent = type;
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString([], { hour12: false });
    item.append(time, arrow, name);
    if (detail !== undefined && detail !== '') {
      const text = document.createElement('code');
      text.textContent = typeof detail === 'string' ? detail : JSON.stringify(detail);
      item.append(text);
    }
    ui.log.prepend(item);
    while (ui.log.children.length > LOG_LIMIT) ui.log.lastElementChild.remove();
  }

  function post(type, payload = {}) {
    if (!parentOrigin) return;
    window.parent.postMessage({ source: SOURCE, type, payload }, parentOrigin);
    log('out', type, payload);
  }

  // ---- the one call ------------------------------------------------------------------------------

  /** @type {null | {uuid: string, number: string, direction: 'inbound'|'outbound', state: 'ringing'|'dialling'|'answered', answeredAt: number|null, held: boolean, muted: boolean, pickUp: number|null}} */
  let call = null;
  let ticker = null;

  function seconds(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  function render(endedText) {
    const state = call ? call.state : endedText ? 'ended' : 'idle';
    ui.state.dataset.state = state;
    ui.state.textContent = state;
    if (call) {
      ui.detail.textContent = `${call.direction === 'inbound' ? 'From' : 'To'} ${call.number}`;
      ui.detail.dataset.callId = call.uuid;
      delete ui.detail.dataset.billsec;
    } else if (endedText) {
      ui.detail.textContent = endedText;
    } else {
      ui.detail.textContent = 'No call';
      delete ui.detail.dataset.callId;
    }
    ui.held.hidden = !(call && call.held);
    ui.muted.hidden = !(call && call.muted);
    ui.hold.setAttribute('aria-pressed', String(Boolean(call && call.held)));
    ui.mute.setAttribute('aria-pressed', String(Boolean(call && call.muted)));
    ui.hold.textContent = call && call.held ? 'Unhold' : 'Hold';
    ui.mute.textContent = call && call.muted ? 'Unmute' : 'Mute';

    const usable = Boolean(parentOrigin);
    ui.ring.disabled = !usable || Boolean(call);
    ui.answer.disabled = !usable || !(call && call.direction === 'inbound' && call.state === 'ringing');
    ui.hangup.disabled = !usable || !call;
    ui.hold.disabled = !usable || !(call && call.state === 'answered');
    ui.mute.disabled = !usable || !(call && call.state === 'answered');
    ui.error.disabled = !usable;
    ui.number.disabled = !usable;

    clearInterval(ticker);
    ticker = null;
    if (call && call.state === 'answered') {
      const tick = () => { ui.timer.textContent = seconds(Date.now() - call.answeredAt); };
      tick();
      ticker = setInterval(tick, 250);
    } else if (!endedText) {
      ui.timer.textContent = '00:00';
    }
  }

  function ring() {
    if (call) return;
    const number = ui.number.value.trim();
    if (!number) { ui.number.focus(); return; }
    call = { uuid: uuid(), number, direction: 'inbound', state: 'ringing', answeredAt: null, held: false, muted: false, pickUp: null };
    ui.dialled.textContent = '';
    ui.dtmf.textContent = '';
    post('incoming_call', { call: { uuid: call.uuid, number } });
    render();
  }

  function dial(number) {
    if (call) {
      post('error', { message: `Cannot dial ${number}: a call is in progress` });
      return;
    }
    call = { uuid: uuid(), number, direction: 'outbound', state: 'dialling', answeredAt: null, held: false, muted: false, pickUp: null };
    ui.dialled.textContent = `Dialling ${number}`;
    ui.dialled.dataset.number = number;
    ui.dtmf.textContent = '';
    post('outgoing_call', { call: { uuid: call.uuid, number } });
    render();
    // The callee picks up a moment later.
    const dialled = call;
    dialled.pickUp = setTimeout(() => {
      dialled.pickUp = null;
      if (call === dialled && call.state === 'dialling') answer();
    }, PICK_UP_DELAY_MS);
  }

  function answer() {
    if (!call || call.state === 'answered') return;
    call.state = 'answered';
    call.answeredAt = Date.now();
    post('call_answered', { call: { uuid: call.uuid } });
    render();
  }

  function hangUp() {
    if (!call) return;
    const ended = call;
    call = null;
    if (ended.pickUp) clearTimeout(ended.pickUp);
    const billsec = ended.answeredAt === null ? 0 : Math.floor((Date.now() - ended.answeredAt) / 1000);
    post('call_hangup', { call: { uuid: ended.uuid }, billsec });
    ui.detail.dataset.callId = ended.uuid;
    ui.detail.dataset.billsec = String(billsec);
    ui.timer.textContent = seconds(billsec * 1000);
    render(`Ended ${ended.number} · billsec ${billsec}`);
  }

  function setFlag(flag, on) {
    if (!call || call.state !== 'answered' || call[flag] === on) return false;
    call[flag] = on;
    const type = flag === 'held' ? (on ? 'call_hold' : 'call_unhold') : on ? 'call_mute' : 'call_unmute';
    post(type, { call: { uuid: call.uuid } });
    render();
    return true;
  }

  // ---- commands from the parent ------------------------------------------------------------------

  const commands = {
    call(payload) {
      const number = payload && payload.number != null ? String(payload.number).trim() : '';
      if (!number) { post('error', { message: 'call needs payload.number' }); return; }
      dial(number);
    },
    hangup: () => hangUp(),
    answer: () => { if (call && call.direction === 'inbound' && call.state === 'ringing') answer(); },
    send_dtmf(payload) {
      const digits = payload && payload.digits != null ? String(payload.digits) : '';
      ui.dtmf.textContent = `DTMF ${(ui.dtmf.dataset.digits || '') + digits}`;
      ui.dtmf.dataset.digits = (ui.dtmf.dataset.digits || '') + digits;
    },
    mute: () => setFlag('muted', true),
    unmute: () => setFlag('muted', false),
    hold: () => setFlag('held', true),
    unhold: () => setFlag('held', false),
    refresh_token(payload) {
      ui.token.textContent = 'token refreshed';
      ui.token.dataset.at = new Date().toISOString();
      ui.token.dataset.hasToken = String(Boolean(payload && payload.token));
    },
  };

  window.addEventListener('message', (event) => {
    const data = event.data;
    if (event.origin !== parentOrigin || event.source !== window.parent || !data || typeof data !== 'object' || data.source !== SOURCE) {
      log('drop', typeof data?.type === 'string' ? data.type : 'message', `from ${event.origin || 'unknown origin'}`);
      return;
    }
    const type = typeof data.type === 'string' ? data.type : '';
    const handler = Object.prototype.hasOwnProperty.call(commands, type) ? commands[type] : null;
    // Never echo tokens into the log.
    log('in', type || '(no type)', type === 'refresh_token' ? '{"token":"…"}' : data.payload ?? '');
    if (handler) handler(data.payload);
  });

  // ---- controls ----------------------------------------------------------------------------------

  ui.ring.addEventListener('click', ring);
  ui.answer.addEventListener('click', answer);
  ui.hangup.addEventListener('click', hangUp);
  ui.hold.addEventListener('click', () => call && setFlag('held', !call.held));
  ui.mute.addEventListener('click', () => call && setFlag('muted', !call.muted));
  ui.error.addEventListener('click', () => post('error', { message: 'Simulated webphone error' }));
  ui.number.addEventListener('keydown', (e) => { if (e.key === 'Enter') ring(); });

  // ---- start -------------------------------------------------------------------------------------

  if (!parentOrigin) {
    ui.fatal.hidden = false;
    ui.fatal.textContent = 'Missing or invalid ?parent_origin= (the exact origin of the page that embeds this simulator). Nothing is posted.';
    ui.registration.textContent = 'not configured';
    ui.registration.dataset.state = 'failed';
    render();
    return;
  }

  ui.origin.textContent = `parent ${parentOrigin}`;
  render();
  post('registered', {});
  ui.registration.textContent = 'registered';
  ui.registration.dataset.state = 'registered';
  if (window.parent === window) {
    log('drop', 'registered', 'not embedded: open the demo page instead');
  }
})();
