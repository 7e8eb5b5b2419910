// Starts the built Hub.Api (the test command builds first; this builds nothing) as its own process, the
// way an operator runs it: the hub on one free port, the webphone simulator's origin on another, a
// fresh data directory and a known admin key. It can be stopped (SIGTERM) and started again on the
// same ports and data directory, to test what the browser does while the hub restarts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');

export const adminKey = 'hubk_browser-tests-admin-key-0123456789';

const START_TIMEOUT_MS = 90_000;

export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Resolves once nothing accepts connections on the port any more (the old process let go of it). */
async function portClosed(port, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const open = await new Promise((done) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); done(true); });
      socket.once('error', () => done(false));
    });
    if (!open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `extraArgs` are appended to the hub's command line (configuration such as
 * `--Hub:CrmOrigins:0=http://127.0.0.1:1234` or `--Hub:Demo:Enabled=false`).
 */
export async function createHub({ extraArgs = [] } = {}) {
  const port = await freePort();
  let webphonePort = await freePort();
  while (webphonePort === port) webphonePort = await freePort();
  const dataDirectory = mkdtempSync(join(tmpdir(), 'hub-browser-'));
  const url = `http://127.0.0.1:${port}`;
  const webphoneUrl = `http://127.0.0.1:${webphonePort}`;
  const configuration = process.env.HUB_E2E_CONFIGURATION ?? 'Debug';

  let child = null;
  let output = '';
  const killOnExit = () => { if (child && child.exitCode === null) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);

  async function start() {
    if (child) throw new Error('the hub is already running');
    output = '';
    // Its own process group, so stop() reaches the app that `dotnet run` starts as well as dotnet itself.
    const started = spawn('dotnet', [
      'run', '--no-build', '-c', configuration, '--project', join(repo, 'src', 'Hub.Api'), '--',
      '--urls', url, `--Hub:Demo:WebphoneUrl=${webphoneUrl}`, ...extraArgs,
    ], {
      env: { ...process.env, Hub__DataDirectory: dataDirectory, Hub__AdminApiKey: adminKey, DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = started;
    started.stdout.on('data', (chunk) => { output += chunk; });
    started.stderr.on('data', (chunk) => { output += chunk; });

    // The hub prints its banner once it listens on both addresses; wait for that line.
    await new Promise((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`Hub did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
      const onExit = (code) => { clearTimeout(timer); child = null; fail(new Error(`Hub exited with ${code}:\n${output}`)); };
      started.once('exit', onExit);
      const onData = () => {
        if (output.includes('Hub is listening on')) {
          clearTimeout(timer);
          started.stdout.off('data', onData);
          started.off('exit', onExit);
          started.once('exit', () => { if (child === started) child = null; });
          ready();
        }
      };
      started.stdout.on('data', onData);
    });
  }

  async function stop() {
    const running = child;
    if (!running) return;
    const exited = new Promise((done) => running.once('exit', done));
    try { process.kill(-running.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timeout = setTimeout(() => { try { process.kill(-running.pid, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
    await exited;
    clearTimeout(timeout);
    child = null;
    await portClosed(port);
    await portClosed(webphonePort);
  }

  return {
    url,
    webphoneUrl,
    dataDirectory,
    output: () => output,
    get running() { return child !== null; },
    start,
    stop,
    /** Stops the hub and removes its data directory. */
    async dispose() {
      await stop();
      process.off('exit', killOnExit);
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}
