// Type-checked only (npm run typecheck): the README's usage compiles against the public declarations
// with the browser's own types (an HTMLIFrameElement frame, sessionStorage, fetch).
import HubRelayDefault, { HubRelay, connect, type Relay, type RelayStatus, type ScreenPop } from '../src/hub-relay.js';

declare const frame: HTMLIFrameElement;

const relay: Relay = HubRelay.connect({
  hubUrl: 'https://hub.example.com',
  getToken: async () => (await fetch('/my-backend/hub-token', { method: 'POST' })).text(),
  webphone: { frame, origin: 'https://app.zorio.vn' },
  storage: sessionStorage,
  outboxLimit: 1000,
  batchSize: 100,
  reconnect: { minDelayMs: 500, maxDelayMs: 30000 },
  logLevel: 'warn',
  window,
  fetch: (url, init) => fetch(url, init),
});
const off: () => void = relay.on('screenPop', (pop: ScreenPop) => void pop.matches[0]?.display_name);
relay.on('status', (status: RelayStatus) => void status);
relay.on('error', error => void error.dropped);
relay.on('authRequired', ({ reason }) => void reason);
relay.on('command', command => void command.command_id);
relay.on('event', envelope => void envelope.seq);
relay.dial('0912345678', { campaignId: 36 });
const signedOut: Promise<void> = relay.signOut();
relay.destroy();
off();
const status: RelayStatus = relay.status;
void [signedOut, status, connect, HubRelayDefault.version];
