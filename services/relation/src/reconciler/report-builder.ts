/**
 * What a reconciler run found and fixed, and its text form for operators.
 */

/** The kinds of divergence the reconciler looks for. */
export const FINDING_KINDS = [
  /** An edge in `follows` with no row in `fans`. */
  "fans_missing",
  /** An edge in `fans` with no row in `follows`. */
  "follows_missing",
  /** `fans` holds an older version of the edge than `follows`. */
  "fans_stale",
  /** `follows` holds an older version of the edge than `fans`. */
  "follows_stale",
  /** Both rows have the same version but differ (settled in favour of `follows`, the follower's side). */
  "edge_conflict",
  /** following_counts differs from the user's active `follows` rows. */
  "following_count_wrong",
  /** follower_counts differs from the user's active `fans` rows. */
  "follower_count_wrong",
  /** A pending overlay entry whose transition (or a newer one) is already in `follows`. */
  "pending_stale",
  /** A pending entry older than the grace period and newer than `follows`: its event never got persisted. */
  "pending_unpersisted",
  /** The count service's `counters` row of a user's following count differs from following_counts (or is missing, or its version is ahead). */
  "following_counter_wrong",
  /** The count service's `counters` row of a user's follower count differs from follower_counts. */
  "follower_counter_wrong",
  /** users.follow_count differs from following_counts (or its version is ahead). */
  "profile_following_wrong",
  /** users.follower_count differs from follower_counts. */
  "profile_follower_wrong",
  /** A cached following:{A} differs from A's `follows` rows with the pending overlay applied (dropped: the next read reloads it). */
  "cached_following_wrong",
  /** A cached fans:{B} window differs from B's newest `fans` rows (dropped: the next read reloads it). */
  "cached_fans_wrong",
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  readonly kind: FindingKind;
  readonly detail: string;
}

/** Findings kept verbatim in a report; the rest are only counted. */
export const MAX_SAMPLES = 20;

export interface ReconcileReport {
  readonly dryRun: boolean;
  readonly durationMs: number;
  readonly scanned: {
    followsRows: number;
    fansRows: number;
    followingCounts: number;
    followerCounts: number;
    pendingUsers: number;
    pendingEntries: number;
    /** Users whose `counters` rows were compared, per count name. */
    counters: number;
    /** Users whose redundant counters in `users` were compared, per count name. */
    profiles: number;
    /** Cached list keys (following:{A}, fans:{B}) compared with the shards. */
    cachedLists: number;
  };
  readonly found: Record<FindingKind, number>;
  readonly fixed: Record<FindingKind, number>;
  /** Differences younger than the grace period, left to the persister. */
  readonly skippedRecent: number;
  /**
   * Repaired counts whose count.changed could not be published (after retries);
   * they were written to the count store and the users' counters directly.
   */
  readonly unpublished: number;
  readonly samples: Finding[];
}

const zeros = (): Record<FindingKind, number> => Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;

/** A report being filled in by the checks. */
export class ReportBuilder {
  readonly scanned = {
    followsRows: 0,
    fansRows: 0,
    followingCounts: 0,
    followerCounts: 0,
    pendingUsers: 0,
    pendingEntries: 0,
    counters: 0,
    profiles: 0,
    cachedLists: 0,
  };
  readonly found = zeros();
  readonly fixed = zeros();
  skippedRecent = 0;
  unpublished = 0;
  readonly samples: Finding[] = [];
  private readonly t0 = Date.now();

  constructor(readonly dryRun: boolean) {}

  find(kind: FindingKind, detail: string): void {
    this.found[kind]++;
    if (this.samples.length < MAX_SAMPLES) this.samples.push({ kind, detail });
  }

  fix(kind: FindingKind, n = 1): void {
    this.fixed[kind] += n;
  }

  build(): ReconcileReport {
    return {
      dryRun: this.dryRun,
      durationMs: Date.now() - this.t0,
      scanned: { ...this.scanned },
      found: { ...this.found },
      fixed: { ...this.fixed },
      skippedRecent: this.skippedRecent,
      unpublished: this.unpublished,
      samples: [...this.samples],
    };
  }
}

export const totalFound = (r: ReconcileReport) => Object.values(r.found).reduce((a, b) => a + b, 0);
export const totalFixed = (r: ReconcileReport) => Object.values(r.fixed).reduce((a, b) => a + b, 0);

/** The report as lines of text, for the command's output and the job's log. */
export function formatReport(r: ReconcileReport): string {
  const lines = [
    `reconcile ${r.dryRun ? "(dry run) " : ""}finished in ${r.durationMs} ms`,
    `scanned: ${r.scanned.followsRows} follows rows, ${r.scanned.fansRows} fans rows, ` +
      `${r.scanned.followingCounts} following counts, ${r.scanned.followerCounts} follower counts, ` +
      `${r.scanned.pendingEntries} pending entries of ${r.scanned.pendingUsers} users, ` +
      `${r.scanned.counters} count-store and ${r.scanned.profiles} profile counters, ${r.scanned.cachedLists} cached lists`,
  ];
  const kinds = FINDING_KINDS.filter((k) => r.found[k] > 0);
  if (kinds.length === 0) lines.push("found: nothing, the stores agree");
  for (const k of kinds) lines.push(`found ${k}: ${r.found[k]}${r.dryRun ? "" : `, fixed ${r.fixed[k]}`}`);
  if (r.skippedRecent > 0) lines.push(`left to the persister (younger than the grace period): ${r.skippedRecent}`);
  if (r.unpublished > 0) lines.push(`count.changed not published for ${r.unpublished} counts (written to the count store and the profiles directly)`);
  for (const s of r.samples) lines.push(`  ${s.kind}: ${s.detail}`);
  return lines.join("\n");
}
