/**
 * What tracing costs, measured in one run: the same user service (GetUser from
 * a warm profile cache, driven by ghz) started three ways, one after the other
 * against the same seeded shards, with the bare grpc-js echo as the baseline:
 *
 *   off      no OpenTelemetry preload (RS_JAEGER=0 in the stack)
 *   default  preload, spans exported to the stack's Jaeger, the default
 *            sampler (parent-based, 10 new traces a second)
 *   all      preload, every call sampled and exported (always_on)
 *
 *   ./dev.sh bench tracing-cost [seconds=10] [concurrency=50] [users=10000]
 *
 * Needs the stack's Jaeger (started by `./dev.sh bench`, unless RS_JAEGER=0).
 * Prints req/s, p50/p99, CPU of the server per call, and each setting's ratio
 * to "off", and writes bench/results/tracing-cost.json.
 */
import os from "node:os";
import { BCRYPT_COST_DEFAULT } from "@rs/user";
import { jaegerOtlpEndpoint, jaegerQueryUrl } from "../deploy/stack/jaeger.js";
import { spawnEchoServer, stopProcess } from "./lib/bench-processes.js";
import { cpuSeconds } from "./lib/cpu-time.js";
import { ghz, type GhzResult } from "./lib/ghz.js";
import { writeResult } from "./lib/results.js";
import { createUserFixture, FIRST_USER_ID } from "./lib/user-fixture.js";
import { ECHO_ROW } from "./lib/summary.js";

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 50);
const users = Number(process.argv[4] ?? 10_000);
const WARMUP_SECONDS = 2;
const MICROS_PER_SECOND = 1e6;

const jaegerUp = await fetch(`${jaegerQueryUrl()}/api/services`, { signal: AbortSignal.timeout(2_000) }).then(
  (r) => r.ok,
  () => false,
);
if (!jaegerUp) throw new Error(`no Jaeger at ${jaegerQueryUrl()}: run this with ./dev.sh bench tracing-cost (and RS_JAEGER unset)`);

interface Row extends GhzResult {
  readonly setting: string;
  readonly serverCpuMicrosPerCall?: number;
}

const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: jaegerOtlpEndpoint() };
const settings = [
  { setting: "off", telemetry: false, env: {} },
  { setting: "default", telemetry: true, env: exporting },
  { setting: "all", telemetry: true, env: { ...exporting, OTEL_TRACES_SAMPLER: "parentbased_always_on" } },
] as const;

const fixture = await createUserFixture(users, BCRYPT_COST_DEFAULT);
const echo = await spawnEchoServer();
try {
  const measure = (setting: string, address: string, call: string, data: string, pid: number | undefined): Row => {
    ghz(`${setting} (warm-up)`, address, call, data, { seconds: WARMUP_SECONDS, concurrency });
    const cpu0 = cpuSeconds(pid);
    const result = ghz(setting, address, call, data, { seconds, concurrency });
    const cpu1 = cpuSeconds(pid);
    const calls = result.rps * seconds;
    const perCall = cpu0 !== undefined && cpu1 !== undefined && calls > 0 ? Math.round(((cpu1 - cpu0) * MICROS_PER_SECOND) / calls) : undefined;
    return { ...result, setting, ...(perCall !== undefined ? { serverCpuMicrosPerCall: perCall } : {}) };
  };
  const rows: Row[] = [measure(ECHO_ROW, echo.address, "echo.v1.EchoService.Echo", JSON.stringify({ message: "hi" }), echo.child.pid)];
  const randomId = `"{{randomInt ${FIRST_USER_ID} ${FIRST_USER_ID + users}}}"`;
  for (const s of settings) {
    const user = await fixture.start({ telemetry: s.telemetry, env: s.env });
    try {
      rows.push(measure(`GetUser, tracing ${s.setting}`, user.address, "user.v1.UserService.GetUser", `{"user_id":${randomId}}`, user.child.pid));
    } finally {
      await stopProcess(user.child);
    }
  }
  const off = rows[1]!;
  const pad = (v: string | number, n: number) => String(v).padStart(n);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  process.stdout.write(`\ntracing-cost: ${seconds}s per run, concurrency ${concurrency}, ${users} users, ${os.cpus().length} CPUs, load average ${load}\n`);
  process.stdout.write(
    `${"run".padEnd(28)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("× off", 8)}${pad("server µs/call", 16)}${pad("Δ µs/call", 11)}${pad("errors", 8)}\n`,
  );
  for (const r of rows) {
    const ratio = r === rows[0] ? "-" : (r.rps / off.rps).toFixed(2);
    const delta =
      r === rows[0] || r.serverCpuMicrosPerCall === undefined || off.serverCpuMicrosPerCall === undefined
        ? "-"
        : r.serverCpuMicrosPerCall - off.serverCpuMicrosPerCall;
    process.stdout.write(
      `${r.setting.padEnd(28)}${pad(r.rps, 9)}${pad(r.p50Ms, 9)}${pad(r.p99Ms, 9)}${pad(ratio, 8)}${pad(r.serverCpuMicrosPerCall ?? "-", 16)}${pad(delta, 11)}${pad(r.errors, 8)}\n`,
    );
  }
  writeResult({ seconds, concurrency, users, results: rows });
} finally {
  await stopProcess(echo.child);
  await fixture.close();
}
