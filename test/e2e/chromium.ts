/**
 * Headless Chromium for the browser suite: Debian's `chromium` package driven by playwright-core.
 * We never download a browser; when Chromium is missing the suite fails and says how to install it.
 */
import { accessSync, constants } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

/** Where Debian's package puts it; CHROMIUM_BIN overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

const LAUNCH_TIMEOUT_MS = 15_000

// Headless without GPU, sandbox (containers and CI run as root) or any traffic of its own.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Launches Chromium with a fresh temporary profile (playwright makes one per launch and removes it on close). */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK)
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser suite needs Debian's chromium package ` +
        `(sudo apt-get install chromium), or set CHROMIUM_BIN to a Chromium binary`,
    )
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, timeout: LAUNCH_TIMEOUT_MS })
}
