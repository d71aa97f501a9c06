// Defect 8 (issue 12): the Swagger UI page at /docs logged a Content-Security-Policy error (an inline style blocked).
// Loaded in a real browser (Debian's chromium, driven by playwright-core; no browser is downloaded).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';

let server: ServerProcess;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`this test needs a browser at ${CHROMIUM} (apt-get install chromium)`);
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (server) await stopServer(server);
});

describe('defect 8: the Swagger UI page at /docs logs a CSP error', () => {
  it('renders every operation with no console error and no CSP violation, under a CSP without unsafe-inline scripts', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    // Violations are reported to the page as events too, whether or not the browser also logs them.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));
    });

    const response = await page.goto(`${server.url}/docs`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    const csp = (await response!.allHeaders())['content-security-policy'] ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc).not.toBe('');
    expect(scriptSrc).not.toContain('unsafe-inline');

    // The document was fetched and rendered: one block per operation.
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(20);
    // Expanding an operation renders its models and examples (more inline styles in swagger-ui).
    await page.locator('#operations-events-listEvents').click();
    await page.locator('#operations-events-listEvents .responses-wrapper').waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  }, 60_000);
});
