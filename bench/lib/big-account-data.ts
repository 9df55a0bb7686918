/**
 * One big account and its fans, written in bulk straight into the shards as
 * the suite would have left them after every follow went through the relation
 * service, the persister, the count-consumer and the user-consumer:
 *
 * - `users` (user's shard) and `usernames` (shard of the name's hash): the big
 *   account and every fan, registered (one real bcrypt hash shared by all), with
 *   the redundant counts and the versions the user-consumer applied;
 * - per fan, on the fan's shard: its `follows` row to the big account and its
 *   `following_counts` row (1, at the follow's version);
 * - on the big account's shard: one `fans` row per fan and `follower_counts`
 *   (the fan count at the version the persister's count fold reaches,
 *   `nextCountVersion` over every follow);
 * - the count service's `counters`: ('user', fan, 'following') and
 *   ('user', big, 'follower').
 *
 * Fan i (1 … n) followed at `T0 + ⌊i/2⌋ s`, so two fans share each
 * millisecond (the cursor's id tie-break is exercised); versions are µs like
 * the relation service's (Redis TIME). Fan ids are not in follow order (as a
 * user's id says when they registered, not when they followed): pair ⌊i/2⌋ is
 * spread over the id range by a multiplicative permutation, and within a pair
 * the later fan has the higher id, so newest first, position p (1-based) is
 * fan n − p + 1. Multi-row INSERTs of {@link CHUNK_ROWS} rows in primary-key
 * order, {@link LOAD_CONCURRENCY} at a time, with a progress bar.
 */
import { hashPassword } from "@rs/auth";
import type { ShardedMysql } from "@rs/mysql";
import { usernameRoutingKey } from "../../services/user/src/adapters/mysql/username-shard.js";
import { nextCountVersion } from "../../services/relation/src/persister/count-arithmetic.js";
import { ProgressBar } from "./progress-bar.js";

export const BIG_USER_ID = 3_000_000_000_000;
export const BIG_PASSWORD = "big-account-password";
const T0_MS = Date.UTC(2026, 0, 1);
const CHUNK_ROWS = 5_000;
const LOAD_CONCURRENCY = 4;
const BCRYPT_COST = 4;
const ACTIVE = 1;
const SOURCE = 0;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Fan i's id among `n` fans: pair ⌊i/2⌋ permuted over the pairs (k → k·A mod pairs, A coprime to pairs), then i's parity. */
export function fanId(n: number, i: number): number {
  const pairs = Math.floor(n / 2) + 1;
  return BIG_USER_ID + 1 + 2 * ((Math.floor(i / 2) * multiplier(pairs)) % pairs) + (i % 2);
}

const multipliers = new Map<number, number>();
function multiplier(pairs: number): number {
  let a = multipliers.get(pairs) ?? 999_983;
  while (gcd(a, pairs) !== 1) a += 2;
  multipliers.set(pairs, a);
  return a;
}
export const followedAt = (i: number): number => T0_MS + Math.floor(i / 2) * 1_000;
/** The follow's version: the follower's counter, µs (fans have their own counters, so versions repeat across fans). */
export const followVersion = (i: number): number => followedAt(i) * 1_000 + 1;
/** The id of the fan at 1-based position `p` of the newest-first list of `n` fans. */
export const fanAtPosition = (n: number, p: number): number => fanId(n, n - p + 1);
const nameOf = (i: number): string => (i === 0 ? "big_account" : `big_fan_${i}`);

/** The big account's follower count version after the persister counted every follow, one transition at a time. */
function followerCountVersion(n: number): number {
  let v = 0;
  for (let i = 1; i <= n; i++) v = nextCountVersion(v, followVersion(i));
  return v;
}

interface Stream {
  readonly table: string;
  readonly sql: string;
  readonly physical: number;
  /** Item indexes (0 = the big account, i = fan i), in the table's key order on that shard. */
  readonly items: readonly number[];
  readonly row: (i: number) => unknown[];
}

function streamsOf(table: string, sql: string, groups: Map<number, number[]>, row: (i: number) => unknown[]): Stream[] {
  return [...groups].map(([physical, items]) => ({ table, sql, physical, items, row }));
}

