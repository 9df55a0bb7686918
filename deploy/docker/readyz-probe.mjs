/* global process, fetch, AbortSignal */
// Container healthcheck of an app process: exit 0 when its admin server says
// ready (`GET /readyz` on ADMIN_PORT answers 2xx), 1 otherwise. The slim Node
// image has no curl or wget, and Node is there anyway. Plain JavaScript so the
// probe does not pay tsx's start-up on every run.
//
//   node deploy/docker/readyz-probe.mjs [path]   (path defaults to /readyz)

const PROBE_TIMEOUT_MS = 2_500;

const port = process.env.ADMIN_PORT;
const path = process.argv[2] ?? "/readyz";
if (!port || port === "0") {
  process.stderr.write("readyz-probe: ADMIN_PORT is not set to a fixed port\n");
  process.exit(1);
}

try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  if (!res.ok) process.stderr.write(`readyz-probe: ${res.status} ${await res.text()}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`readyz-probe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
