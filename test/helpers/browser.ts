/**
 * Headless Debian chromium driven by playwright-core, for the browser tests (test/browser/) and the
 * screenshot script. scripts/test.sh finds or installs it (scripts/ensure-chromium.sh) and says where
 * in JETJOBS_CHROMIUM, or why there is none in JETJOBS_CHROMIUM_MISSING.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Flags for a closed network: without the background-networking ones chromium keeps trying Google's
 * hosts (refused here, many at a time). playwright adds `--headless` and a fresh `--user-data-dir`.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** The chromium to drive, or why there is none (the reason a browser test skips with). */
export function chromiumPath(): { path: string } | { missing: string } {
  const missing = process.env['JETJOBS_CHROMIUM_MISSING'];
  if (missing !== undefined && missing !== '') return { missing: `no chromium for the browser tests: ${missing}` };
  const path = process.env['JETJOBS_CHROMIUM'] ?? '/usr/bin/chromium';
  return existsSync(path) ? { path } : { missing: `no chromium at ${path} (scripts/test.sh installs Debian's when it can; run the tests through it)` };
}

export async function launchChromium(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}
