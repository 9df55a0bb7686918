/** How usable an endpoint looks right now. */
export type EndpointHealth = "ready" | "connecting" | "failing";

export interface PickCandidate {
  readonly id: string;
  readonly health: EndpointHealth;
}

/**
 * Chooses the endpoint for the next attempt, round-robin within the best tier:
 *
 * 1. not yet tried in this call and connected;
 * 2. not yet tried and (re)connecting;
 * 3. already tried but connected (a retry with no better place to go);
 * 4. not yet tried but failing (connection refused or recently answered
 *    UNAVAILABLE: the attempt fails fast and tells the caller why);
 * 5. anything.
 *
 * A dead instance is therefore skipped as soon as its connection drops, long
 * before its etcd lease expires. Returns the index into `candidates`, or -1
 * when there are none.
 */
export function pickEndpoint(candidates: readonly PickCandidate[], tried: ReadonlySet<string>, turn: number): number {
  const tiers: Array<(c: PickCandidate) => boolean> = [
    (c) => !tried.has(c.id) && c.health === "ready",
    (c) => !tried.has(c.id) && c.health === "connecting",
    (c) => tried.has(c.id) && c.health === "ready",
    (c) => !tried.has(c.id),
    () => true,
  ];
  for (const inTier of tiers) {
    const indexes: number[] = [];
    candidates.forEach((c, i) => inTier(c) && indexes.push(i));
    if (indexes.length > 0) return indexes[turn % indexes.length]!;
  }
  return -1;
}
