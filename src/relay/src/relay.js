// @ts-check
import { Backoff } from './backoff.js';
import { WEBPHONE_SOURCE, isWebphoneMessage } from './origin.js';
import { InvalidEventError, MemoryStorage, Outbox, outboxKey, ownerOf } from './outbox.js';
import { AuthError, exchangeToken, hubErrorCode, isUnauthorized, revokeSession, tokenOf } from './session.js';

/** @typedef {import('./hub-relay.js').RelayOptions} RelayOptions */
/** @typedef {import('./hub-relay.js').RelayEvents} RelayEvents */
/** @typedef {import('./hub-relay.js').RelayStatus} RelayStatus */
/** @typedef {import('./hub-relay.js').Relay} RelayApi */
/** @typedef {import('./hub-relay.js').Envelope} Envelope */
/** @typedef {import('./hub-relay.js').HubCommand} HubCommand */
/** @typedef {import('./hub-relay.js').HubConnectionLike} HubConnectionLike */
/** @typedef {import('./hub-relay.js').MessageEventLike} MessageEventLike */
/** @typedef {import('./hub-relay.js').Session} Session */
/** @typedef {import('./hub-relay.js').LogLevel} LogLevel */

/** The hub takes at most this many envelopes per PublishBatch. */
export const MAX_BATCH_SIZE = 500;

/** A session this close to its expiry is not used for a new connection. */
const SESSION_MARGIN_MS = 30_000;

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, none: 4 };

/** getToken failed or the exchange failed for a reason other than 401. */
class TokenError extends Error {}

/**
 * Creates a relay and starts it. Needs `createConnection` (index.js supplies the SignalR one).
 * @param {RelayOptions} options
 * @returns {RelayApi}
 */
export function createRelay(options) {
  return new Relay(options);
}

/** @implements {RelayApi} */
class Relay {
  /** @type {RelayStatus} */
  #status = 'connecting';
  /** @type {Map<keyof RelayEvents, Set<(value: any) => void>>} */
  #listeners = new Map();
  #stopped = false;
  /** @type {Session | null} */
  #session = null;
  /** @type {HubConnectionLike | null} */
  #connection = null;
  /** Hello answered on #connection and it has not closed. */
  #connected = false;
  #sending = false;
  /** After a whole batch was refused, send one at a time to find the culprit. */
  #singleNext = false;
  /** @type {unknown} */
  #retryTimer = null;
  /** @type {{handle: unknown, resolve: () => void} | null} */
  #sleeping = null;

  #hubUrl;
  #webphone;
  #getToken;
  #batchSize;
  #window;
  #fetch;
  #timers;
  #now;
  #randomUUID;
  #createConnection;
  #logLevel;
  #logger;
  #outbox;
  #reconnectBackoff;
  #sendBackoff;

  /** @param {RelayOptions} options */
  constructor(options) {
    if (!options || typeof options.hubUrl !== 'string' || !options.hubUrl) {
      throw new TypeError('HubRelay: hubUrl is required');
    }
    if (typeof options.getToken !== 'function') {
      throw new TypeError('HubRelay: getToken must be a function');
    }
    if (!options.webphone || typeof options.webphone.origin !== 'string' || !options.webphone.origin || options.webphone.origin === '*') {
      throw new TypeError('HubRelay: webphone.origin must be the exact origin of the webphone');
    }
    if (typeof options.createConnection !== 'function') {
      throw new TypeError('HubRelay: createConnection is required');
    }
    const win = options.window ?? /** @type {any} */ (globalThis);
    if (typeof win?.addEventListener !== 'function') {
      throw new TypeError('HubRelay: no window to listen on');
    }

    this.#hubUrl = options.hubUrl.replace(/\/+$/, '');
    this.#webphone = { frame: options.webphone.frame ?? null, origin: options.webphone.origin };
    this.#getToken = options.getToken;
    const batchSize = options.batchSize ?? 100;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new RangeError('HubRelay: batchSize must be a positive integer');
    }
    this.#batchSize = Math.min(MAX_BATCH_SIZE, batchSize);
    this.#window = win;
    this.#fetch = options.fetch ?? /** @type {import('./hub-relay.js').FetchLike} */ ((url, init) => globalThis.fetch(url, init));
    this.#timers = options.timers ?? {
      setTimeout: (/** @type {() => void} */ callback, /** @type {number} */ ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (/** @type {any} */ handle) => globalThis.clearTimeout(handle),
    };
    this.#now = options.now ?? Date.now;
    this.#randomUUID = options.randomUUID ?? randomUUID;
    this.#createConnection = options.createConnection;
    this.#logLevel = options.logLevel ?? 'warn';
    this.#logger = options.logger ?? console;
    const bounds = { minDelayMs: options.reconnect?.minDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 };
    this.#reconnectBackoff = new Backoff(bounds, options.random);
    this.#sendBackoff = new Backoff(bounds, options.random);

