// Slows down token guessing: after a few wrong API tokens from one address, sign-in answers 429 until the window passes.
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60 * 1000;
// Bounds memory under a flood from many addresses: the oldest entries are dropped first.
const MAX_ADDRESSES = 10_000;

export function signInThrottle(limits = { maxFailures: MAX_FAILURES, windowMs: WINDOW_MS }) {
  const failures = new Map<string, { count: number; since: number }>();
  const current = (address: string, now: number) => {
    const entry = failures.get(address);
    if (entry && now - entry.since >= limits.windowMs) {
      failures.delete(address);
      return undefined;
    }
    return entry;
  };
  return {
    /** Seconds until this address may try again; 0 when it may now. */
    retryAfterSeconds(address: string, now = Date.now()): number {
      const entry = current(address, now);
      if (!entry || entry.count < limits.maxFailures) return 0;
      return Math.ceil((entry.since + limits.windowMs - now) / 1000);
    },
    failed(address: string, now = Date.now()): void {
      const entry = current(address, now);
      if (entry) entry.count += 1;
      else {
        if (failures.size >= MAX_ADDRESSES) failures.delete(failures.keys().next().value!);
        failures.set(address, { count: 1, since: now });
      }
    },
    succeeded(address: string): void {
      failures.delete(address);
    },
  };
}
