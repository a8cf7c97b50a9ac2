// Builds the Drift extension with esbuild.
//
//   node build.mjs           dist/resources/driftplane/extension-drift.js (what Argo CD loads),
//                            dist/driftplane-argocd-ui.tar (what argocd-extension-installer
//                            downloads) and its checksum file
//   node build.mjs --tests   also the unit tests into build/tests (run by node --test)
//   node build.mjs --host    also the browser test's host page script into build/host
//
// React is not bundled: Argo CD's UI sets window.React (its own React 16) before it loads
// /extensions.js, and an extension must use that one, so 'react' resolves to the global.
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));

export const BUNDLE = 'dist/resources/driftplane/extension-drift.js';
export const TARBALL = 'dist/driftplane-argocd-ui.tar';

// reactGlobal maps imports of react to the global Argo CD provides.
const reactGlobal = {
  name: 'react-global',
  setup(build) {
    build.onResolve({filter: /^react$/}, () => ({path: 'react', namespace: 'react-global'}));
    build.onLoad({filter: /.*/, namespace: 'react-global'}, () => ({contents: 'module.exports = window.React;', loader: 'js'}));
  }
};

async function bundle() {
  rmSync(join(here, 'dist'), {recursive: true, force: true});
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['src/index.ts'],
    outfile: BUNDLE,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    // Argo CD concatenates every extension file into /extensions.js: end on a newline so the
    // next file's header comment starts a line of its own.
    plugins: [reactGlobal],
    logLevel: 'warning'
  });
  const js = readFileSync(join(here, BUNDLE));
  if (js[js.length - 1] !== 0x0a) {
    writeFileSync(join(here, BUNDLE), Buffer.concat([js, Buffer.from('\n')]));
  }
  // argocd-extension-installer wants a tar whose top-level folder is resources/. tar is run
  // with fixed owner and time so the same source gives the same tarball and checksum.
  execFileSync(
    'tar',
    ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', join(here, 'dist'), '-cf', join(here, TARBALL), 'resources'],
    {stdio: 'inherit'}
  );
  const sum = createHash('sha256').update(readFileSync(join(here, TARBALL))).digest('hex');
  writeFileSync(join(here, 'dist/driftplane-argocd-ui_checksums.txt'), sum + '  driftplane-argocd-ui.tar\n');
}

async function tests() {
  rmSync(join(here, 'build/tests'), {recursive: true, force: true});
  const entries = readdirSync(join(here, 'test'))
    .filter(f => /\.test\.tsx?$/.test(f))
    .map(f => 'test/' + f);
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: entries,
    outdir: 'build/tests',
    outExtension: {'.js': '.cjs'},
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node20'],
    // The tests render with the React 16 of node_modules, the major Argo CD ships.
    packages: 'external',
    logLevel: 'warning'
  });
}

// argoCDUI is Argo CD's UI source of the version the install overlay pins, from the Go module
// cache (the module is already a test dependency of the install overlay).
function argoCDUI() {
  const k = readFileSync(join(here, '../manifests/kustomization.yaml'), 'utf8');
  const m = k.match(/\/argo-cd\/(v[0-9][^/]*)\/manifests\/install\.yaml/);
  if (!m) {
    throw new Error('cannot find the pinned Argo CD version in ../manifests/kustomization.yaml');
  }
  const out = execFileSync('go', ['mod', 'download', '-json', 'github.com/argoproj/argo-cd/v3@' + m[1]], {cwd: join(here, '../..')});
  return {version: m[1], dir: join(JSON.parse(out.toString()).Dir, 'ui')};
}

// host bundles the browser test's stand-in for Argo CD's UI around Argo CD's own
// extensions-service.ts, which defines window.extensionsAPI and matches tabs to resources.
async function host() {
  const ui = argoCDUI();
  const service = join(ui.dir, 'src/app/shared/services/extensions-service.ts');
  mkdirSync(join(here, 'build/host'), {recursive: true});
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['test/browser/host.ts'],
    outfile: 'build/host/host.js',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    define: {'process.env.NODE_ENV': '"production"'},
    plugins: [
      {
        name: 'argocd-extensions-service',
        setup(build) {
          build.onResolve({filter: /^argocd-extensions-service$/}, () => ({path: service}));
          // Argo CD compiles this file with TypeScript's CommonJS interop, where the namespace
          // import of minimatch is the function itself; under esbuild it takes a default import.
          build.onLoad({filter: /extensions-service\.ts$/}, () => ({
            contents: readFileSync(service, 'utf8').replace("import * as minimatch from 'minimatch';", "import minimatch from 'minimatch';"),
            loader: 'ts',
            resolveDir: here
          }));
        }
      }
    ],
    logLevel: 'warning'
  });
  writeFileSync(join(here, 'build/host/argocd-version.txt'), ui.version + '\n');
}

await bundle();
if (args.has('--tests')) {
  await tests();
}
if (args.has('--host')) {
  await host();
}