    /** @type {import('./hub-relay.js').RelayError[] | null} errors of the constructor, reported once listeners could subscribe */
    let early = [];
    /** @param {import('./hub-relay.js').RelayError} error */
    const report = error => (early ? early.push(error) : this.#emit('error', error));
    this.#outbox = new Outbox({
      storage: options.storage === undefined ? defaultStorage() : options.storage ?? new MemoryStorage(),
      key: outboxKey(this.#hubUrl, this.#webphone.origin),
      limit: options.outboxLimit ?? 1000,
      onStorageError: error => report({ code: 'storage_failed', detail: messageOf(error), cause: error }),
    });
    const dropped = this.#outbox.load();
    if (dropped > 0) {
      report({ code: 'outbox_overflow', dropped });
    }

    this.#window.addEventListener('message', this.#onMessage);
    // Started on a microtask so that on('status') right after connect() hears 'connecting'.
    queueMicrotask(() => {
      if (this.#stopped) {
        return;
      }
      const errors = early ?? [];
      early = null;
      errors.forEach(error => this.#emit('error', error));
      this.#emit('status', this.#status);
      this.#run();
    });
  }

  get status() {
    return this.#status;
  }

  /**
   * @template {keyof RelayEvents} K
   * @param {K} event
   * @param {(value: RelayEvents[K]) => void} listener
   * @returns {() => void}
   */
  on(event, listener) {
    if (typeof listener !== 'function') {
      throw new TypeError('HubRelay: a listener must be a function');
    }
    let set = this.#listeners.get(event);
    if (!set) {
      this.#listeners.set(event, (set = new Set()));
    }
    set.add(listener);
    return () => void this.#listeners.get(event)?.delete(listener);
  }

  /** @param {string} number @param {unknown} [options] */
  dial(number, options) {
    if (this.#stopped) {
      throw new Error('HubRelay: this relay was stopped');
    }
    if (typeof number !== 'string' || !number.trim()) {
      throw new TypeError('HubRelay: dial needs a number');
    }
    this.#postToWebphone('call', { number, options });
  }

  /**
   * The agent chose this contact among a screen-pop's matches: the hub links the call to it and ranks
   * it first the next time this number calls. Needs a live connection (rejects otherwise).
   * @param {string} callId @param {string} externalId
   */
  async pickContact(callId, externalId) {
    if (this.#stopped) {
      throw new Error('HubRelay: this relay was stopped');
    }
    if (typeof callId !== 'string' || !callId || typeof externalId !== 'string' || !externalId) {
      throw new TypeError('HubRelay: pickContact needs a call id and an external id');
    }
    const connection = this.#connection;
    if (!connection || !this.#connected) {
      throw new Error('HubRelay: not connected to the hub; try again when status is connected');
    }
    await connection.invoke('PickContact', { call_id: callId, external_id: externalId });
  }

