// The netswim web UI in a real browser: Debian's Chromium driven by
// playwright-core against a real server and lab (`netswim demo`, 60 virtual
// devices over SSH, images pulled over SCP/SFTP/FTP/TFTP). One flow, in
// order: log in, import an image with the upload form, run an analysis,
// distribute to 10 devices and activate them, watch the jobs reach success,
// roll one back,
// open a failed device's operations. Screenshots go to
// target/browser-artifacts/ (or $NETSWIM_ARTIFACTS).
//
// Run: cargo build -p netswim && npm ci --prefix tests/browser &&
//      node --test --test-concurrency=1 tests/browser/ui.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const binary = process.env.NETSWIM_BIN || path.join(root, 'target/debug/netswim');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = process.env.NETSWIM_ARTIFACTS || path.join(root, 'target/browser-artifacts');
// This suite's loopback range (127.64.0.0/16): web UI on .0.1, lab from .3.1.
const listen = '127.64.0.1:0';
const labBase = '127.64.3.1';

const state = {};
let demo;
let demoOutput = '';
let browser;
let page;
let work;

function waitForOutput(pattern, seconds) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = demoOutput.match(pattern);
      if (match) {
        clearTimeout(timer);
        demo.stdout.off('data', check);
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      demo.stdout.off('data', check);
      reject(new Error(`netswim demo did not print ${pattern} within ${seconds}s; output:\n${demoOutput}`));
    }, seconds * 1000);
    demo.stdout.on('data', check);
    check();
  });
}

