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

/** What a consumer group's lag reader returns per partition (`@rs/kafka`'s PartitionLag). */
interface Lag {
  readonly highWatermark: number;
  readonly committed: number | null;
  readonly lag: number;
}

/**
 * Waits until a consumer group has committed every partition up to its high
 * watermark: everything published before the call has been handled (offsets
 * are committed only after the handler).
 */
export function waitForNoLag(readLag: () => Promise<readonly Lag[]>, timeoutMs = 15_000): Promise<void> {
  return waitFor(
    "the group to commit every partition up to its high watermark",
    async () => {
      const lags = await readLag();
      return lags.length > 0 && lags.every((l) => l.lag === 0 && (l.highWatermark === 0 || l.committed === l.highWatermark));
    },
    timeoutMs,
  );
}
