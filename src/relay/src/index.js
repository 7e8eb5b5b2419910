// @ts-check
import { HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { createRelay } from './relay.js';

/** @typedef {import('./hub-relay.js').RelayOptions} RelayOptions */
/** @typedef {import('./hub-relay.js').ConnectionFactoryOptions} ConnectionFactoryOptions */

export const VERSION = '0.1.0';

const SIGNALR_LEVELS = {
  debug: LogLevel.Debug,
  info: LogLevel.Information,
  warn: LogLevel.Warning,
  error: LogLevel.Error,
  none: LogLevel.None,
};

/**
 * The default connection: SignalR over WebSockets (falling back as SignalR does), authenticated with
 * the session token. Reconnection is the relay's own loop, because an auth failure needs a new session.
 * @param {ConnectionFactoryOptions} options
 * @returns {import('./hub-relay.js').HubConnectionLike}
 */
export function createSignalRConnection({ url, accessTokenFactory, logLevel }) {
  return new HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory })
    .configureLogging(SIGNALR_LEVELS[logLevel] ?? LogLevel.Warning)
    .build();
}

/** @type {typeof import('./hub-relay.js').connect} */
export function connect(options) {
  return createRelay({ createConnection: createSignalRConnection, ...options });
}

/** @type {typeof import('./hub-relay.js').HubRelay} */
export const HubRelay = Object.freeze({ connect, version: VERSION });

export default HubRelay;
