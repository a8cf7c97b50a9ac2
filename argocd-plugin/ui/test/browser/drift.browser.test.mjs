// The bundled extension in a real headless Chromium (Debian's chromium, driven by
// playwright-core), loaded the way Argo CD loads it: a page whose script defines
// window.extensionsAPI with Argo CD's own extensions-service.ts and window.React/ReactDOM,
// then /extensions.js as argocd-server serves it (each extension file after a "// source:"
// header). The page's requests to argocd-server are answered with what a real argocd-server
// answered in the end-to-end test (testdata/e2e, captured by `make e2e` with
// DRIFTPLANE_E2E_CAPTURE set). Screenshots and the rendered DOM of each view go to
// test-artifacts/ (git-ignored), whose path is printed.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ORIGIN = 'http://argocd.test';
const ARTIFACTS = join(ui, 'test-artifacts');
const read = p => readFileSync(join(ui, p), 'utf8');
const captured = name => JSON.parse(read('testdata/e2e/' + name));

// A value that must never reach the page: the live value of a Secret the test adds to the
// recorded answers.
const SECRET_VALUE = 'c3VwZXItc2VjcmV0LWxpdmUtdmFsdWU=';
const SECRET_PLAIN = 'super-secret-live-value';

function chromiumPath() {
  if (process.env.CHROMIUM) {
    return process.env.CHROMIUM;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', 'command -v ' + name]).toString().trim();
    } catch {
      // next
    }
  }
  return '';
}

let browser;
const required = !!(process.env.CI || process.env.DRIFTPLANE_REQUIRE_CHROMIUM);
const exe = chromiumPath();

