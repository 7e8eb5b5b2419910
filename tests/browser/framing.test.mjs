// Who may frame the hub's pages: /demo sends `Content-Security-Policy: frame-ancestors` from its
// account's `frame_ancestors` (default 'self'). A portal on another origin is refused by Chromium itself
// until the account lists it, as seed 003 describes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminKey, createHub } from './hub-process.mjs';
import { close, launchChromium, listen } from './support.mjs';

let hub;
let browser;
let portal;

before(async () => {
  hub = await createHub();
  await hub.start();
  portal = await listen((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>Portal</title><h1>Portal</h1><iframe id="embed" src="${hub.url}/demo/" width="1200" height="800"></iframe>`);
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await close(portal?.server);
  await hub?.dispose();
});

test('a portal not in frame_ancestors cannot frame /demo; listing it lets it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();

  // Chromium reports the refusal on the console: that message is the signal, not a timer.
  const refused = page.waitForEvent('console', {
    predicate: (message) => /frame-ancestors/.test(message.text()) && /blocked|Refused to frame/.test(message.text()),
    timeout: 20_000,
  });
  await page.goto(portal.origin);
  const message = await refused;
  assert.match(message.text(), /frame-ancestors 'self'/);
  await page.waitForLoadState('load');
  assert.ok(page.frames().some((frame) => frame.url().startsWith('chrome-error://')), 'the refused frame shows Chromium\'s error page');
  assert.ok(!page.frames().some((frame) => frame.url().startsWith(`${hub.url}/demo`)), 'the demo must not render in the portal');

  // The account lists the portal: the same page now shows the demo inside the portal.
  const config = await (await fetch(`${hub.url}/demo/api/config`)).json();
  const put = await fetch(`${hub.url}/api/v1/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminKey}`, 'x-account-id': config.tenant_id, 'content-type': 'application/json' },
    body: JSON.stringify({ frame_ancestors: ["'self'", portal.origin] }),
  });
  assert.equal(put.status, 200);
  await page.reload();
  await page.frameLocator('#embed').getByText('Demo CRM').first().waitFor({ timeout: 20_000 });

  await context.close();
});
