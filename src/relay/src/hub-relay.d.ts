/**
 * Hub relay: bridges the Zorio webphone iframe (postMessage) to the Hub agent hub (SignalR).
 * The public contract of dist/hub-relay.mjs and of the global `HubRelay` set by dist/hub-relay.js.
 */

export type RelayStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

/** What is sent to the hub for each webphone event; `type` and `payload` are what the iframe posted. */
export interface Envelope {
  event_id: string;
  seq: number;
  occurred_at: string;
  type: string;
  payload: unknown;
}

export interface ScreenPopMatch {
  external_id: string;
  display_name: string;
  company: string | null;
  url: string | null;
  custom_fields?: unknown;
}

export interface ScreenPop {
  call_id: string;
  number: string;
  unknown_caller: boolean;
  url: string | null;
  matches: ScreenPopMatch[];
  created_at: string;
}

export interface HubCommand {
  command_id: string;
  /** call, hangup, send_dtmf, mute, unmute, hold, unhold, answer, refresh_token */
  type: string;
  payload: unknown;
}

export interface AuthRequired {
  /** The hub's AuthRequired reason (e.g. signed_out), the exchange's 401 code (invalid_token, token_expired, token_replayed) or unauthorized. */
  reason: string;
}

export interface RelayError {
  /**
   * outbox_overflow (with dropped), invalid_event (the hub refused an event, or it could never be sent: with event_id, type),
   * token_failed (getToken threw or the exchange failed other than 401), storage_failed, sign_out_failed,
   * webphone_origin_not_allowed (the account's webphone_origins do not list webphone.origin: with origin, allowed; the relay stopped).
   */
  code: string;
  detail?: string;
  /** webphone_origin_not_allowed: the relay's webphone.origin. */
  origin?: string;
  /** webphone_origin_not_allowed: the account's webphone_origins. */
  allowed?: string[];
  dropped?: number;
  event_id?: string;
  type?: string;
  cause?: unknown;
}

export interface RelayEvents {
  screenPop: ScreenPop;
  command: HubCommand;
  event: Envelope;
  status: RelayStatus;
  authRequired: AuthRequired;
  error: RelayError;
}

/** The answer of POST /api/v1/sessions. */
export interface Session {
  session_token: string;
  expires_at: string;
  tenant_id: string;
  agent_id: string;
  role: string;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** An HTMLIFrameElement, or anything with the window to post to. */
export interface FrameLike {
  readonly contentWindow: { postMessage(message: unknown, targetOrigin: string): void } | null;
}

export interface MessageEventLike {
  readonly origin: string;
  readonly source: unknown;
  readonly data: unknown;
}

export interface WindowLike {
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
}

export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<any>;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string> }) => Promise<ResponseLike>;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The part of a @microsoft/signalr HubConnection the relay uses. */
export interface HubConnectionLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  invoke(method: string, ...args: any[]): Promise<any>;
  on(method: string, handler: (...args: any[]) => void): void;
  onclose(callback: (error?: Error) => void): void;
}

export interface ConnectionFactoryOptions {
  /** {hubUrl}/hubs/agent */
  url: string;
  accessTokenFactory: () => string;
  logLevel: LogLevel;
}

export interface RelayOptions {
  hubUrl: string;
  /** A fresh single-use embed token from the CRM backend (the token, or the hub's `{embed_token}` JSON). Called for every new session. */
  getToken: () => Promise<string> | string;
  webphone: { frame?: FrameLike | null; origin: string };
  /** Where the outbox survives reloads; default window.sessionStorage, `null` for memory only. */
  storage?: StorageLike | null;
  /** Default 1000. */
  outboxLimit?: number;
  /** Default 100, at most 500. */
  batchSize?: number;
  /** Default {minDelayMs: 500, maxDelayMs: 30000}. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Default 'warn'. */
  logLevel?: LogLevel;

  // Injectable for tests and unusual hosts; the defaults are the browser's.
  window?: WindowLike;
  fetch?: FetchLike;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  randomUUID?: () => string;
  logger?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;
  /** Default: a @microsoft/signalr HubConnection with accessTokenFactory. */
  createConnection?: (options: ConnectionFactoryOptions) => HubConnectionLike;
}

export interface Relay {
  readonly status: RelayStatus;
  /** Returns a function that removes the listener. */
  on<K extends keyof RelayEvents>(event: K, listener: (value: RelayEvents[K]) => void): () => void;
  /** Posts a `call` command `{number, options}` into the webphone frame (local click-to-call). Throws when the frame is gone. */
  dial(number: string, options?: unknown): void;
  /** The agent chose this contact among a screen-pop's matches: the call links to it and it ranks first next time. Rejects when not connected. */
  pickContact(callId: string, externalId: string): Promise<void>;
  /** Revokes the session at the hub, stops relaying and goes `offline`. Listeners stay; the outbox stays stored. */
  signOut(): Promise<void>;
  /** Stops everything: the window listener, the connection, timers and every listener. Goes `offline` first. */
  destroy(): void;
}

export declare function connect(options: RelayOptions): Relay;

export declare const VERSION: string;

export declare const HubRelay: { connect: typeof connect; version: string };

export default HubRelay;
