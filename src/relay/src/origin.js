// @ts-check

/** The `source` marker of every Zorio webphone message, in both directions. */
export const WEBPHONE_SOURCE = 'zorio-webphone';

/**
 * Whether a window `message` event comes from the webphone: the exact origin, the frame's own window
 * when a frame is given, the Zorio marker and a string type. Anything else is not ours to relay.
 *
 * @param {{origin?: unknown, source?: unknown, data?: unknown}} event
 * @param {{origin: string, frame?: {contentWindow: unknown} | null}} webphone
 * @returns {boolean}
 */
export function isWebphoneMessage(event, webphone) {
  if (!event || event.origin !== webphone.origin) {
    return false;
  }
  if (webphone.frame && (event.source == null || event.source !== webphone.frame.contentWindow)) {
    return false;
  }
  const data = /** @type {{source?: unknown, type?: unknown} | null | undefined} */ (event.data);
  return typeof data === 'object' && data !== null && data.source === WEBPHONE_SOURCE
    && typeof data.type === 'string' && data.type.length > 0;
}
