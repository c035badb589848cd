/**
 * End-to-end in a real browser: the Temporal Web UI shows a notification's decrypted input only
 * through the codec server, to an operator who signed in there with the token.
 *
 * Real: two Temporal dev servers with their Web UI (one started with --ui-codec-endpoint as
 * `npm start` does, one without), the codec server with the project's codec, the project's client
 * (which encrypts), and Debian's Chromium driven by playwright-core. Nothing is stubbed. No worker
 * runs: the UI shows the input of the workflow's start event, which is all this test is about.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NotificationClient } from '../src/client';
import { loadConfig } from '../src/config';
import { DEFAULT_POLICY } from '../src/policy';
import { codecServerFromConfig, type RunningCodecServer } from '../src/security';
import { freePort } from '../src/stack/ports';
import { startDevServer } from '../src/stack/temporalServers';
import { launchChromium } from './helpers/browser';
import { testDataConverter, testRecipientHashKey } from './helpers/stack';

const START_TIMEOUT_MS = 300_000;
/** Distinctive, so that finding it on a page cannot be a coincidence. */
const MESSAGE_TEXT = `Quince-Marmalade-${Date.now().toString(36)} 겨울 세일`;

interface UiServer {
  env: TestWorkflowEnvironment;
  uiUrl: string;
  /** The history page of the notification started on this server. */
  historyUrl: string;
  /** Its input as it is stored: the encrypted payload's data, in the base64 the UI shows. */
  ciphertext: string;
}

const config = loadConfig();
let codec: RunningCodecServer;
let withEndpoint: UiServer;
let withoutEndpoint: UiServer;
let browser: Browser;
const codecRequests: { origin: string; status: number }[] = [];

async function startUiServer(uiCodecEndpoint: string | undefined, uiPort: number, label: string): Promise<UiServer> {
  const env = await startDevServer({ uiPort, uiCodecEndpoint, dataConverter: testDataConverter() });
  try {
    const notifications = new NotificationClient({ client: env.client, taskQueue: `browser-${label}-${process.pid}`, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey() });
    const notificationId = `browser-${label}-${Date.now().toString(36)}`;
    const { handle } = await notifications.schedule({
      notificationId,
      recipient: { id: `user-browser-${label}`, nightConsent: true },
      channel: 'push',
      category: 'order',
      payload: { title: 'Order shipped', body: MESSAGE_TEXT },
    });
    // The stored input, read by a client without the codec: what anyone without the key sees.
    const plain = new Client({ connection: env.connection, namespace: env.namespace });
    const stored = plain.workflow.getHandle(handle.workflowId);
    const [history, { runId }] = await Promise.all([stored.fetchHistory(), stored.describe()]);
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(input?.data, 'the start event has no input');
    return {
      env,
      uiUrl: `http://localhost:${uiPort}`,
      historyUrl: `http://localhost:${uiPort}/namespaces/${env.namespace ?? 'default'}/workflows/${handle.workflowId}/${runId}/history`,
      ciphertext: Buffer.from(input.data).toString('base64'),
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}

before(async () => {
  const [uiPortA, uiPortB] = [await freePort(), await freePort()];
  codec = (await codecServerFromConfig(
    { ...config, codec: { ...config.codec, server: { ...config.codec.server, allowedOrigins: [`http://localhost:${uiPortA}`, `http://localhost:${uiPortB}`] } } },
    { port: 0 },
  ))!;
  [withEndpoint, withoutEndpoint, browser] = await Promise.all([
    startUiServer(codec.url, uiPortA, 'codec'),
    startUiServer(undefined, uiPortB, 'plain'),
    launchChromium(),
  ]);
}, { timeout: START_TIMEOUT_MS });

after(async () => {
  await browser?.close();
  await Promise.allSettled([withEndpoint?.env.teardown(), withoutEndpoint?.env.teardown()]);
  await codec?.stop();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('response', (response) => {
    if (response.url().startsWith(`${codec.url}/decode`)) codecRequests.push({ origin: new URL(page.url()).origin, status: response.status() });
  });
  return { context, page };
}

/** The page's document, typed for the two uses here (the project's TypeScript has no DOM library). */
type BrowserGlobal = { document: { body: { innerText: string } } };

/** Waits until the page's text shows `text` (the UI renders the history after its API calls). */
async function waitForText(page: Page, text: string): Promise<void> {
  await page.waitForFunction((needle) => (globalThis as unknown as BrowserGlobal).document.body.innerText.includes(needle), text, { timeout: 30_000 });
}
const pageText = (page: Page) => page.evaluate(() => (globalThis as unknown as BrowserGlobal).document.body.innerText);

/** What the operator does once per browser: sign in at the codec server with the token. */
async function signIn(page: Page): Promise<void> {
  await page.goto(`${codec.url}/login`);
  await page.fill('input[name=token]', config.codec.server.token!);
  await page.click('button');
  assert.equal(await page.textContent('h1'), 'Signed in to the codec server');
}

/**
 * And in the Web UI's Codec Server settings: "use my browser setting", the endpoint, "include
 * cross-origin credentials" (so that the session cookie goes with each request), Apply.
 */
async function enableCodecInUi(page: Page, uiUrl: string): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows`);
  await page.locator('[data-testid^="data-encoder-status"]').first().click();
  await page.locator('[data-testid="use-local-endpoint-input"]').check({ force: true });
  await page.locator('#data-encoder-endpoint-input').fill(codec.url);
  await page.locator('[data-testid="data-encoder-include-credentials"]').check({ force: true });
  await page.getByRole('button', { name: 'Apply' }).click();
}

describe('the Web UI and the codec server (Chromium)', { timeout: 120_000 }, () => {
  test('an operator who signed in sees the decoded message text on the history page, not the ciphertext', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page);
      await enableCodecInUi(page, withEndpoint.uiUrl);
      await page.goto(withEndpoint.historyUrl);
      await waitForText(page, MESSAGE_TEXT);
      assert.equal((await pageText(page)).includes(withEndpoint.ciphertext), false, 'the ciphertext is still shown');
      assert.ok(codecRequests.some((request) => request.origin === withEndpoint.uiUrl && request.status === 200), 'no successful /decode from the UI');
    } finally {
      await context.close();
    }
  });

  test('with the endpoint but without signing in: only the ciphertext, and the codec server refused (401)', async () => {
    const { context, page } = await newPage();
    const before = codecRequests.length;
    try {
      await page.goto(withEndpoint.historyUrl);
      await waitForText(page, withEndpoint.ciphertext);
      await page.locator('[data-testid="data-encoder-status-error"]').waitFor({ timeout: 30_000 });
      assert.equal((await pageText(page)).includes(MESSAGE_TEXT), false, 'the message text is shown without the token');
      const mine = codecRequests.slice(before);
      assert.ok(mine.length > 0 && mine.every((request) => request.status === 401), JSON.stringify(mine));
    } finally {
      await context.close();
    }
  });

  test('without a codec endpoint: only the ciphertext, even in a signed-in browser, and no call to the codec server', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page);
      const before = codecRequests.length;
      await page.goto(withoutEndpoint.historyUrl);
      await waitForText(page, withoutEndpoint.ciphertext);
      assert.equal((await pageText(page)).includes(MESSAGE_TEXT), false, 'the message text is shown without a codec endpoint');
      assert.deepEqual(codecRequests.slice(before), []);
    } finally {
      await context.close();
    }
  });
});
