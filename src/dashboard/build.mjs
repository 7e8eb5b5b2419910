// Builds the dashboard into dist/ (gitignored; the .NET build runs `npm ci && npm run build` and
// serves dist/ at /dashboard/): index.html and dashboard.css as written, dashboard.js bundled with
// Chart.js as an ES module, minified, with an external source map.
import { build } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const outdir = join(root, 'dist');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.js'],
  outfile: join(outdir, 'dashboard.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  platform: 'browser',
  target: ['es2022'],
  legalComments: 'eof',
  logLevel: 'warning',
});
await copyFile(join(root, 'src/index.html'), join(outdir, 'index.html'));
await copyFile(join(root, 'src/dashboard.css'), join(outdir, 'dashboard.css'));
console.log(`dist/dashboard.js  ${((await stat(join(outdir, 'dashboard.js'))).size / 1024).toFixed(1)} KiB`);
