// The demo CRM page: what a CRM integrator writes around the hub relay. It embeds the webphone (here the
// simulator, served from a second origin so the relay's origin checks are real), connects the relay with
// an embed token from "its backend" (/demo/api/token), shows screen-pops, and dials through the hub's
// dial API (/demo/api/dial), which comes back to the webphone as a hub command.
(() => {
  'use strict';

  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  const LOG_LIMIT = 200;

  const ui = {
    status: $('relay-status'),
    banner: $('banner'),
    agent: $('agent-id'),
    tenant: $('tenant'),
    pops: $('screen-pops'),
    popsEmpty: $('pops-empty'),
    contacts: $('contacts'),
    log: $('event-log'),
    toasts: $('toasts'),
    frame: document.getElementById('zorio-frame'),
    webphoneOrigin: $('webphone-origin'),
    quickForm: $('quick-dial-form'),
    quickNumber: $('quick-dial-number'),
  };

  // ---- helpers -----------------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.includes('-') || ['href', 'target', 'rel', 'title', 'type', 'role'].includes(key)) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  /** Only http(s) links from data reach an href. */
  function safeUrl(value) {
    if (typeof value !== 'string' || !value) return null;
    try {
      const url = new URL(value, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch {
      return null;
    }
  }

  function initials(name) {
    const parts = String(name || '?').trim().split(/\s+/);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
  }

  function time(value) {
    const date = value ? new Date(value) : new Date();
    return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour12: false });
  }

  function showBanner(text) {
    ui.banner.textContent = text;
    ui.banner.hidden = false;
  }

  function toast(kind, title, detail) {
    const node = el('div', { class: `toast toast--${kind}`, 'data-testid': 'toast', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' },
      el('strong', { text: title }),
      detail ? el('span', { text: detail }) : null);
    ui.toasts.prepend(node);
    setTimeout(() => node.classList.add('toast--leaving'), 6000);
    setTimeout(() => node.remove(), 6500);
  }

  function setStatus(status) {
    ui.status.textContent = status;
    ui.status.dataset.status = status;
  }

  function logEntry(kind, title, detail) {
    const item = el('li', { class: `eventlog__item eventlog__item--${kind}`, 'data-kind': kind, 'data-title': title },
      el('time', { text: time() }),
      el('span', { class: 'eventlog__kind', text: kind }),
      el('span', { class: 'eventlog__title', text: title }),
      detail ? el('code', { class: 'eventlog__detail', text: typeof detail === 'string' ? detail : JSON.stringify(detail) }) : null);
    ui.log.prepend(item);
    while (ui.log.children.length > LOG_LIMIT) ui.log.lastElementChild.remove();
  }

  async function readProblem(response) {
    try {
      const text = await response.text();
      const body = text ? JSON.parse(text) : {};
      return { code: body.code || `http_${response.status}`, title: body.title || response.statusText, detail: body.detail || '' };
    } catch {
      return { code: `http_${response.status}`, title: response.statusText || 'Request failed', detail: '' };
    }
  }

  // ---- screen pops -------------------------------------------------------------------------------

  const cards = new Map(); // call_id -> card element

  function fieldChips(fields) {
    if (fields === null || fields === undefined) return null;
    if (typeof fields !== 'object' || Array.isArray(fields)) {
      return el('div', { class: 'chips' }, el('span', { class: 'chip', text: JSON.stringify(fields) }));
    }
    const entries = Object.entries(fields);
    if (!entries.length) return null;
    return el('dl', { class: 'chips', 'data-testid': 'pop-fields' },
      entries.map(([key, value]) => el('div', { class: 'chip' },
        el('dt', { text: key }),
        el('dd', { text: typeof value === 'string' ? value : JSON.stringify(value) }))));
  }

  function renderPop(pop) {
    const match = Array.isArray(pop.matches) && pop.matches.length ? pop.matches[0] : null;
    const unknown = pop.unknown_caller || !match;
    const url = safeUrl(pop.url ?? match?.url);
    const name = unknown ? `Unknown caller ${pop.number}` : match.display_name;

    const card = el('article', {
      class: `pop${unknown ? ' pop--unknown' : ''}`,
      'data-testid': 'screen-pop',
      'data-call-id': pop.call_id,
      'data-unknown': String(Boolean(unknown)),
    },
      el('div', { class: 'pop__avatar', 'aria-hidden': 'true', text: unknown ? '?' : initials(match.display_name) }),
      el('div', { class: 'pop__body' },
        el('div', { class: 'pop__top' },
          el('h3', { class: 'pop__name', 'data-testid': 'pop-name', text: name }),
          el('span', { class: 'pill', 'data-testid': 'pop-state', 'data-state': 'ringing', text: 'ringing' })),
        unknown ? el('p', { class: 'pop__company', text: 'Not in your contacts' })
          : el('p', { class: 'pop__company', 'data-testid': 'pop-company', text: match.company || '—' }),
        el('p', { class: 'pop__meta' },
          el('span', { 'data-testid': 'pop-number', text: pop.number }),
          el('span', { text: '·' }),
          el('span', { title: 'call id', text: pop.call_id }),
          el('span', { text: '·' }),
          el('time', { text: time(pop.created_at) })),
        unknown ? null : fieldChips(match.custom_fields),
        match && pop.matches.length > 1
          ? el('p', { class: 'pop__more', text: `Also matches: ${pop.matches.slice(1).map((m) => m.display_name).join(', ')}` })
          : null,
        el('div', { class: 'pop__actions' },
          url ? el('a', {
            class: 'btn btn--primary',
            href: url,
            target: '_blank',
            rel: 'noopener noreferrer',
            'data-testid': unknown ? 'pop-new-contact' : 'pop-link',
            text: unknown ? 'New contact' : 'Open record',
          }) : null)));

    const existing = cards.get(pop.call_id);
    if (existing) existing.replaceWith(card);
    else ui.pops.prepend(card);
    cards.set(pop.call_id, card);
    ui.popsEmpty.hidden = true;
  }

  const callStates = {
    incoming_call: 'ringing',
    outgoing_call: 'dialling',
    call_answered: 'answered',
    call_hold: 'on hold',
    call_unhold: 'answered',
    call_hangup: 'ended',
  };

  function updateCardState(envelope) {
    const callId = envelope.payload?.call?.uuid;
    const state = callStates[envelope.type];
    const card = callId && cards.get(callId);
    if (!card || !state) return;
    const pill = card.querySelector('[data-testid="pop-state"]');
    pill.dataset.state = state === 'on hold' ? 'held' : state;
    pill.textContent = envelope.type === 'call_hangup' ? `ended · ${envelope.payload.billsec ?? 0}s` : state;
  }

  // ---- contacts and click-to-call ----------------------------------------------------------------

  async function dial(number, button) {
    if (button) button.disabled = true;
    try {
      const response = await fetch('/demo/api/dial', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ number }),
      });
      if (response.ok) {
        const body = await response.json().catch(() => ({}));
        logEntry('dial', `dial ${number}`, body);
        toast('info', `Calling ${number}`, 'Sent to the webphone through the hub.');
        return;
      }
      const problem = await readProblem(response);
      logEntry('error', `dial ${number} refused`, problem);
      if (problem.code === 'agent_offline') {
        toast('error', 'The webphone is offline', 'The hub has no connected relay for this agent. Wait for the status to show “connected” and try again.');
      } else {
        toast('error', `Could not call ${number}`, problem.detail || problem.title || problem.code);
      }
    } catch (error) {
      logEntry('error', `dial ${number} failed`, String(error));
      toast('error', `Could not call ${number}`, 'The hub did not answer.');
    } finally {
      if (button) button.disabled = false;
    }
  }

  function renderContacts(contacts) {
    ui.contacts.replaceChildren();
    if (!contacts.length) {
      ui.contacts.append(el('tr', { class: 'placeholder' }, el('td', { colSpan: 5, text: 'No contacts.' })));
      return;
    }
    for (const contact of contacts) {
      const phones = Array.isArray(contact.phones) ? contact.phones : [];
      const number = phones[0] || '';
      const link = safeUrl(contact.url);
      const button = el('button', {
        type: 'button',
        class: 'btn btn--call',
        'data-testid': `dial-${contact.external_id}`,
        title: number ? `Call ${number} through the hub` : 'No phone number',
        disabled: !number,
        text: 'Call',
      });
      button.addEventListener('click', () => dial(number, button));
      ui.contacts.append(el('tr', { 'data-testid': `contact-${contact.external_id}` },
        el('td', {},
          el('div', { class: 'person' },
            el('span', { class: 'person__avatar', 'aria-hidden': 'true', text: initials(contact.display_name) }),
            el('div', {},
              link ? el('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'person__name', text: contact.display_name })
                : el('span', { class: 'person__name', text: contact.display_name }),
              contact.email ? el('div', { class: 'person__email', text: contact.email }) : null))),
        el('td', { text: contact.company || '—' }),
        el('td', { class: 'mono' }, phones.map((p, i) => el('div', { class: i ? 'muted' : '', text: p }))),
        el('td', {}, fieldChips(contact.custom_fields) || el('span', { class: 'muted', text: '—' })),
        el('td', { class: 'actions' }, button)));
    }
  }

  async function loadContacts() {
    try {
      const response = await fetch('/demo/api/contacts', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      renderContacts(await response.json());
    } catch (error) {
      ui.contacts.replaceChildren(el('tr', { class: 'placeholder' }, el('td', { colSpan: 5, text: `Could not load contacts: ${error.message}` })));
    }
  }

  ui.quickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const number = ui.quickNumber.value.trim();
    if (number) dial(number, ui.quickForm.querySelector('button'));
  });

  // ---- relay -------------------------------------------------------------------------------------

  function describeEvent(envelope) {
    const call = envelope.payload?.call;
    const parts = [];
    if (call?.number) parts.push(call.number);
    if (call?.uuid) parts.push(call.uuid);
    if (envelope.type === 'call_hangup') parts.push(`billsec ${envelope.payload.billsec}`);
    if (envelope.payload?.message) parts.push(envelope.payload.message);
    return parts.join(' · ');
  }

  function connectRelay(config) {
    const webphoneUrl = new URL(config.webphone_url, location.href);
    // The simulator posts to ?parent_origin=; make sure that is this page's origin even behind a proxy.
    if (webphoneUrl.pathname.startsWith('/webphone-simulator') && webphoneUrl.searchParams.get('parent_origin') !== location.origin) {
      webphoneUrl.searchParams.set('parent_origin', location.origin);
    }
    const webphoneOrigin = config.webphone_origin || webphoneUrl.origin;
    ui.webphoneOrigin.textContent = webphoneOrigin;

    const relay = window.HubRelay.connect({
      hubUrl: config.hub_url || location.origin,
      getToken: async () => {
        const response = await fetch('/demo/api/token', { method: 'POST' });
        if (!response.ok) throw new Error(`token: ${response.status}`);
        return response.text();
      },
      webphone: { frame: ui.frame, origin: webphoneOrigin },
      // A demo should come back quickly after the hub restarts.
      reconnect: { minDelayMs: 300, maxDelayMs: 3000 },
    });

    relay.on('status', (status) => {
      setStatus(status);
      logEntry('status', status);
    });
    relay.on('event', (envelope) => {
      logEntry('event', envelope.type, describeEvent(envelope));
      updateCardState(envelope);
    });
    relay.on('screenPop', (pop) => {
      logEntry('pop', pop.unknown_caller ? `unknown caller ${pop.number}` : `${pop.matches?.[0]?.display_name ?? pop.number}`, pop.call_id);
      renderPop(pop);
    });
    relay.on('command', (command) => {
      logEntry('command', command.type, command.type === 'refresh_token' ? '' : command.payload);
    });
    relay.on('authRequired', (info) => {
      logEntry('auth', `new session needed: ${info.reason}`);
    });
    relay.on('error', (error) => {
      logEntry('error', error.code, error.detail || (error.dropped ? `dropped ${error.dropped}` : error.type || ''));
      if (error.code === 'invalid_event') toast('error', 'The hub refused a webphone event', error.detail || error.type);
    });
    setStatus(relay.status);

    // The relay listens before the webphone loads, so its first `registered` is relayed too.
    ui.frame.src = webphoneUrl.href;
    window.demoRelay = relay;
    return relay;
  }

  // The analysts' view of the same account: a single-use analyst token travels in the URL fragment,
  // which the dashboard exchanges for a session and then drops from the address bar.
  function wireDashboardLink(tenantId) {
    const link = document.querySelector('[data-testid="open-dashboard"]');
    link.addEventListener('click', async (event) => {
      event.preventDefault();
      const opened = window.open('about:blank', '_blank');
      const response = await fetch('/demo/api/analyst-token', { method: 'POST' });
      const target = `/dashboard/?account_id=${encodeURIComponent(tenantId)}#token=${encodeURIComponent(await response.text())}`;
      if (opened) opened.location.href = target; else window.location.href = target;
    });
  }

  async function start() {
    let config;
    try {
      const response = await fetch('/demo/api/config', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      config = await response.json();
    } catch (error) {
      setStatus('offline');
      showBanner(`Could not load the demo configuration (/demo/api/config): ${error.message}`);
      return;
    }
    ui.agent.textContent = config.agent_id || 'agent';
    ui.tenant.textContent = config.tenant_id ? `Tenant ${config.tenant_id}` : '';
    document.body.dataset.tenantId = config.tenant_id || '';
    loadContacts();
    wireDashboardLink(config.tenant_id);

    if (!window.HubRelay) {
      setStatus('offline');
      showBanner('The browser relay (/relay/hub-relay.js) did not load. Build the hub with Node.js and npm installed (dotnet build), then reload.');
      return;
    }
    try {
      connectRelay(config);
    } catch (error) {
      setStatus('offline');
      showBanner(`The relay could not start: ${error.message}`);
    }
  }

  start();
})();