  async signOut() {
    const session = this.#session;
    const connection = this.#connection;
    // Stopped first: the hub's AuthRequired(signed_out) that follows must not start a new session.
    this.#shutdown();
    // What this agent had not delivered is not sent under whoever signs in next in this browser.
    this.#outbox.clear();
    if (session) {
      try {
        await revokeSession(this.#fetch, this.#hubUrl, session.session_token);
      } catch (error) {
        this.#emit('error', { code: 'sign_out_failed', detail: messageOf(error), cause: error });
      }
    }
    await connection?.stop().catch(() => {});
    this.#setStatus('offline');
  }

  destroy() {
    const connection = this.#connection;
    this.#shutdown();
    connection?.stop().catch(() => {});
    this.#setStatus('offline');
    this.#listeners.clear();
  }

  // ---- the connection loop ----

  async #run() {
    let first = true;
    while (!this.#stopped) {
      if (!first) {
        this.#setStatus('reconnecting');
        await this.#sleep(this.#reconnectBackoff.next());
        if (this.#stopped) {
          break;
        }
      }
      first = false;
      await this.#connectOnce();
    }
  }

  /** One connection, from getting a session to its close. Never throws. */
  async #connectOnce() {
    /** @type {HubConnectionLike | null} */
    let connection = null;
    let authPushed = false;
    try {
      const session = await this.#ensureSession();
      if (this.#stopped) {
        return;
      }
      // From here on this session's agent owns what the webphone sends; only its events are flushed.
      this.#outbox.bind(ownerOf(session));
      connection = this.#createConnection({
        url: `${this.#hubUrl}/hubs/agent`,
        accessTokenFactory: () => session.session_token,
        logLevel: this.#logLevel,
      });
      const current = connection;
      /** @type {Promise<Error | undefined>} */
      const closed = new Promise(resolve => current.onclose(resolve));
      current.on('ScreenPop', pop => this.#emit('screenPop', pop));
      current.on('Command', command => void this.#onCommand(current, command));
      current.on('AuthRequired', push => {
        if (this.#stopped || authPushed) {
          return;
        }
        authPushed = true;
        this.#dropSession(typeof push?.reason === 'string' ? push.reason : 'unauthorized');
        current.stop().catch(() => {});
      });
      this.#connection = current;

      await current.start();
      if (this.#stopped) {
        return;
      }
      const hello = await current.invoke('Hello');
      if (this.#stopped) {
        return;
      }
      this.#log('info', 'connected', hello);
      const allowed = webphoneOriginsOf(hello);
      if (allowed.length > 0 && !allowed.includes(this.#webphone.origin)) {
        // The account lists its webphones and this one is not among them: relay nothing, ever.
        this.#shutdown();
        this.#emit('error', {
          code: 'webphone_origin_not_allowed',
          detail: `webphone origin ${this.#webphone.origin} is not in the account's webphone_origins`,
          origin: this.#webphone.origin,
          allowed,
        });
        await current.stop().catch(() => {});
        this.#setStatus('offline');
        return;
      }
      this.#connected = true;
      this.#reconnectBackoff.reset();
      this.#sendBackoff.reset();
      this.#setStatus('connected');
      this.#flush();

      const error = await closed;
      this.#connected = false;
      if (!this.#stopped) {
        this.#log('info', 'connection closed', error);
        if (!authPushed && isUnauthorized(error)) {
          this.#dropSession('unauthorized');
        }
      }
    } catch (error) {
      if (this.#stopped) {
        return;
      }
      if (error instanceof AuthError) {
        this.#dropSession(error.code);
      } else if (isUnauthorized(error)) {
        this.#dropSession('unauthorized');
      } else if (error instanceof TokenError) {
        this.#emit('error', { code: 'token_failed', detail: error.message, cause: error.cause });
      } else if (!authPushed) {
        this.#log('warn', 'could not connect', error);
      }
      // It may have started (Hello failed): make sure it is down before the next attempt.
      await connection?.stop().catch(() => {});
    } finally {
      this.#connected = false;
      if (this.#connection === connection) {
        this.#connection = null;
      }
      this.#clearRetry();
    }
  }

  /** @returns {Promise<Session>} the current session while valid, else a new one from a new token */
  async #ensureSession() {
    const current = this.#session;
    if (current && !(Date.parse(current.expires_at) - this.#now() < SESSION_MARGIN_MS)) {
      return current;
    }
    this.#session = null;
    let token;
    try {
      token = tokenOf(await this.#getToken());
    } catch (error) {
      throw new TokenError(`getToken failed: ${messageOf(error)}`, { cause: error });
    }
    if (this.#stopped) {
      throw new TokenError('stopped');
    }
    try {
      this.#session = await exchangeToken(this.#fetch, this.#hubUrl, token);
    } catch (error) {
      if (error instanceof AuthError) {
        throw error;
      }
      throw new TokenError(`the session exchange failed: ${messageOf(error)}`, { cause: error });
    }
    return this.#session;
  }

  /** @param {string} reason */
  #dropSession(reason) {
    this.#session = null;
    // Until a new session says whose they are, new events belong to no one (the next session takes them).
    this.#outbox.bind(null);
    this.#log('info', 'auth required', reason);
    this.#emit('authRequired', { reason });
  }

  /** @param {number} ms */
  #sleep(ms) {
    return new Promise(resolve => {
      const handle = this.#timers.setTimeout(() => {
        this.#sleeping = null;
        resolve(undefined);
      }, ms);
      this.#sleeping = { handle, resolve: () => resolve(undefined) };
    });
  }

  // ---- events: webphone -> hub ----

  /** @param {MessageEventLike} event */
  #onMessage = event => {
    if (this.#stopped || !isWebphoneMessage(event, this.#webphone)) {
      return;
    }
    const data = /** @type {{type: string, payload?: unknown}} */ (event.data);
    const eventId = this.#randomUUID();
    let added;
    try {
      added = this.#outbox.add({ event_id: eventId, occurred_at: new Date(this.#now()).toISOString(), type: data.type, payload: data.payload ?? null });
    } catch (error) {
      if (!(error instanceof InvalidEventError)) {
        throw error;
      }
      this.#emit('error', { code: 'invalid_event', detail: error.message, event_id: eventId, type: data.type });
      return;
    }
    if (added.dropped > 0) {
      this.#emit('error', { code: 'outbox_overflow', dropped: added.dropped });
    }
    this.#emit('event', added.envelope);
    this.#flush();
  };

  /** Sends the oldest waiting events; one send in flight at a time keeps them in order. */
  async #flush() {
    const connection = this.#connection;
    if (this.#sending || !this.#connected || !connection || this.#stopped || this.#retryTimer !== null) {
      return;
    }
    const batch = this.#outbox.peek(this.#singleNext ? 1 : this.#batchSize);
    if (batch.length === 0) {
      return;
    }
    this.#sending = true;
    let retry = false;
    try {
      const acks = batch.length === 1
        ? [await connection.invoke('Publish', batch[0])]
        : await connection.invoke('PublishBatch', batch);
      retry = !this.#settle(batch, acks);
      if (!retry) {
        this.#singleNext = false;
        this.#sendBackoff.reset();
      }
    } catch (error) {
      const code = hubErrorCode(error);
      if (code === 'invalid_event' && batch.length === 1) {
        this.#reject(batch[0], messageOf(error));
      } else if (code === 'invalid_event') {
        this.#singleNext = true;
      } else {
        // bus_unavailable, a lost connection, a timeout: keep them; the retry or the next connection resends.
        this.#log('warn', `sending ${batch.length} event(s) failed; will retry`, error);
        retry = true;
      }
    } finally {
      this.#sending = false;
    }
    if (this.#stopped || !this.#connected) {
      return;
    }
    if (retry) {
      this.#retryTimer = this.#timers.setTimeout(() => {
        this.#retryTimer = null;
        this.#flush();
      }, this.#sendBackoff.next());
    } else {
      this.#flush();
    }
  }

  /**
   * Applies the hub's answers, one per envelope in order.
   * @param {Envelope[]} batch
   * @param {unknown} acks
   * @returns {boolean} whether every envelope was settled
   */
  #settle(batch, acks) {
    /** @type {string[]} */
    const done = [];
    let settled = true;
    batch.forEach((envelope, index) => {
      const ack = Array.isArray(acks) ? acks[index] : undefined;
      const status = ack?.status;
      if (status === 'accepted' || status === 'duplicate') {
        done.push(envelope.event_id);
      } else if (status === 'rejected') {
        done.push(envelope.event_id);
        this.#emit('error', { code: 'invalid_event', detail: String(ack.error ?? 'rejected'), event_id: envelope.event_id, type: envelope.type });
      } else {
        settled = false;
      }
    });
    this.#outbox.remove(done);
    return settled;
  }

  /** @param {Envelope} envelope @param {string} detail */
  #reject(envelope, detail) {
    this.#outbox.remove([envelope.event_id]);
    this.#emit('error', { code: 'invalid_event', detail, event_id: envelope.event_id, type: envelope.type });
  }

  #clearRetry() {
    if (this.#retryTimer !== null) {
      this.#timers.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  // ---- commands: hub -> webphone ----

  /** @param {HubConnectionLike} connection @param {HubCommand} command */
  async #onCommand(connection, command) {
    if (this.#stopped) {
      return;
    }
    this.#emit('command', command);
    /** @type {{command_id: string, status: 'delivered' | 'failed', error?: string}} */
    let result;
    try {
      if (typeof command?.type !== 'string' || !command.type) {
        throw new Error('the command has no type');
      }
      const payload = command.type === 'refresh_token'
        ? { token: /** @type {{token?: unknown}} */ (command.payload)?.token }
        : command.payload;
      this.#postToWebphone(command.type, payload);
      result = { command_id: command.command_id, status: 'delivered' };
    } catch (error) {
      result = { command_id: command?.command_id, status: 'failed', error: messageOf(error) };
    }
    try {
      await connection.invoke('CommandResult', result);
    } catch (error) {
      this.#log('warn', 'CommandResult failed', error);
    }
  }

  /** @param {string} type @param {unknown} payload */
  #postToWebphone(type, payload) {
    const target = this.#webphone.frame?.contentWindow;
    if (!target) {
      throw new Error('the webphone frame is not available');
    }
    target.postMessage({ source: WEBPHONE_SOURCE, type, payload }, this.#webphone.origin);
  }

  // ---- plumbing ----

  #shutdown() {
    this.#stopped = true;
    this.#window.removeEventListener('message', this.#onMessage);
    this.#clearRetry();
    if (this.#sleeping) {
      this.#timers.clearTimeout(this.#sleeping.handle);
      this.#sleeping.resolve();
      this.#sleeping = null;
    }
    this.#connected = false;
    this.#session = null;
  }

  /** @param {RelayStatus} status */
  #setStatus(status) {
    if (this.#status !== status) {
      this.#status = status;
      this.#emit('status', status);
    }
  }

  /**
   * @template {keyof RelayEvents} K
   * @param {K} event
   * @param {RelayEvents[K]} value
   */
  #emit(event, value) {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        this.#log('error', `a '${event}' listener threw`, error);
      }
    }
  }

  /** @param {Exclude<LogLevel, 'none'>} level @param {string} message @param {unknown[]} details */
  #log(level, message, ...details) {
    if (LEVELS[level] >= LEVELS[this.#logLevel]) {
      this.#logger[level](`[HubRelay] ${message}`, ...details);
    }
  }
}

/** @returns {import('./hub-relay.js').StorageLike} */
function defaultStorage() {
  try {
    const storage = /** @type {any} */ (globalThis).sessionStorage;
    if (storage) {
      return storage;
    }
  } catch {
    // Blocked (sandboxed frame, privacy settings): fall through to memory.
  }
  return new MemoryStorage();
}

/**
 * The account's webphone_origins from the hub's Hello; empty when the hub sends none (not configured).
 * @param {unknown} hello
 * @returns {string[]}
 */
function webphoneOriginsOf(hello) {
  const list = /** @type {{webphone_origins?: unknown} | null} */ (hello)?.webphone_origins;
  return Array.isArray(list) ? list.filter(origin => typeof origin === 'string') : [];
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/** crypto.randomUUID needs a secure context; fall back to getRandomValues. */
function randomUUID() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') {
    return c.randomUUID();
  }
  const bytes = c.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map(b => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