before(async () => {
  if (!exe) {
    if (required) {
      throw new Error("no chromium on PATH (Debian's chromium package: make system-deps); the browser test cannot be skipped here");
    }
    return;
  }
  browser = await chromium.launch({executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu']});
  mkdirSync(ARTIFACTS, {recursive: true});
  console.log('browser test artefacts (screenshots, DOM): ' + ARTIFACTS);
});

after(async () => {
  await browser?.close();
});

function skipWithoutBrowser(t) {
  if (!browser) {
    t.skip('no chromium (set CI or DRIFTPLANE_REQUIRE_CHROMIUM to make this a failure)');
    return true;
  }
  return false;
}

const HOST_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><base href="/"><title>Argo CD</title></head>
<body><div id="app"></div>
<script src="host.js"></script>
<script defer src="extensions.js"></script>
</body></html>`;

// argocd serves the recorded answers (overridable per test) and records every request the
// extension makes.
async function open(t, answers = {}) {
  const page = await browser.newPage({viewport: {width: 1600, height: 1000}});
  const errors = [];
  const requests = [];
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => {
    if (m.type() === 'error') {
      errors.push(m.text());
    }
  });
  const bundle = read('dist/resources/driftplane/extension-drift.js');
  const answer = {
    '/api/v1/applications/web/resource': () => ({status: 200, body: read('testdata/e2e/driftreport-resource.json')}),
    '/api/v1/applications/web/managed-resources': () => ({status: 200, body: read('testdata/e2e/managed-resources.json')}),
    ...answers
  };
  await page.route(ORIGIN + '/**', async route => {
    const req = route.request();
    const u = new URL(req.url());
    if (u.pathname.startsWith('/api/')) {
      requests.push({method: req.method(), path: u.pathname, query: Object.fromEntries(u.searchParams)});
    }
    if (u.pathname === '/host.js') {
      return route.fulfill({contentType: 'application/javascript', body: read('build/host/host.js')});
    }
    if (u.pathname === '/extensions.js') {
      // As argocd-server's serveExtensions writes it.
      return route.fulfill({
        contentType: 'application/javascript',
        body: '// source: /tmp/extensions/resources/driftplane/extension-drift.js \n' + bundle
      });
    }
    if (answer[u.pathname]) {
      const a = answer[u.pathname](u);
      return route.fulfill({status: a.status, contentType: 'application/json', body: a.body});
    }
    if (u.pathname.startsWith('/api/')) {
      return route.fulfill({status: 404, contentType: 'application/json', body: '{"error":"not recorded"}'});
    }
    return route.fulfill({contentType: 'text/html', body: HOST_HTML});
  });
  await page.goto(ORIGIN + '/applications/argocd/web');
  await page.waitForFunction(() => document.readyState === 'complete');
  t.after(() => page.close());
  return {page, errors, requests};
}

const application = () => captured('application.json');
const tree = () => captured('resource-tree.json');
const liveReport = () => JSON.parse(captured('driftreport-resource.json').manifest);

async function mount(page, view, props) {
  const ok = await page.evaluate(([v, p]) => window.argoHost.mount(v, 'Drift', p), [view, props]);
  assert.ok(ok, 'no extension titled Drift for ' + view);
  await page.waitForSelector('.driftplane-drift:not(.drift-loading)');
}

async function artefacts(page, name) {
  await page.screenshot({path: join(ARTIFACTS, name + '.png'), fullPage: true});
  writeFileSync(join(ARTIFACTS, name + '.html'), await page.content());
}

// findingRows reads each finding row's id, classes and cells from the rendered DOM.
function findingRows(page) {
  return page.$$eval('tr.drift-finding', trs =>
    trs.map(tr => ({
      id: tr.getAttribute('data-finding-id'),
      classes: [...tr.classList],
      cells: [...tr.children].map(td => td.innerText.trim())
    }))
  );
}

test('the captured answers hold no secret value: evidence is a keyed digest, no Secret data', () => {
  const report = liveReport();
  assert.ok(report.status.findings.length > 0, 'the capture holds findings');
  for (const f of report.status.findings) {
    assert.match(f.evidence, /^(hmac-)?sha256:[0-9a-f]{64}$/, 'evidence of ' + f.finding_id);
  }
  const all = ['application.json', 'resource-tree.json', 'managed-resources.json', 'driftreport-resource.json'].map(f => read('testdata/e2e/' + f)).join('\n');
  assert.ok(!/"kind"\s*:\s*"Secret"/.test(all.replace(/\\"/g, '"')), 'a Secret in the captured answers');
  assert.ok(!/password|bearer|"token"/i.test(all), 'a credential in the captured answers');
});

test('Argo CD matches the three registrations: application tab, app view, DriftReport tab', async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const {page, errors} = await open(t);
  await page.waitForFunction(() => window.argoHost.appViews().length > 0);
  assert.deepEqual(await page.evaluate(() => window.argoHost.tabs('argoproj.io', 'Application')), ['Drift']);
  assert.deepEqual(await page.evaluate(() => window.argoHost.tabs('drift.driftplane.io', 'DriftReport')), ['Drift']);
  assert.deepEqual(await page.evaluate(() => window.argoHost.appViews()), ['Drift']);
  // Not on other kinds: the DriftReport tab is for DriftReports only.
  assert.deepEqual(await page.evaluate(() => window.argoHost.tabs('apps', 'Deployment')), []);
  assert.deepEqual(await page.evaluate(() => window.argoHost.tabs('example.com', 'DriftReport')), []);
  assert.deepEqual(errors, []);
});

test("application tab: the captured DriftReport's findings, side by side with Argo CD's desired and live", async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const {page, errors, requests} = await open(t);
  await page.waitForFunction(() => !!window.argoHost);
  await mount(page, 'application-tab', {application: application(), tree: tree()});
  await page.waitForSelector('tr.drift-finding');
  await artefacts(page, 'application-tab');
  assert.equal(await page.$('#extension-error'), null, await page.content());

  const report = liveReport();
  const rows = await findingRows(page);
  assert.equal(rows.length, report.status.findings.length);
  for (const f of report.status.findings) {
    const row = rows.find(r => r.id === f.finding_id);
    assert.ok(row, 'no row for ' + f.finding_id);
    assert.ok(row.classes.includes('drift-class--' + f.drift_class), row.classes.join(' '));
    assert.ok(row.classes.includes('drift-risk--' + f.risk), row.classes.join(' '));
    assert.equal(row.classes.includes('drift-finding--blocking'), f.blocking);
    assert.match(row.cells[0], new RegExp(f.kind + '/' + f.namespace + '/' + f.name));
    assert.equal(row.cells[1].split('\n')[0], f.drift_class);
    for (const p of f.changed_fields) {
      assert.ok(row.cells[3].includes(p), p);
    }
    assert.ok(row.cells[5].startsWith(f.recommended_action));
  }
  // alice's change, as the end-to-end test made it: blocking, named, with her image next to Git's.
  const alice = report.status.findings.find(f => f.actor === 'alice' && f.blocking);
  assert.ok(alice, 'the capture has alice\'s blocking finding');
  const row = rows.find(r => r.id === alice.finding_id);
  assert.match(row.cells[4], /^alice/);
  assert.equal(rows[0].id, alice.finding_id, 'blocking first');
  const image = await page.$eval(
    `table.drift-fields[data-finding-id="${alice.finding_id}"] tr[data-path="/spec/template/spec/containers/name=app/image"]`,
    tr => [tr.querySelector('.drift-desired').innerText, tr.querySelector('.drift-live').innerText]
  );
  assert.deepEqual(image, ['registry.example.com/web:1.0', 'registry.example.com/web:1.2-hotfix']);
  const env = await page.$eval(`table.drift-fields[data-finding-id="${alice.finding_id}"]`, t => t.innerText);
  assert.match(env, /LOG_LEVEL/);
  assert.match(await page.$eval('[data-verdict]', e => e.getAttribute('data-verdict')), /^blocking$/);
  // Accepted by the live exception, with its expiry, when the reporter says so.
  if (alice.accepted_by) {
    assert.match(row.cells[6], new RegExp(alice.accepted_by + ' by web-lead\\s+expires in'));
  }
  // Read-only, and only the two reads: the report through the resource endpoint, the states.
  assert.ok(requests.every(r => r.method === 'GET'), JSON.stringify(requests));
  assert.deepEqual([...new Set(requests.map(r => r.path))].sort(), ['/api/v1/applications/web/managed-resources', '/api/v1/applications/web/resource']);
  const q = requests.find(r => r.path.endsWith('/resource')).query;
  assert.deepEqual(q, {name: 'web', appNamespace: 'argocd', namespace: 'web', resourceName: 'web', version: 'v1alpha1', kind: 'DriftReport', group: 'drift.driftplane.io'});
  assert.deepEqual(errors, []);
});

test('DriftReport resource tab and app view render the same report', async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const {page, errors, requests} = await open(t);
  await page.waitForFunction(() => !!window.argoHost);
  await mount(page, 'resource-tab', {application: application(), tree: tree(), resource: liveReport()});
  await page.waitForSelector('tr.drift-finding');
  await artefacts(page, 'driftreport-tab');
  const n = liveReport().status.findings.length;
  assert.equal((await findingRows(page)).length, n);
  // Argo CD handed the tab the live report: it is not read again.
  assert.ok(!requests.some(r => r.path.endsWith('/resource')), JSON.stringify(requests));

  await mount(page, 'app-view', {application: application(), tree: tree()});
  await page.waitForSelector('tr.drift-finding');
  await artefacts(page, 'app-view');
  assert.equal((await findingRows(page)).length, n);
  assert.deepEqual(errors, []);
});

test('a Secret that drifted shows as changed, and its value, from Git or live, never reaches the page', async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const report = liveReport();
  report.status.findings.unshift({
    ...report.status.findings[0],
    finding_id: 'drift-secret-db',
    resource_ref: 'v1/Secret/web/db',
    group: '',
    kind: 'Secret',
    name: 'db',
    risk: 'CRITICAL',
    changed_fields: ['/data/password', '/data/username'],
    sensitive_fields: ['/data/password'],
    blocking: true,
    accepted_by: ''
  });
  const managed = captured('managed-resources.json');
  managed.items.push({
    group: '',
    version: 'v1',
    kind: 'Secret',
    namespace: 'web',
    name: 'db',
    targetState: JSON.stringify({apiVersion: 'v1', kind: 'Secret', data: {password: 'Z2l0LXZhbHVl', username: 'Z2l0LXVzZXI='}}),
    liveState: JSON.stringify({apiVersion: 'v1', kind: 'Secret', data: {password: SECRET_VALUE, username: 'bGl2ZS11c2Vy'}})
  });
  const {page, errors} = await open(t, {
    '/api/v1/applications/web/resource': () => ({status: 200, body: JSON.stringify({manifest: JSON.stringify(report)})}),
    '/api/v1/applications/web/managed-resources': () => ({status: 200, body: JSON.stringify(managed)})
  });
  await page.waitForFunction(() => !!window.argoHost);
  await mount(page, 'application-tab', {application: application(), tree: tree()});
  await page.waitForSelector('tr.drift-finding[data-finding-id="drift-secret-db"]');
  await artefacts(page, 'secret-drift');
  const html = await page.content();
  const text = await page.evaluate(() => document.body.innerText);
  for (const v of [SECRET_VALUE, SECRET_PLAIN, 'Z2l0LXZhbHVl', 'git-value', 'bGl2ZS11c2Vy', 'Z2l0LXVzZXI=']) {
    assert.ok(!html.includes(v) && !text.includes(v), 'secret value ' + v + ' on the page');
  }
  const cells = await page.$$eval('table.drift-fields[data-finding-id="drift-secret-db"] tr.drift-field', trs =>
    trs.map(tr => [tr.getAttribute('data-path'), tr.className, tr.querySelector('.drift-desired').innerText, tr.querySelector('.drift-live').innerText])
  );
  assert.deepEqual(cells, [
    ['/data/password', 'drift-field drift-field--sensitive', 'changed', 'changed'],
    // Not marked sensitive by the report, but a Secret's: withheld all the same.
    ['/data/username', 'drift-field drift-field--sensitive', 'changed', 'changed']
  ]);
  assert.deepEqual(errors, []);
});

test('a report argocd-server cannot give is unknown drift, never clean', async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const {page} = await open(t, {
    '/api/v1/applications/web/resource': () => ({status: 403, body: '{"error":"permission denied"}'})
  });
  await page.waitForFunction(() => !!window.argoHost);
  await mount(page, 'application-tab', {application: application(), tree: tree()});
  await artefacts(page, 'report-unreadable');
  const v = await page.$eval('[data-verdict]', e => [e.getAttribute('data-verdict'), e.innerText]);
  assert.equal(v[0], 'unknown');
  assert.match(v[1], /Drift unknown: GET .*403/);
  assert.equal(await page.$('tr.drift-finding'), null);
});

test('an application without a DriftReport is unknown drift, and nothing is asked for it', async t => {
  if (skipWithoutBrowser(t)) {
    return;
  }
  const {page, requests} = await open(t);
  await page.waitForFunction(() => !!window.argoHost);
  const app = application();
  app.status.resources = app.status.resources.filter(r => r.kind !== 'DriftReport');
  const nodes = {...tree(), nodes: tree().nodes.filter(n => n.kind !== 'DriftReport')};
  await mount(page, 'application-tab', {application: app, tree: nodes});
  const v = await page.$eval('[data-verdict]', e => [e.getAttribute('data-verdict'), e.innerText]);
  assert.deepEqual(v, ['unknown', 'Drift unknown: application web has no DriftReport: is it rendered by the driftplane plugin?']);
  assert.ok(!requests.some(r => r.path.endsWith('/resource')), JSON.stringify(requests));
});

test('the bundle uses the React Argo CD provides and carries none of its own', () => {
  const bundle = read('dist/resources/driftplane/extension-drift.js');
  assert.ok(bundle.includes('window.React'), 'React is not taken from the global');
  assert.ok(!/react\.production\.min|__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED\s*[:=]/.test(bundle), 'React is bundled');
  assert.ok(bundle.length < 100_000, 'bundle is ' + bundle.length + ' bytes');
  assert.ok(existsSync(join(ui, 'dist/driftplane-argocd-ui.tar')));
  const tar = execFileSync('tar', ['-tf', join(ui, 'dist/driftplane-argocd-ui.tar')]).toString().split('\n').filter(Boolean);
  // argocd-extension-installer wants resources/ at the top, and Argo CD loads ^extension(.*)\.js$.
  assert.deepEqual(tar, ['resources/', 'resources/driftplane/', 'resources/driftplane/extension-drift.js']);
});