async function shot(name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until the job page says the job is finished; returns its status. */
async function waitForJob(seconds) {
  await page.locator('#progress[data-finished="true"]').waitFor({ timeout: seconds * 1000 });
  return page.locator('#progress').getAttribute('data-status');
}

before(async () => {
  for (const [what, file] of [['netswim binary (cargo build -p netswim)', binary], ['Chromium (apt-get install chromium)', chromiumPath]]) {
    if (!existsSync(file)) throw new Error(`${what} is missing at ${file}`);
  }
  mkdirSync(artifacts, { recursive: true });
  work = mkdtempSync(path.join(tmpdir(), 'netswim-browser-'));
  demo = spawn(binary, ['demo', '--data', path.join(work, 'data'), '--listen', listen, '--lab-base', labBase, '--reload-secs', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout.setEncoding('utf8');
  demo.stderr.setEncoding('utf8');
  demo.stdout.on('data', (chunk) => { demoOutput += chunk; });
  demo.stderr.on('data', (chunk) => { demoOutput += chunk; });
  const [, url, password] = await waitForOutput(/open (http:\/\/\S+) and log in as admin with password (\S+)/, 120);
  state.url = url.replace(/\/$/, '');
  state.password = password;
  await waitForOutput(/inventory sync \(job (\d+)\) ended: (\w+)/, 120);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGINT');
    await exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a visitor is sent to the login page and logs in with the keyboard', { timeout: 60_000 }, async () => {
  await page.goto(`${state.url}/jobs`);
  assert.match(page.url(), /\/login\?next=%2Fjobs$/);
  await page.getByLabel('User').focus();
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type('wrong password');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
  await page.getByLabel('Password').fill(state.password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  assert.match(page.url(), /\/jobs$/);
});

test('the dashboard summarises images by family with actions and the protocol order', { timeout: 60_000 }, async () => {
  await page.goto(`${state.url}/`);
  await page.getByRole('heading', { name: 'Software Images' }).waitFor();
  for (const family of ['c2960x', 'c3750e', 'cat9k', 'asr9k']) {
    await page.getByRole('link', { name: family, exact: true }).waitFor();
  }
  await page.getByRole('heading', { name: 'Protocol order' }).waitFor();
  await page.getByRole('link', { name: 'Import image' }).waitFor();
  state.screens = { dashboard: await shot('dashboard') };
});

test('an image uploaded with the form is stored with the checksums of its bytes', { timeout: 120_000 }, async () => {
  const made = execFileSync(binary, ['lab', 'make-image', '--model', 'WS-C2960X-48FPD-L', '--version', '15.2(7)E10', '--size', '6MiB', '-o', work], { encoding: 'utf8' }).trim();
  const bytes = readFileSync(made);
  const md5 = createHash('md5').update(bytes).digest('hex');
  await page.goto(`${state.url}/images`);
  await page.getByLabel('Image file').setInputFiles(made);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByRole('status').filter({ hasText: 'Image imported.' }).waitFor({ timeout: 60_000 });
  await page.getByRole('heading', { name: path.basename(made) }).waitFor();
  const shown = await page.getByRole('row', { name: /MD5/ }).locator('td').innerText();
  assert.equal(shown.trim(), md5);
  state.imageId = Number(page.url().match(/\/images\/(\d+)/)[1]);
  state.imageName = path.basename(made);
  // The requirements form round-trips.
  await page.getByLabel('Minimum RAM (MiB)').fill('256');
  await page.getByRole('button', { name: 'Save requirements' }).click();
  await page.getByRole('status').filter({ hasText: 'Requirements saved.' }).waitFor();
  assert.equal(await page.getByLabel('Minimum RAM (MiB)').inputValue(), '256');
  await shot('image-detail');
});

test('the upgrade analysis reports readiness per device for the site', { timeout: 120_000 }, async () => {
  await page.goto(`${state.url}/analysis?site=zurich`);
  await page.getByLabel('Image', { exact: true }).selectOption(String(state.imageId));
  await page.getByRole('button', { name: 'Analyse' }).click();
  const report = page.locator('#analysis-report');
  await report.waitFor({ timeout: 60_000 });
  const rows = report.locator('tbody tr');
  assert.equal(await rows.count(), 20, 'zurich holds 20 devices');
  const ready = await report.locator('tbody tr', { has: page.locator('.badge.s-ready') }).count();
  assert.ok(ready >= 10, `at least 10 devices ready, saw ${ready}`);
  await report.getByText('15.2(2)E7 → 15.2(7)E10 (upgrade)').first().waitFor();
  state.screens.analysis = await shot('analysis-report');
});

test('the distribute wizard sends the image to 10 ready devices and the job reaches success', { timeout: 300_000 }, async () => {
  await page.goto(`${state.url}/distribute`);
  await page.getByLabel(state.imageName).check();
  await page.getByRole('button', { name: 'Next: devices' }).click();
  await page.getByLabel('Site').selectOption('zurich');
  await page.getByRole('button', { name: 'Filter' }).click();
  const ready = page.locator('#device-readiness tbody tr[data-readiness="ready"] input[type="checkbox"]');
  await ready.first().waitFor({ timeout: 60_000 });
  assert.ok(await ready.count() >= 10);
  for (let index = 0; index < 10; index += 1) await ready.nth(index).check();
  state.screens.distributeDevices = await shot('distribute-wizard-devices');
  await page.getByRole('button', { name: 'Next: review' }).click();
  const review = page.locator('#review tbody tr');
  await review.first().waitFor();
  assert.equal(await review.count(), 10);
  assert.equal(await review.first().locator('input').inputValue(), 'flash:');
  state.screens.distributeReview = await shot('distribute-wizard-review');
  await page.getByRole('button', { name: 'Next: options' }).click();
  await page.getByLabel('Retries per device').fill('2');
  await page.getByRole('button', { name: 'Next: schedule' }).click();
  await shot('distribute-wizard-schedule');
  await page.getByRole('button', { name: 'Start distribution' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  state.distributionJob = Number(page.url().match(/\/jobs\/(\d+)$/)[1]);
  const status = await waitForJob(240);
  assert.equal(status, 'success');
  await page.locator('#tasks tbody tr[data-status="success"]').first().waitFor();
  assert.equal(await page.locator('#tasks tbody tr[data-status="success"]').count(), 10);
  state.screens.job = await shot('job-detail-distribution');
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download log' }).click();
  const log = readFileSync(await (await download).path(), 'utf8');
  assert.match(log, /transfer/);
});

test('the activate wizard reloads the devices of the distribution job onto the new image', { timeout: 400_000 }, async () => {
  await page.goto(`${state.url}/activate?source=run`);
  await page.getByLabel(new RegExp(`#${state.distributionJob} `)).check();
  await page.getByRole('button', { name: 'Next: options' }).click();
  await page.getByLabel('Order').selectOption('parallel');
  await page.getByRole('button', { name: 'Next: schedule' }).click();
  await page.getByRole('button', { name: 'Start activation' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  const status = await waitForJob(360);
  assert.equal(status, 'success', await page.locator('#tasks').innerText());
  assert.equal(await page.locator('#tasks tbody tr[data-status="success"]').count(), 10);
  state.screens.activation = await shot('job-detail-activation');
  // The devices really run the new release: sync them and filter by version.
  await page.goto(`${state.url}/devices`);
  await page.getByRole('button', { name: 'Sync all devices' }).click();
  await page.waitForURL(/\/jobs\/\d+/);
  await waitForJob(120);
  await page.goto(`${state.url}/devices?version=${encodeURIComponent('15.2(7)E10')}`);
  assert.equal(await page.locator('main table tbody tr').count(), 10);
  assert.equal(await page.locator('main table tbody tr .badge.s-compliant').count(), 10);
  await shot('devices-after-upgrade');
});

test('the rollback page puts one upgraded switch back on its previous release', { timeout: 300_000 }, async () => {
  await page.goto(`${state.url}/rollback`);
  const upgraded = page.locator('main table tbody tr', { hasText: '15.2(7)E10' }).first();
  const name = (await upgraded.locator('label').innerText()).trim();
  await upgraded.locator('input[type="checkbox"]').check();
  await page.getByLabel('I understand the selected devices reload').check();
  await shot('rollback-page');
  await page.getByRole('button', { name: 'Roll back' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  const status = await waitForJob(240);
  assert.equal(status, 'success', await page.locator('#tasks').innerText());
  assert.match(await page.locator('#tasks').innerText(), /15\.2\(2\)E7/);
  await page.goto(`${state.url}/devices`);
  await page.getByRole('button', { name: 'Sync all devices' }).click();
  await page.waitForURL(/\/jobs\/\d+/);
  await waitForJob(120);
  await page.goto(`${state.url}/devices?version=${encodeURIComponent('15.2(2)E7')}`);
  await page.getByRole('link', { name, exact: true }).waitFor();
  await page.goto(`${state.url}/devices?version=${encodeURIComponent('15.2(7)E10')}`);
  assert.equal(await page.locator('main table tbody tr').count(), 9);
});

test("a failed device's operations open from the job detail", { timeout: 60_000 }, async () => {
  await page.goto(`${state.url}/jobs?kind=sync`);
  await page.locator('table tbody tr td a').first().click();
  const failed = page.locator('#tasks tbody tr[data-status="failure"]').first();
  await failed.waitFor();
  await failed.locator('summary').click();
  const operation = failed.locator('table.ops tbody tr').first();
  await operation.waitFor();
  assert.match(await operation.innerText(), /auth_failed/);
  state.screens.failed = await shot('job-detail-failed-device');
});

test('pages read without JavaScript and the device page shows the Image tab', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
  await context.addCookies(await page.context().cookies());
  const plain = await context.newPage();
  await plain.goto(`${state.url}/jobs/${state.distributionJob}`);
  await plain.locator('#tasks tbody tr').first().waitFor();
  await plain.goto(`${state.url}/devices?site=zurich&platform=ios`);
  const rows = plain.locator('tbody tr');
  assert.equal(await rows.count(), 20);
  await plain.getByRole('link', { name: 'lab-sw-001' }).click();
  await plain.getByRole('heading', { name: 'lab-sw-001' }).waitFor();
  await plain.getByRole('row', { name: /Running image/ }).waitFor();
  await plain.getByRole('heading', { name: 'Flash per member' }).waitFor();
  await plain.screenshot({ path: path.join(artifacts, 'device-image-tab.png'), fullPage: true });
  await context.close();
  await page.goto(`${state.url}/`);
  await page.getByRole('link', { name: String(state.distributionJob), exact: true }).waitFor();
  await shot('dashboard-after-jobs');
});
