/**
 * Waiting for a condition instead of sleeping a guessed time: polls `cond`
 * until it holds and fails, naming `what`, after `timeoutMs` (every wait in a
 * test is bounded).
 */
const POLL_MS = 50;

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
