// Fakes for the relay's unit tests: window, frame, storage, fetch, timers and a SignalR-like hub.
// Kept outside test/ so that `node --test test/` does not count this module as a test file.
import { createRelay } from '../src/relay.js';

export const HUB_URL = 'https://hub.example.com';
export const WEBPHONE_ORIGIN = 'https://app.zorio.vn';

/** Lets every pending promise continuation run (the fakes settle only through microtasks). */
export const settle = () => new Promise(resolve => setImmediate(resolve));

export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A hand-driven clock: timers fire only from advance()/runNext(). */
export class FakeTimers {
  now = Date.UTC(2025, 0, 1);
  #nextId = 1;
  /** @type {Map<number, {at: number, delay: number, callback: () => void}>} */
  timers = new Map();
  /** every delay ever asked for, in order */
  delays = [];

  setTimeout = (callback, ms) => {
    const id = this.#nextId++;
    this.timers.set(id, { at: this.now + ms, delay: ms, callback });
    this.delays.push(ms);
    return id;
  };

  clearTimeout = id => {
    this.timers.delete(id);
  };

  get pending() {
    return [...this.timers.values()].map(timer => timer.delay);
  }

  /** Runs the earliest timer (moving the clock to it) and settles; returns its delay, or undefined. */
  async runNext() {
    const [id, timer] = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (id === undefined) {
      return undefined;
    }
    this.timers.delete(id);
    this.now = Math.max(this.now, timer.at);
    timer.callback();
    await settle();
    return timer.delay;
  }

  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) {
        break;
      }
      await this.runNext();
    }
    this.now = end;
    await settle();
  }
}

export class FakeWindow {
  listeners = new Set();
  addEventListener(type, listener) {
    if (type === 'message') {
      this.listeners.add(listener);
    }
  }
  removeEventListener(type, listener) {
    if (type === 'message') {
      this.listeners.delete(listener);
    }
  }
  dispatch(event) {
    for (const listener of [...this.listeners]) {
      listener(event);
    }
  }
}

/** An iframe whose window records what is posted into it. */
export class FakeFrame {
  constructor() {
    this.contentWindow = {
      posted: [],
      postMessage(message, targetOrigin) {
        this.posted.push({ message: structuredClone(message), targetOrigin });
      },
    };
  }
  get posted() {
    return this.contentWindow?.posted ?? [];
  }
}

export class MemoryStorage {
  map = new Map();
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

/**
 * The hub's REST side. Sessions are granted by default; queue other answers with next(method, path, status, body).
 */
export class FakeFetch {
  calls = [];
  #queued = [];
  #sessions = 0;
  expiresAt = '2099-01-01T00:00:00Z';
  /** Who the granted sessions belong to (the CRM may sign another agent or tenant in later). */
  identity = { tenant_id: 'acme', agent_id: 'agent-7' };

  next(method, path, status, body) {
    this.#queued.push({ method, path, status, body });
  }

  fetch = async (url, init) => {
    const path = url.startsWith(HUB_URL) ? url.slice(HUB_URL.length) : url;
    this.calls.push({ url, path, method: init.method, headers: init.headers });
    const index = this.#queued.findIndex(q => q.method === init.method && q.path === path);
    if (index >= 0) {
      const [{ status, body }] = this.#queued.splice(index, 1);
      if (status instanceof Error) {
        throw status;
      }
      return response(status, body);
    }
    if (init.method === 'POST' && path === '/api/v1/sessions') {
      const n = ++this.#sessions;
      return response(200, { session_token: `hubs_${n}`, expires_at: this.expiresAt, ...this.identity, role: 'agent' });
    }
    if (init.method === 'DELETE' && path === '/api/v1/sessions/current') {
      return response(204);
    }
    return response(404, { code: 'not_found' });
  };

  get exchanges() {
    return this.calls.filter(c => c.method === 'POST' && c.path === '/api/v1/sessions');
  }
}

function response(status, body) {
  return { ok: status >= 200 && status < 300, status, json: async () => (body === undefined ? Promise.reject(new Error('no body')) : body) };
}

export const hubError = (method, code, detail = 'refused') =>
  new Error(`An unexpected error occurred invoking '${method}' on the server. HubException: ${code}: ${detail}`);

/**
 * A SignalR-like hub. Handlers answer invocations; replace them with hub.handlers.X = (...args) => value | Promise | throw.
 */
export class FakeHub {
  /** @type {FakeConnection[]} */
  connections = [];
  /** every invocation of every connection, in order: {connection, method, args} */
  invocations = [];
  /** start(): return a promise or throw to fail it */
  onStart = () => {};
  handlers = {
    Hello: connection => ({ tenant_id: 'acme', agent_id: 'agent-7', connection_id: `c${connection.id}` }),
    Publish: (_connection, envelope) => ({ event_id: envelope.event_id, status: 'accepted', error: null }),
    PublishBatch: (_connection, envelopes) => envelopes.map(e => ({ event_id: e.event_id, status: 'accepted', error: null })),
    CommandResult: () => undefined,
    PickContact: () => undefined,
  };

