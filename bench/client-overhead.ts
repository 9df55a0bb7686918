/**
 * What the balanced promise client costs over a bare grpc-js client: both
 * call the echo baseline (started here, in-process) with the same concurrency
 * for the same time, one after the other, and print calls/s, CPU time per
 * call (client and server together) and latency percentiles as JSON, also
 * written to bench/results/client-overhead.json.
 *
 *   node --import tsx bench/client-overhead.ts [seconds=5] [concurrency=50]
 */
import { credentials } from "@grpc/grpc-js";
import { createServiceClient, startGrpcServer } from "@rs/grpc";
import { echoV1, protoFiles } from "@rs/idl";
import { createLogger } from "@rs/logger";
import { writeResult } from "./lib/results.js";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 50);
const logger = createLogger("client-overhead", "warn");

async function measure(name: string, call: () => Promise<unknown>) {
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const until = Date.now() + seconds * 1_000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        await call();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const p = (q: number) => Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2));
  return {
    name,
    callsPerSecond: Math.round(latencies.length / seconds),
    // Client and server share this process: CPU per call is the steadier number on a busy machine.
    cpuMicrosPerCall: Math.round((cpu.user + cpu.system) / latencies.length),
    p50Ms: p(0.5),
    p99Ms: p(0.99),
  };
}

const server = await startGrpcServer({
  name: "echo",
  host: "127.0.0.1",
  port: 0,
  services: [
    {
      definition: echoV1.EchoServiceService,
      implementation: { echo: (call, cb) => cb(null, { message: call.request.message, instance: "bench" }) } satisfies echoV1.EchoServiceServer,
    },
  ],
  reflectionProtoFiles: [protoFiles.echo],
  logger,
});
const address = `127.0.0.1:${server.port}`;

const bare = new echoV1.EchoServiceClient(address, credentials.createInsecure());
const bareCall = () => new Promise((resolve, reject) => bare.echo({ message: "hi" }, (err, res) => (err ? reject(err) : resolve(res))));
const balanced = createServiceClient(echoV1.EchoServiceClient, { target: { address }, idempotentMethods: ["echo"], logger });
const lean = createServiceClient(echoV1.EchoServiceClient, { target: { address }, breaker: false, logger });

await measure("warm-up", bareCall);
const results = [
  await measure("bare grpc-js client", bareCall),
  await measure("createServiceClient (breaker, idempotent)", () => balanced.echo({ message: "hi" })),
  await measure("createServiceClient (no breaker, no retries)", () => lean.echo({ message: "hi" })),
];
process.stdout.write(`${JSON.stringify({ seconds, concurrency, results }, null, 2)}\n`);
writeResult({ seconds, concurrency, results });
bare.close();
await Promise.all([balanced.close(), lean.close()]);
await server.shutdown(1_000);
