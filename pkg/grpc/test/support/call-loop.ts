import type { echoV1 } from "@rs/idl";
import type { ServiceClient } from "@rs/grpc";

export interface CallRecord {
  /** When the call finished (ms since epoch). */
  readonly at: number;
  readonly instance?: string;
  readonly code?: number;
}

/**
 * Calls Echo from `concurrency` loops until `stop()` and records every
 * outcome: which instance answered, or the status code of the failure.
 */
export function startCallLoop(client: ServiceClient<echoV1.EchoServiceClient>, concurrency: number, pauseMs = 10) {
  const records: CallRecord[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const res = await client.echo({ message: "hi" });
        records.push({ at: Date.now(), instance: res.instance });
      } catch (err) {
        records.push({ at: Date.now(), code: (err as { code?: number }).code ?? -1 });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    records,
    async stop(): Promise<CallRecord[]> {
      running = false;
      await Promise.all(loops);
      return records;
    },
  };
}