  createConnection = options => {
    const connection = new FakeConnection(this, options, this.connections.length + 1);
    this.connections.push(connection);
    return connection;
  };

  get last() {
    return this.connections.at(-1);
  }

  calls(method) {
    return this.invocations.filter(i => i.method === method);
  }

  /** The envelopes published, in the order they were sent (both Publish and PublishBatch). */
  get published() {
    return this.invocations.flatMap(i => (i.method === 'Publish' ? [i.args[0]] : i.method === 'PublishBatch' ? i.args[0] : []));
  }
}

export class FakeConnection {
  state = 'new';
  handlers = new Map();
  closeCallbacks = [];
  pending = new Set();

  constructor(hub, options, id) {
    this.hub = hub;
    this.options = options;
    this.id = id;
  }

  async start() {
    this.state = 'starting';
    try {
      await this.hub.onStart(this);
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
    this.state = 'connected';
  }

  async stop() {
    this.close(undefined);
  }

  on(method, handler) {
    this.handlers.set(method, handler);
  }

  onclose(callback) {
    this.closeCallbacks.push(callback);
  }

  invoke(method, ...args) {
    if (this.state !== 'connected') {
      return Promise.reject(new Error(`Cannot send data if the connection is not in the 'Connected' State.`));
    }
    this.hub.invocations.push({ connection: this, method, args: structuredClone(args) });
    const call = deferred();
    this.pending.add(call);
    Promise.resolve()
      .then(() => this.hub.handlers[method](this, ...args))
      .then(call.resolve, call.reject)
      .finally(() => this.pending.delete(call));
    return call.promise;
  }

  /** The server calls a client method. */
  push(method, arg) {
    this.handlers.get(method)?.(arg);
  }

  /** The connection ends, as SignalR does it: pending invocations fail, then onclose. */
  close(error) {
    if (this.state === 'closed') {
      return;
    }
    const wasStarted = this.state === 'connected';
    this.state = 'closed';
    for (const call of this.pending) {
      call.reject(new Error('Invocation canceled due to the underlying connection being closed.'));
    }
    this.pending.clear();
    if (wasStarted) {
      for (const callback of this.closeCallbacks) {
        callback(error);
      }
    }
  }
}

/**
 * A relay wired to fakes. Returns the fakes and `seen`, every emitted value by event name.
 */
export function makeRelay(overrides = {}) {
  const win = overrides.window ?? new FakeWindow();
  const frame = overrides.frame === undefined ? new FakeFrame() : overrides.frame;
  const storage = overrides.storage ?? new MemoryStorage();
  const timers = overrides.timers ?? new FakeTimers();
  const fetch = overrides.fetchFake ?? new FakeFetch();
  const hub = overrides.hub ?? new FakeHub();
  let tokens = 0;
  const getToken = overrides.getToken ?? (async () => `embed-${++tokens}`);
  let uuid = overrides.uuidStart ?? 0;
  const relay = createRelay({
    hubUrl: HUB_URL,
    getToken,
    webphone: { frame, origin: WEBPHONE_ORIGIN },
    storage,
    window: win,
    fetch: fetch.fetch,
    timers,
    now: () => timers.now,
    random: overrides.random ?? (() => 0.5),
    randomUUID: () => `00000000-0000-4000-8000-${String(++uuid).padStart(12, '0')}`,
    createConnection: hub.createConnection,
    logLevel: 'none',
    ...overrides.options,
  });
  const seen = { status: [], event: [], error: [], command: [], screenPop: [], authRequired: [] };
  for (const name of Object.keys(seen)) {
    relay.on(name, value => seen[name].push(value));
  }
  /** Posts a webphone message the way the frame would. */
  const post = (type, payload, extra = {}) =>
    win.dispatch({ origin: WEBPHONE_ORIGIN, source: frame?.contentWindow ?? null, data: { source: 'zorio-webphone', type, payload }, ...extra });
  return { relay, win, frame, storage, timers, fetch, hub, seen, post, tokensIssued: () => tokens };
}

export const incoming = (uuid, number = '0912345678') => ({ call: { uuid, number } });