/** Every row of the data set, as one stream per table and shard. */
async function dataStreams(mysql: ShardedMysql, n: number): Promise<Stream[]> {
  const hash = await hashPassword(BIG_PASSWORD, BCRYPT_COST);
  const idOf = (i: number) => (i === 0 ? BIG_USER_ID : fanId(n, i));
  // in id order: every table's key starts with the id (or the big account's, then the fan's)
  const fans = Array.from({ length: n }, (_, k) => k + 1).sort((a, b) => idOf(a) - idOf(b));
  const everyone = [0, ...fans];
  const byUser = (items: readonly number[]) => mysql.groupByShard(items, idOf);
  const bigShard = new Map([[mysql.physicalOf(BIG_USER_ID), [0]]]);
  const usernames = mysql.groupByShard(everyone, (i) => usernameRoutingKey(nameOf(i)));
  for (const group of usernames.values()) group.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
  const lastTime = followedAt(n);
  const bigVersion = followerCountVersion(n);
  return [
    ...streamsOf(
      "users",
      `INSERT INTO users (id, username, password_hash, avatar, signature, follow_count, follower_count,
         follow_count_version, follower_count_version, revision, created_at, updated_at) VALUES ?`,
      byUser(everyone),
      (i) =>
        i === 0
          ? [BIG_USER_ID, nameOf(0), hash, `https://img.example/${BIG_USER_ID}.png`, "big", 0, n, 0, bigVersion, 1, T0_MS - 1, lastTime]
          : [idOf(i), nameOf(i), hash, `https://img.example/${idOf(i)}.png`, "fan", 1, 0, followVersion(i), 0, 1, T0_MS - 1, followedAt(i)],
    ),
    ...streamsOf("usernames", "INSERT INTO usernames (username, user_id, state, claimed_at) VALUES ?", usernames, (i) => [nameOf(i), idOf(i), 1, T0_MS - 1]),
    ...streamsOf("follows", "INSERT INTO follows (from_user_id, to_user_id, source, status, created_at, version, updated_at) VALUES ?", byUser(fans), (i) => [
      idOf(i),
      BIG_USER_ID,
      SOURCE,
      ACTIVE,
      followedAt(i),
      followVersion(i),
      followedAt(i),
    ]),
    ...streamsOf("following_counts", "INSERT INTO following_counts (user_id, following_count, version, updated_at) VALUES ?", byUser(fans), (i) => [
      idOf(i),
      1,
      followVersion(i),
      followedAt(i),
    ]),
    ...streamsOf(
      "fans",
      "INSERT INTO fans (to_user_id, from_user_id, source, status, created_at, version, updated_at) VALUES ?",
      new Map([[mysql.physicalOf(BIG_USER_ID), fans]]),
      (i) => [BIG_USER_ID, idOf(i), SOURCE, ACTIVE, followedAt(i), followVersion(i), followedAt(i)],
    ),
    ...streamsOf("follower_counts", "INSERT INTO follower_counts (user_id, follower_count, version, updated_at) VALUES ?", bigShard, () => [
      BIG_USER_ID,
      n,
      bigVersion,
      lastTime,
    ]),
    ...streamsOf("counters", "INSERT INTO counters (entity_id, entity_type, name, value, version, updated_at) VALUES ?", byUser(fans), (i) => [
      idOf(i),
      "user",
      "following",
      1,
      followVersion(i),
      followedAt(i),
    ]),
    ...streamsOf("counters", "INSERT INTO counters (entity_id, entity_type, name, value, version, updated_at) VALUES ?", bigShard, () => [
      BIG_USER_ID,
      "user",
      "follower",
      n,
      bigVersion,
      lastTime,
    ]),
  ];
}

/** Rows written and how long it took. */
export interface LoadReport {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly rowsPerTable: Record<string, number>;
}

/** Writes the big account with `n` fans into the (migrated, empty) shards of `mysql`. */
export async function loadBigAccount(mysql: ShardedMysql, n: number): Promise<LoadReport> {
  const streams = await dataStreams(mysql, n);
  // chunk jobs, the streams interleaved so both shards and every table stay busy
  const perStream = streams.map((s) => Array.from({ length: Math.ceil(s.items.length / CHUNK_ROWS) }, (_, k) => ({ s, from: k * CHUNK_ROWS })));
  const jobs = Array.from({ length: Math.max(...perStream.map((j) => j.length)) }, (_, k) => perStream.flatMap((j) => j[k] ?? [])).flat();
  const rowsPerTable: Record<string, number> = {};
  for (const s of streams) rowsPerTable[s.table] = (rowsPerTable[s.table] ?? 0) + s.items.length;
  const total = Object.values(rowsPerTable).reduce((a, b) => a + b, 0);
  const bar = new ProgressBar("big-account load", total);
  let next = 0;
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      for (let j = next++; j < jobs.length; j = next++) {
        const { s, from } = jobs[j]!;
        const rows = s.items.slice(from, from + CHUNK_ROWS).map(s.row);
        await mysql.pool(s.physical).query(s.sql, [rows]);
        bar.add(rows.length, `${s.table}@shard${s.physical}`);
      }
    }),
  );
  const seconds = bar.finish();
  return { rows: total, seconds: Number(seconds.toFixed(1)), rowsPerSecond: Math.round(total / seconds), rowsPerTable };
}
