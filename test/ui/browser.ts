// Debian's Chromium driven by playwright-core (never a downloaded browser), with the checks every journey shares:
// console errors, page errors and unexpected 4xx/5xx are collected and fail the test; axe-core; screenshots.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  // Chromium's sandbox needs user namespaces, which containers running as root often lack.
  return chromium.launch({ executablePath: CHROMIUM, chromiumSandbox: process.getuid?.() !== 0 });
}

export type Watched = {
  page: Page;
  /** Everything that went wrong so far: console errors, page errors, unexpected HTTP statuses. */
  problems: string[];
  /** Lets the next responses with this status to a URL containing `path` pass (a refusal the test provokes). */
  expectStatus: (status: number, path: string) => void;
};

export async function openPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const problems: string[] = [];
  const expected: Array<{ status: number; path: string }> = [];
  const isExpected = (status: number, url: string) => expected.some((entry) => entry.status === status && url.includes(entry.path));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium logs every 4xx/5xx as a console error too: an expected one is not a problem twice over.
    const failed = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(message.text());
    if (failed && isExpected(Number(failed[1]), message.location().url)) return;
    problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    const status = response.status();
    if (status < 400) return;
    if (!isExpected(status, response.url())) problems.push(`HTTP ${status} for ${response.url()}`);
  });
  return { page, problems, expectStatus: (status, path) => expected.push({ status, path }) };
}

export type Mode = { name: string; width: number; height: number; colorScheme: 'light' | 'dark' };

export const MODES: Mode[] = [
  { name: 'desktop-light', width: 1280, height: 900, colorScheme: 'light' },
  { name: 'desktop-dark', width: 1280, height: 900, colorScheme: 'dark' },
  { name: 'phone-light', width: 390, height: 844, colorScheme: 'light' },
  { name: 'phone-dark', width: 390, height: 844, colorScheme: 'dark' },
];

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown; failureSummary?: string }> };

/** axe-core's WCAG 2.1 A and AA rules on the page as it is; injected through DevTools, so the page's CSP stays strict. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target, failureSummary: node.failureSummary })),
    }));
  });
}

/** True when the page is wider than the viewport (sideways scrolling). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/ui/sign-in`);
  await page.getByLabel('API token').fill(token);
  await Promise.all([page.waitForURL(/\/ui(\?|$)/), page.getByRole('button', { name: 'Sign in' }).click()]);
}
