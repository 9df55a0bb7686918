import type { Request, RequestHandler, Response } from "express";
import type { Histogram, Registry } from "prom-client";
import type { Logger } from "@rs/logger";
import { histogramMetric, metricsRegistry } from "@rs/runtime";

/** express-prom-bundle's name, so stock dashboards find it; its `_count` is the request rate per route. */
const METRIC = "http_request_duration_seconds";
/** Latency buckets from a cached read (~1 ms) to a slow login (bcrypt) or a deadline (2 s). */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const NS_PER_SECOND = 1e9;
const MS_PER_SECOND = 1e3;
const MAX_PATH_LOGGED = 200;

function histogram(registry: Registry): Histogram<"method" | "route" | "status_code"> {
  return histogramMetric({
    name: METRIC,
    help: "HTTP requests by method, matched route pattern (unmatched otherwise) and status code",
    labelNames: ["method", "route", "status_code"],
    buckets: BUCKETS,
    registry,
  });
}

/** The route pattern a request matched (bounded label values), or `unmatched`. */
export function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === "string" ? req.baseUrl + pattern : "unmatched";
}

/**
 * The request's logger: every line it writes carries the request id. Made on
 * first use: most requests write no line at the usual levels, and a child
 * logger per request is measurable work.
 */
export function logOf(res: Response, base: Logger): Logger {
  let log = res.locals.log as Logger | undefined;
  if (log === undefined) {
    log = base.child({ requestId: res.locals.requestId as string | undefined });
    res.locals.log = log;
  }
  return log;
}

/**
 * One log line and one histogram sample per request, with the request id. The
 * query string is never logged: /douyin carries the token there.
 */
export function accessLog(logger: Logger, registry: Registry = metricsRegistry): RequestHandler {
  const latency = histogram(registry);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / NS_PER_SECOND;
      const status = res.statusCode;
      // A handler that answered did not call next(), so the router left baseUrl and route as matched.
      const route = routeLabel(req);
      latency.observe({ method: req.method, route, status_code: String(status) }, seconds);
      if (!logger.isLevelEnabled("info")) return;
      const path = (req.originalUrl.split("?")[0] ?? "").slice(0, MAX_PATH_LOGGED);
      logOf(res, logger).info({ method: req.method, route, path, status, ms: Math.round(seconds * MS_PER_SECOND * 10) / 10 }, "request");
    });
    next();
  };
}
