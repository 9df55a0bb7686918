/**
 * Reads every store of the chaos instance for the check (checks.ts): both
 * shard databases directly (the `mariadb` client over the instance's socket),
 * the cached lists in Redis (one script, read-only), and the services through
 * the gateway (the relation service's lists, the count service, the user
 * service's profiles). Every read is bounded; a failed one is reported as
 * such, never waited on.
 */
import { execFile } from "node:child_process";
import { HOST, SHARD_DATABASES, ports } from "../settings.js";
import { MARIADB_SOCKET } from "../infra.js";
import { failed, ok, type CachedLists, type Counts, type ListAnswer, type Observation, type Read, type ServiceView, type ShardRows } from "./checks.js";
import type { ChaosUser, GatewayClient } from "./driver.js";

const READ_TIMEOUT_MS = 5_000;
export const RELATION_KEY_PREFIX = "rs:rel:";

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: READ_TIMEOUT_MS, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${(stderr || err.message).trim().split("\n")[0]}`));
      else resolve(stdout);
    });
  });
}

const add = (m: Map<number, Set<number>>, k: number, v: number) => {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
};

export async function readShards(): Promise<Read<ShardRows>> {
  const q = SHARD_DATABASES.map(
    (db) =>
      `SELECT 'F', from_user_id, to_user_id FROM \`${db}\`.follows WHERE status = 1 ` +
      `UNION ALL SELECT 'N', to_user_id, from_user_id FROM \`${db}\`.fans WHERE status = 1 ` +
      `UNION ALL SELECT 'C', user_id, following_count FROM \`${db}\`.following_counts ` +
      `UNION ALL SELECT 'R', user_id, follower_count FROM \`${db}\`.follower_counts`,
  ).join(" UNION ALL ");
  try {
    const out = await exec("mariadb", [`--socket=${MARIADB_SOCKET}`, "-uroot", "-N", "-B", `--connect-timeout=3`, "-e", q]);
    const rows: ShardRows = { follows: new Map(), fans: new Map(), followingCounts: new Map(), followerCounts: new Map() };
    for (const line of out.split("\n")) {
      if (!line) continue;
      const [tag, a, b] = line.split("\t");
      const x = Number(a);
      const y = Number(b);
      if (tag === "F") add(rows.follows as Map<number, Set<number>>, x, y);
      else if (tag === "N") add(rows.fans as Map<number, Set<number>>, x, y);
      else if (tag === "C") (rows.followingCounts as Map<number, number>).set(x, y);
      else if (tag === "R") (rows.followerCounts as Map<number, number>).set(x, y);
    }
    return ok(rows);
  } catch (err) {
    return failed((err as Error).message);
  }
}

/**
 * following:{A} counts as cached when it holds the sentinel '#'; fans:{B} when
 * fansv:{B} marks it loaded ('#l' = 1) with no window floor ('#f': entries
 * below it are not kept), i.e. it holds every fan.
 */
const CACHED_LISTS_LUA = `
local lines = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local fo = redis.call('ZRANGE', ARGV[1] .. 'following:{' .. id .. '}', 0, -1)
  local loaded, keep = false, {}
  for _, m in ipairs(fo) do
    if m == '#' then loaded = true elseif string.sub(m, 1, 1) ~= '#' then table.insert(keep, m) end
  end
  if loaded then table.insert(lines, 'following ' .. id .. ' ' .. table.concat(keep, ',')) end
  local fv = ARGV[1] .. 'fansv:{' .. id .. '}'
  if redis.call('HGET', fv, '#l') == '1' and not redis.call('HGET', fv, '#f') then
    local fa = redis.call('ZRANGE', ARGV[1] .. 'fans:{' .. id .. '}', 0, -1)
    keep = {}
    for _, m in ipairs(fa) do
      if string.sub(m, 1, 1) ~= '#' then table.insert(keep, m) end
    end
    table.insert(lines, 'fans ' .. id .. ' ' .. table.concat(keep, ','))
  end
end
return table.concat(lines, '\\n')
`;

export async function readCache(userIds: readonly number[]): Promise<Read<CachedLists>> {
  try {
    const out = await exec("redis-cli", [
      "-h",
      HOST,
      "-p",
      String(ports.redis.port),
      "--raw",
      "EVAL",
      CACHED_LISTS_LUA,
      "0",
      RELATION_KEY_PREFIX,
      ...userIds.map(String),
    ]);
    if (/^(ERR|NOSCRIPT|LOADING|BUSY|Could not connect)/m.test(out)) return failed(`redis: ${out.trim().split("\n")[0]}`);
    const lists: CachedLists = { following: new Map(), fans: new Map() };
    for (const line of out.split("\n")) {
      const [kind, id, members = ""] = line.split(" ");
      if (kind !== "following" && kind !== "fans") continue;
      const set = new Set(members.split(",").filter(Boolean).map(Number));
      (lists[kind] as Map<number, Set<number>>).set(Number(id), set);
    }
    return ok(lists);
  } catch (err) {
    return failed((err as Error).message);
  }
}

async function list(gw: GatewayClient, token: string, route: "following" | "fans", userId: number): Promise<Read<ListAnswer>> {
  const a = await gw.call("GET", `/api/relation/${route}?userId=${userId}&limit=100`, { token });
  if (a.status !== 200) return failed(`${route}: ${a.status || a.failure} ${a.body?.code ?? ""}`.trim());
  const ids = new Set<number>((a.body.users as Array<{ id: number }>).map((u) => Number(u.id)));
  if (a.body.nextCursor) return failed(`${route}: more than one page`);
  return ok({ ids, total: Number(a.body.totalCount) });
}

async function counts(gw: GatewayClient, token: string, userId: number): Promise<Read<Counts>> {
  const a = await gw.call("GET", `/api/user/${userId}/counts`, { token });
  if (a.status !== 200) return failed(`counts: ${a.status || a.failure} ${a.body?.code ?? ""}`.trim());
  return ok({ following: Number(a.body.followingCount), follower: Number(a.body.followerCount) });
}

async function profile(gw: GatewayClient, token: string, userId: number): Promise<Read<Counts>> {
  const a = await gw.call("GET", `/api/user/${userId}`, { token });
  if (a.status !== 200) return failed(`profile: ${a.status || a.failure} ${a.body?.code ?? ""}`.trim());
  return ok({ following: Number(a.body.followCount), follower: Number(a.body.followerCount) });
}

export async function readServices(gw: GatewayClient, users: readonly ChaosUser[]): Promise<Map<number, ServiceView>> {
  const views = await Promise.all(
    users.map(async (u): Promise<[number, ServiceView]> => {
      const [following, fans, c, p] = await Promise.all([
        list(gw, u.token, "following", u.id),
        list(gw, u.token, "fans", u.id),
        counts(gw, u.token, u.id),
        profile(gw, u.token, u.id),
      ]);
      return [u.id, { following, fans, counts: c, profile: p }];
    }),
  );
  return new Map(views);
}

export async function observe(gw: GatewayClient, users: readonly ChaosUser[]): Promise<Observation> {
  const ids = users.map((u) => u.id);
  const [shards, cache, services] = await Promise.all([readShards(), readCache(ids), readServices(gw, users)]);
  return { shards, cache, services };
}
