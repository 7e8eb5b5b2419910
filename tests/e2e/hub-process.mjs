// Starts the built Hub.Api as its own process on a free port with a fresh data directory, the way an
// operator runs it, and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');

export const adminKey = 'hubk_e2e-admin-key-for-the-walkthrough';

async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * Starts a hub. `env` adds or overrides environment variables (for example another `Hub__AdminApiKey`,
 * or a limit under test); a value of `undefined` removes the variable. `dataDirectory` reuses the one
 * of a hub stopped with `stop({ keepData: true })`, to test what survives a restart.
 */
export async function startHub({ env = {}, dataDirectory = mkdtempSync(join(tmpdir(), 'hub-e2e-')) } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configuration = process.env.HUB_E2E_CONFIGURATION ?? 'Debug';
  const child = spawn('dotnet', ['run', '--no-build', '-c', configuration, '--project', join(repo, 'src', 'Hub.Api'), '--urls', url], {
    env: withoutUndefined({ ...process.env, Hub__DataDirectory: dataDirectory, Hub__AdminApiKey: adminKey, DOTNET_NOLOGO: '1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });

  // The hub prints its banner once it listens; wait for that signal rather than polling.
  await new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`Hub did not start within 60 s:\n${output}`)), 60_000);
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`Hub exited with ${code}:\n${output}`)); });
    child.stdout.on('data', () => {
      if (output.includes('Hub is listening on')) { clearTimeout(timer); ready(); }
    });
  });

  return {
    url,
    dataDirectory,
    output: () => output,
    async stop({ keepData = false } = {}) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      if (!keepData) rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

function withoutUndefined(env) {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
