/**
 * The shard map: which physical database holds each virtual shard.
 *
 * A map is an array indexed by virtual shard whose value is the index of a
 * physical shard (a position in MYSQL_SHARD_DSNS). Its text form, as in
 * MYSQL_SHARD_MAP, is a comma-separated list of `<from>-<to>=<physical>` or
 * `<virtual>=<physical>` entries, e.g. `0-31=0,32-63=1`. Every virtual shard
 * must be named exactly once. Moving a virtual shard to another database is
 * the unit of resharding: copy its rows, then change only its entry.
 */

/** Thrown when a shard map is invalid; `problems` lists every one found. */
export class ShardMapError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid shard map: ${problems.join("; ")}`);
    this.name = "ShardMapError";
  }
}

const ENTRY = /^(\d+)(?:\s*-\s*(\d+))?\s*=\s*(\d+)$/;

function assertCounts(virtualShards: number, physicalCount: number): void {
  if (!Number.isSafeInteger(virtualShards) || virtualShards < 1) {
    throw new RangeError(`virtualShards must be a positive integer, got ${virtualShards}`);
  }
  if (!Number.isSafeInteger(physicalCount) || physicalCount < 1) {
    throw new RangeError(`the number of physical shards must be a positive integer, got ${physicalCount}`);
  }
}

/** Writes consecutive virtual shard numbers as ranges: [1,2,3,7] → "1-3, 7". */
function ranges(shards: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < shards.length;) {
    let j = i;
    while (j + 1 < shards.length && shards[j + 1] === shards[j]! + 1) j++;
    out.push(i === j ? `${shards[i]}` : `${shards[i]}-${shards[j]}`);
    i = j + 1;
  }
  return out.join(", ");
}

/**
 * The default map: contiguous ranges spread evenly, e.g. 64 over 2 →
 * `0-31=0,32-63=1`; 64 over 3 → `0-21=0,22-42=1,43-63=2`.
 */
export function defaultShardMap(virtualShards: number, physicalCount: number): number[] {
  assertCounts(virtualShards, physicalCount);
  if (physicalCount > virtualShards) {
    throw new ShardMapError([`${physicalCount} physical shards but only ${virtualShards} virtual shards: some databases would hold nothing`]);
  }
  return Array.from({ length: virtualShards }, (_, v) => Math.floor((v * physicalCount) / virtualShards));
}

/**
 * Parses a shard map spec (see the module doc). An absent or blank spec gives
 * {@link defaultShardMap}.
 *
 * @returns an array of length `virtualShards`: index = virtual shard, value =
 *   physical shard index.
 * @throws ShardMapError naming every malformed entry, virtual or physical shard
 *   out of range, overlap and gap.
 */
export function parseShardMap(spec: string | undefined, virtualShards: number, physicalCount: number): number[] {
  assertCounts(virtualShards, physicalCount);
  if (spec === undefined || spec.trim() === "") return defaultShardMap(virtualShards, physicalCount);

  const problems: string[] = [];
  const map: (number | undefined)[] = new Array<number | undefined>(virtualShards).fill(undefined);
  const owner: (string | undefined)[] = new Array<string | undefined>(virtualShards).fill(undefined);
  // Overlaps are reported once per pair of entries, with the shards they share.
  const overlaps = new Map<string, number[]>();
  const mentioned: boolean[] = new Array<boolean>(virtualShards).fill(false);

  for (const raw of spec.split(",")) {
    const entry = raw.trim();
    const m = ENTRY.exec(entry);
    if (!m) {
      problems.push(entry === "" ? "empty entry (stray comma?)" : `entry "${entry}" is not <from>-<to>=<physical> or <virtual>=<physical>`);
      continue;
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const physical = Number(m[3]);
    let ok = true;
    if (from > to) {
      problems.push(`entry "${entry}": range runs backwards (${from} > ${to})`);
      ok = false;
    }
    if (to >= virtualShards) {
      problems.push(`entry "${entry}": virtual shard ${to} out of range (there are ${virtualShards}: 0-${virtualShards - 1})`);
      ok = false;
    }
    if (physical >= physicalCount) {
      problems.push(`entry "${entry}": physical shard ${physical} out of range (there are ${physicalCount} DSNs: 0-${physicalCount - 1})`);
      ok = false;
    }
    if (!ok) {
      // Its shards are reported with the entry; do not report them as a gap too.
      for (let v = from; v <= Math.min(to, virtualShards - 1); v++) mentioned[v] = true;
      continue;
    }
    for (let v = from; v <= to; v++) {
      const previous = owner[v];
      if (previous !== undefined) {
        const key = `"${previous}" and "${entry}"`;
        overlaps.set(key, [...(overlaps.get(key) ?? []), v]);
        continue;
      }
      owner[v] = entry;
      map[v] = physical;
    }
  }

  for (const [pair, shards] of overlaps) problems.push(`overlap: virtual shards ${ranges(shards)} are assigned by both ${pair}`);
  const unassigned = map.flatMap((p, v) => (p === undefined && !mentioned[v] ? [v] : []));
  if (unassigned.length > 0) problems.push(`gap: virtual shards ${ranges(unassigned)} are not assigned`);
  if (problems.length > 0) throw new ShardMapError(problems);
  return map as number[];
}

/** The canonical text form of a map (contiguous runs merged), for logs and config. */
export function formatShardMap(map: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < map.length;) {
    let j = i;
    while (j + 1 < map.length && map[j + 1] === map[i]) j++;
    out.push(i === j ? `${i}=${map[i]}` : `${i}-${j}=${map[i]}`);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * The virtual shards whose physical shard differs between two maps: exactly
 * the data a resharding step from `from` to `to` must copy.
 */
export function shardMapMoves(from: readonly number[], to: readonly number[]): number[] {
  if (from.length !== to.length) {
    throw new RangeError(`maps cover different numbers of virtual shards (${from.length} and ${to.length}); virtual shards are fixed`);
  }
  return from.flatMap((p, v) => (to[v] === p ? [] : [v]));
}
