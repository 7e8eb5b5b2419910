// @ts-check

/** @typedef {import('./hub-relay.js').Envelope} Envelope */
/** @typedef {import('./hub-relay.js').StorageLike} StorageLike */

/** The hub refuses larger envelopes (`invalid_event`), so they are refused here before being kept. */
export const MAX_ENVELOPE_BYTES = 32 * 1024;

/** @param {string} hubUrl @param {string} origin */
export const outboxKey = (hubUrl, origin) => `hub-relay:outbox:${hubUrl}|${origin}`;

/** Thrown by {@link Outbox#add} for an event the hub could never accept. */
export class InvalidEventError extends Error {}

/** An in-memory Storage, for when there is no sessionStorage (or `storage: null`). */
export class MemoryStorage {
  /** @type {Map<string, string>} */
  #map = new Map();
  /** @param {string} key */
  getItem(key) {
    return this.#map.get(key) ?? null;
  }
  /** @param {string} key @param {string} value */
  setItem(key, value) {
    this.#map.set(key, String(value));
  }
  /** @param {string} key */
  removeItem(key) {
    this.#map.delete(key);
  }
}

/**
 * Who an event belongs to: `tenant_id/agent_id` of the session that was current when the webphone sent it,
 * or null when none was (the first session bound afterwards takes it).
 * @param {{tenant_id: string, agent_id: string}} session
 */
export const ownerOf = session => `${session.tenant_id}/${session.agent_id}`;

/**
 * The events not yet acknowledged by the hub, oldest first, with the sequence counter. Every change is
 * written through to storage as `{v: 1, next_seq, items}`, so a reload resends what was pending and
 * keeps numbering where it stopped. Bounded: adding to a full outbox drops the oldest.
 *
 * Each event remembers its owner (see {@link ownerOf}) and is only ever handed out for sending while
 * that owner is bound: in a browser where one agent signs out and another signs in, or a tab the CRM
 * reuses for another tenant, one agent's events are never sent under another's session. Events of an
 * owner who is not bound wait for that owner; `clear()` (sign-out) forgets the bound owner's events.
 */
export class Outbox {
  /** @type {(Envelope & {owner?: string | null})[]} */
  #items = [];
  /** @type {string | null} */
  #owner = null;
  #nextSeq = 1;
  #storage;
  #key;
  #limit;
  #onStorageError;
  #storageFailing = false;

  /**
   * @param {{storage: StorageLike, key: string, limit: number, onStorageError?: (error: unknown) => void}} options
   */
  constructor({ storage, key, limit, onStorageError }) {
    if (!(Number.isInteger(limit) && limit >= 1)) {
      throw new RangeError('HubRelay: outboxLimit must be a positive integer');
    }
    this.#storage = storage;
    this.#key = key;
    this.#limit = limit;
    this.#onStorageError = onStorageError ?? (() => {});
  }

  get size() {
    return this.#items.length;
  }

  /**
   * The owner whose session is current (null: none). Events captured with no owner become this owner's.
   * @param {string | null} owner
   */
  bind(owner) {
    this.#owner = owner;
    if (owner === null) {
      return;
    }
    let changed = false;
    for (const item of this.#items) {
      if (item.owner == null) {
        item.owner = owner;
        changed = true;
      }
    }
    if (changed) {
      this.#save();
    }
  }

  /** Sign-out: the bound owner's events (and unowned ones) are forgotten; other owners' stay theirs. */
  clear() {
    const owner = this.#owner;
    this.#items = this.#items.filter(item => item.owner != null && item.owner !== owner);
    this.#owner = null;
    this.#save();
  }

  /** The seq the next event gets. */
  get nextSeq() {
    return this.#nextSeq;
  }

