/**
 * Prometheus metrics of the relation service, in the process registry. Created
 * once per process: tests run several instances in one process, and the
 * registry refuses a second metric of one name.
 */
import { Counter } from "prom-client";
import { cacheLookups, gaugeMetric, metricsRegistry } from "@rs/runtime";

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames: [...labelNames], registers: [metricsRegistry] })
  );
}

export const relationMetrics = {
  /** Reads of a relation cache key (`cache_lookups_total{cache="following"|"fans"}`): hit (loaded) or miss (loaded from the shard first); `cache="hot_profile"`: a profile served from process memory (hit) or asked of the user service (miss). */
  cacheLookups: cacheLookups(),
  /** Follow/unfollow outcomes: changed, noop, cap_exceeded, publish_failed. */
  writes: counter("relation_writes_total", "Follow and unfollow requests by action and outcome", ["action", "outcome"] as const),
  /** Queued transitions published by the outbox retrier. */
  outboxPublished: counter("relation_outbox_published_total", "Transitions published from the outbox", [] as const),
  /** Outbox passes that could not publish (Kafka still unreachable). */
  outboxFailures: counter("relation_outbox_failures_total", "Outbox publish attempts that failed", [] as const),
  /** fans:{B} steps that failed after an acknowledged transition (the persister repeats them). */
  fanStepFailures: counter("relation_fan_step_failures_total", "fans:{B} steps that failed", [] as const),
  /** Pending transitions the sweeper published again because they were older than the sweep delay (their first event may be lost). */
  pendingSwept: counter("relation_pending_swept_total", "Pending transitions republished by the pending sweeper", [] as const),
  /** Sweeper looks at a user, by outcome: published, young (checked again later), empty (dropped from the index), failed. */
  pendingChecks: counter("relation_pending_checks_total", "Users the pending sweeper looked at, by outcome", ["outcome"] as const),
  /** Profile change notices (event=change: one user's kept profile dropped) and losses of their subscription (event=reset: all dropped); ADR 28. */
  profileNotices: counter("relation_profile_change_notices_total", "Profile change notices received (change) and losses of their subscription (reset)", [
    "event",
  ] as const),
  /**
   * 1 while subscribed to the profile change notices (hot profiles are kept only then), else 0. Made by the
   * subscriber, so a process without one (notices off, the persister) exports no such series to alert on.
   */
  profileNoticesLive: () =>
    gaugeMetric({
      name: "relation_profile_change_notices_live",
      help: "1 while the process is subscribed to profile change notices and keeps hot profiles, else 0",
    }),
};
