/**
 * `./dev.sh trace <trace id | request id | last [route]>`: finds a trace in
 * Jaeger through its own query API and prints it as a waterfall, then the
 * traces its spans link to (a persister batch that carried the request's event
 * along with others' is a trace of its own, linked both ways).
 */
import { REQUEST_ID_ATTRIBUTE } from "../../pkg/telemetry/src/attributes.js";
import { foreignLinks, formatWaterfall, rootSpan, serviceOf, tagValue, type JaegerTrace } from "./trace-waterfall.js";

const TRACE_ID = /^[0-9a-f]{16,32}$/i;
const ENTRY_SERVICE = "gateway";
const LOOKBACK = "24h";
const SEARCH_LIMIT = 200;
const MAX_LINKED_TRACES = 5;
const TIMEOUT_MS = 5_000;

interface JaegerResponse {
  readonly data: JaegerTrace[] | null;
  readonly errors?: { readonly msg: string }[] | null;
}

async function get(base: string, path: string): Promise<JaegerTrace[]> {
  let res: Response;
  try {
    res = await fetch(base + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`Jaeger's query API at ${base} did not answer (${(err as Error).message}); is the stack up (./dev.sh up), with RS_JAEGER not 0?`);
  }
  if (res.status === 404) return [];
  const body = (await res.json()) as JaegerResponse;
  if (!res.ok) throw new Error(`Jaeger answered ${res.status}: ${body.errors?.map((e) => e.msg).join("; ") ?? ""}`);
  return body.data ?? [];
}

export const fetchTrace = async (base: string, traceId: string): Promise<JaegerTrace | undefined> => (await get(base, `/api/traces/${traceId}`))[0];

/** Traces of the entry service, newest first, optionally only those with `tags`. */
export async function searchTraces(base: string, tags?: Record<string, string>, service = ENTRY_SERVICE): Promise<JaegerTrace[]> {
  const q = new URLSearchParams({ service, lookback: LOOKBACK, limit: String(SEARCH_LIMIT) });
  if (tags) q.set("tags", JSON.stringify(tags));
  const traces = await get(base, `/api/traces?${q}`);
  const start = (t: JaegerTrace) => rootSpan(t)?.startTime ?? 0;
  return traces.sort((a, b) => start(b) - start(a));
}

/** Whether a trace's entry span is for `route` (its matched route, or a part of its operation name). */
function matchesRoute(trace: JaegerTrace, route: string): boolean {
  const root = rootSpan(trace);
  if (!root) return false;
  return tagValue(root, "http.route") === route || root.operationName.includes(route);
}

/** Resolves the command's argument to one trace. */
export async function findTrace(base: string, args: readonly string[]): Promise<JaegerTrace> {
  const [what, route] = args;
  if (!what) throw new Error("usage: ./dev.sh trace <trace id | request id | last [route]>");
  if (what === "last") {
    const traces = (await searchTraces(base)).filter((t) => {
      const root = rootSpan(t);
      return root !== undefined && serviceOf(t, root) === ENTRY_SERVICE && (!route || matchesRoute(t, route));
    });
    if (!traces[0]) throw new Error(`no trace of ${ENTRY_SERVICE}${route ? ` for ${route}` : ""} in the last ${LOOKBACK}`);
    return traces[0];
  }
  if (TRACE_ID.test(what)) {
    const trace = await fetchTrace(base, what.toLowerCase());
    if (trace) return trace;
  }
  const [byRequest] = await searchTraces(base, { [REQUEST_ID_ATTRIBUTE]: what });
  if (!byRequest) throw new Error(`no trace with id or request id ${what} in the last ${LOOKBACK} (sampled out, or not exported yet?)`);
  return byRequest;
}

/** The lines `./dev.sh trace` prints: the trace, then each trace it links to, indented. */
export async function renderTrace(base: string, trace: JaegerTrace): Promise<string[]> {
  const lines = formatWaterfall(trace);
  const links = foreignLinks(trace);
  for (const ref of links.slice(0, MAX_LINKED_TRACES)) {
    const linked = await fetchTrace(base, ref.traceID);
    lines.push("", `  ↳ linked trace (a span above links to span ${ref.spanID} of it):`);
    lines.push(...(linked ? formatWaterfall(linked, { indent: "    " }) : [`    trace ${ref.traceID}: not in Jaeger (sampled out or expired)`]));
  }
  if (links.length > MAX_LINKED_TRACES) lines.push(`  … and ${links.length - MAX_LINKED_TRACES} more linked traces`);
  return lines;
}