  /**
   * Reads what an earlier page left. A corrupt entry is ignored; a limit lower than before drops the oldest.
   * @returns {number} how many were dropped to fit the limit
   */
  load() {
    let raw;
    try {
      raw = this.#storage.getItem(this.#key);
    } catch (error) {
      this.#onStorageError(error);
      return 0;
    }
    if (!raw) {
      return 0;
    }
    /** @type {{next_seq?: unknown, items?: unknown}} */
    let saved;
    try {
      saved = JSON.parse(raw);
    } catch {
      return 0;
    }
    const items = Array.isArray(saved?.items) ? saved.items.filter(isEnvelope) : [];
    const lastSeq = items.reduce((max, item) => Math.max(max, item.seq), 0);
    const savedNext = Number.isSafeInteger(saved?.next_seq) ? /** @type {number} */ (saved.next_seq) : 1;
    this.#items = items;
    this.#nextSeq = Math.max(this.#nextSeq, savedNext, lastSeq + 1);
    const dropped = Math.max(0, items.length - this.#limit);
    if (dropped > 0) {
      this.#items.splice(0, dropped);
      this.#save();
    }
    return dropped;
  }

  /**
   * Numbers an event and keeps it.
   * @param {{event_id: string, occurred_at: string, type: string, payload: unknown}} event
   * @returns {{envelope: Envelope, dropped: number}} dropped: how many of the oldest made room
   * @throws {InvalidEventError} when it cannot be serialised or is larger than the hub takes
   */
  add(event) {
    /** @type {Envelope} */
    const envelope = { event_id: event.event_id, seq: this.#nextSeq, occurred_at: event.occurred_at, type: event.type, payload: event.payload };
    const owner = this.#owner;
    let json;
    try {
      json = JSON.stringify(envelope);
    } catch (error) {
      throw new InvalidEventError(`the payload cannot be sent as JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (new TextEncoder().encode(json).length > MAX_ENVELOPE_BYTES) {
      throw new InvalidEventError(`the envelope is larger than ${MAX_ENVELOPE_BYTES / 1024} KiB`);
    }
    this.#nextSeq++;
    // Stored as its JSON form, so what is sent after a reload is what would have been sent now.
    this.#items.push({ ...JSON.parse(json), owner });
    const dropped = Math.max(0, this.#items.length - this.#limit);
    this.#items.splice(0, dropped);
    this.#save();
    return { envelope, dropped };
  }

  /**
   * @param {number} count
   * @returns {Envelope[]} the oldest `count` events of the bound owner or of none, oldest first
   */
  peek(count) {
    return this.#items.filter(item => this.#sendable(item)).slice(0, count)
      .map(({ owner: _owner, ...envelope }) => envelope);
  }

  /** @param {Envelope & {owner?: string | null}} item */
  #sendable(item) {
    return item.owner == null || item.owner === this.#owner;
  }

  /** @param {Iterable<string>} eventIds @returns {number} how many were removed */
  remove(eventIds) {
    const ids = new Set(eventIds);
    const before = this.#items.length;
    this.#items = this.#items.filter(item => !ids.has(item.event_id));
    const removed = before - this.#items.length;
    if (removed > 0) {
      this.#save();
    }
    return removed;
  }

  #save() {
    try {
      // next_seq is kept even when nothing waits, so seq never goes back.
      this.#storage.setItem(this.#key, JSON.stringify({ v: 1, next_seq: this.#nextSeq, items: this.#items }));
      this.#storageFailing = false;
    } catch (error) {
      // Quota exceeded or storage blocked: the events are still kept in memory. Report once per streak.
      if (!this.#storageFailing) {
        this.#storageFailing = true;
        this.#onStorageError(error);
      }
    }
  }
}

/** @param {any} item @returns {item is Envelope} */
function isEnvelope(item) {
  return typeof item === 'object' && item !== null && typeof item.event_id === 'string'
    && Number.isSafeInteger(item.seq) && typeof item.occurred_at === 'string' && typeof item.type === 'string'
    && (item.owner == null || typeof item.owner === 'string');
}
