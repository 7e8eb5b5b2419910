// @ts-check

/**
 * Exponential backoff with full jitter, floored at the minimum: attempt n waits a uniformly random
 * time in [min, min(max, min * 2^(n+1))], so retries spread out instead of arriving together.
 *
 * @param {number} attempt 0 for the first retry
 * @param {{minDelayMs: number, maxDelayMs: number}} bounds
 * @param {() => number} [random] a number in [0, 1)
 * @returns {number} milliseconds
 */
export function jitterDelay(attempt, { minDelayMs, maxDelayMs }, random = Math.random) {
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt + 1, 30));
  return Math.round(minDelayMs + random() * (ceiling - minDelayMs));
}

/** Counts attempts; {@link Backoff#reset} after a success. */
export class Backoff {
  /**
   * @param {{minDelayMs: number, maxDelayMs: number}} bounds
   * @param {() => number} [random]
   */
  constructor(bounds, random = Math.random) {
    const { minDelayMs, maxDelayMs } = bounds;
    if (!(minDelayMs >= 0) || !(maxDelayMs >= minDelayMs)) {
      throw new RangeError('HubRelay: reconnect needs 0 <= minDelayMs <= maxDelayMs');
    }
    this.bounds = { minDelayMs, maxDelayMs };
    this.random = random;
    this.attempt = 0;
  }

  /** @returns {number} the delay before the next attempt, in milliseconds */
  next() {
    return jitterDelay(this.attempt++, this.bounds, this.random);
  }

  reset() {
    this.attempt = 0;
  }
}
