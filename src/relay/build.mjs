// Builds the two browser bundles into dist/ (gitignored; the .NET build runs `npm ci && npm run build`):
//   dist/hub-relay.js   IIFE for <script src>: sets globalThis.HubRelay
//   dist/hub-relay.mjs  ES module: export { HubRelay as default, HubRelay, connect, VERSION }
// Both minified, with SignalR bundled in, and external source maps; dist/hub-relay.d.ts types the ES module.
import { build } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * @param {string} outdir
 * @returns {Promise<string[]>} the bundle files written
 */
export async function buildBundles(outdir) {
  const common = {
    absWorkingDir: root,
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'browser',
    target: ['es2022'],
    legalComments: 'eof',
    logLevel: 'warning',
  };
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const iife = join(outdir, 'hub-relay.js');
  const esm = join(outdir, 'hub-relay.mjs');
  await Promise.all([
    build({ ...common, entryPoints: ['src/global.js'], format: 'iife', outfile: iife }),
    build({ ...common, entryPoints: ['src/index.js'], format: 'esm', outfile: esm }),
  ]);
  await copyFile(join(root, 'src/hub-relay.d.ts'), join(outdir, 'hub-relay.d.ts'));
  await copyFile(join(root, 'src/hub-relay.d.ts'), join(outdir, 'hub-relay.d.mts'));
  return [iife, esm];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of await buildBundles(join(root, 'dist'))) {
    console.log(`${file.slice(root.length)}  ${((await stat(file)).size / 1024).toFixed(1)} KiB`);
  }
}
