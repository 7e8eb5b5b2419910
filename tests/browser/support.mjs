// What every browser test needs besides the hub (hub-process.mjs): Debian's Chromium, and small HTTP
// servers of the test's own on other origins (CRM pages, portals, webphones).
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser), headless, without background traffic. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Listens on a free port of 127.0.0.1 and resolves to {server, origin}; a throwing handler answers 500. */
export function listen(handler) {
  return new Promise((done, fail) => {
    const server = createServer((request, response) => {
      Promise.resolve(handler(request, response)).catch((error) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error?.stack ?? error));
      });
    });
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done({ server, origin: `http://127.0.0.1:${server.address().port}` }));
  });
}

/** Closes a server from listen(), cutting its keep-alive connections. */
export function close(server) {
  if (!server) return Promise.resolve();
  server.closeAllConnections?.();
  return new Promise((done) => server.close(() => done()));
}

/** Polls a REST effect that has no browser signal, briefly. */
export async function eventually(read, description, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
