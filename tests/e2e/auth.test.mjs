// The admin key against a separately started hub: a configured key works whatever its form, a
// revocation survives a restart on the same data directory, and `rotate-admin-key` gives a new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startHub } from './hub-process.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const operatorKey = 'my-long-operator-secret-0123456789';

async function api(hub, method, path, key) {
  const response = await fetch(hub.url + path, {
    method,
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Runs `Hub.Api rotate-admin-key` on a data directory, as an operator would, and returns its exit code and output. */
async function rotateAdminKey(dataDirectory) {
  const configuration = process.env.HUB_E2E_CONFIGURATION ?? 'Debug';
  const child = spawn('dotnet', ['run', '--no-build', '-c', configuration, '--project', join(repo, 'src', 'Hub.Api'), '--', 'rotate-admin-key'], {
    env: withoutAdminKey({ ...process.env, Hub__DataDirectory: dataDirectory, DOTNET_NOLOGO: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const code = await new Promise((done, fail) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); fail(new Error(`rotate-admin-key did not finish within 60 s:\n${output}`)); }, 60_000);
    child.on('exit', (exitCode) => { clearTimeout(timer); done(exitCode); });
  });
  return { code, output };
}

function withoutAdminKey(env) {
  const { Hub__AdminApiKey: _, ...rest } = env;
  return rest;
}

const keyFile = (dataDirectory) => readFileSync(join(dataDirectory, 'admin-api-key'), 'utf8').trim();

test('a configured admin key without the hubk_ prefix administers the hub', async () => {
  const hub = await startHub({ env: { Hub__AdminApiKey: operatorKey } });
  try {
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', operatorKey)).status, 200);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', `${operatorKey}-not`)).status, 401);
  } finally {
    await hub.stop();
  }
});

test('a configured admin key shorter than 24 characters stops the start with the setting named', async () => {
  await assert.rejects(startHub({ env: { Hub__AdminApiKey: 'too-short-secret' } }), /Hub__AdminApiKey.*at least 24 characters/s);
});

test('a revoked configured admin key is still 401 after a restart, until Hub__AdminApiKey changes', async () => {
  let hub = await startHub({ env: { Hub__AdminApiKey: operatorKey } });
  const { dataDirectory } = hub;
  try {
    assert.equal((await api(hub, 'DELETE', '/api/v1/api-keys/configured-admin', operatorKey)).status, 204);
    await hub.stop({ keepData: true });

    hub = await startHub({ env: { Hub__AdminApiKey: operatorKey }, dataDirectory });
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', operatorKey)).status, 401);
    assert.match(hub.output(), /REVOKED/);
    await hub.stop({ keepData: true });

    const next = 'the-operators-next-secret-9876543210';
    hub = await startHub({ env: { Hub__AdminApiKey: next }, dataDirectory });
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', next)).status, 200);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', operatorKey)).status, 401);
  } finally {
    await hub.stop();
  }
});

test('a revoked generated admin key stays revoked after a restart, and rotate-admin-key gives a working one', async () => {
  let hub = await startHub({ env: { Hub__AdminApiKey: undefined } });
  const { dataDirectory } = hub;
  try {
    const generated = keyFile(dataDirectory);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', generated)).status, 200);
    assert.equal((await api(hub, 'DELETE', '/api/v1/api-keys/generated-admin', generated)).status, 204);
    await hub.stop({ keepData: true });

    hub = await startHub({ env: { Hub__AdminApiKey: undefined }, dataDirectory });
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', generated)).status, 401);
    assert.match(hub.output(), /REVOKED.*rotate-admin-key/);

    // Beside the running hub: the new key works there at once.
    const rotation = await rotateAdminKey(dataDirectory);
    assert.equal(rotation.code, 0, rotation.output);
    const rotated = keyFile(dataDirectory);
    assert.notEqual(rotated, generated);
    assert.ok(rotation.output.includes(rotated), rotation.output);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', rotated)).status, 200);
    await hub.stop({ keepData: true });

    hub = await startHub({ env: { Hub__AdminApiKey: undefined }, dataDirectory });
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', rotated)).status, 200);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', generated)).status, 401);

    // Rotating again revokes the previous rotated key at once, on the running hub.
    const again = await rotateAdminKey(dataDirectory);
    assert.equal(again.code, 0, again.output);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', rotated)).status, 401);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', keyFile(dataDirectory))).status, 200);
  } finally {
    await hub.stop();
  }
});

test('rotate-admin-key refuses, changing nothing, while Hub__AdminApiKey is set', async () => {
  const hub = await startHub({ env: { Hub__AdminApiKey: operatorKey } });
  try {
    const configuration = process.env.HUB_E2E_CONFIGURATION ?? 'Debug';
    const child = spawn('dotnet', ['run', '--no-build', '-c', configuration, '--project', join(repo, 'src', 'Hub.Api'), '--', 'rotate-admin-key'], {
      env: { ...process.env, Hub__DataDirectory: hub.dataDirectory, Hub__AdminApiKey: operatorKey, DOTNET_NOLOGO: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => { output += chunk; });
    const code = await new Promise((done, fail) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); fail(new Error('rotate-admin-key did not finish within 60 s')); }, 60_000);
      child.on('exit', (exitCode) => { clearTimeout(timer); done(exitCode); });
    });
    assert.equal(code, 1);
    assert.match(output, /^admin_key_configured: .*Hub__AdminApiKey/m);
    assert.equal((await api(hub, 'GET', '/api/v1/tenants', operatorKey)).status, 200);
  } finally {
    await hub.stop();
    rmSync(hub.dataDirectory, { recursive: true, force: true });
  }
});
