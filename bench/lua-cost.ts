/**
 * Redis's CPU per call of the relation's list-page scripts, taken apart: the
 * shared Lua prelude, the page alone, the page with the viewer's follows, and
 * the page's one range read with and without its scores. Each variant is the
 * service's script source (or a cut of it) run by EVALSHA against a private
 * redis-server, on lists of 20 follows; Redis's own `usec_per_call` from
 * INFO commandstats.
 *
 *   node --import tsx bench/lua-cost.ts [calls=20000]
 *
 * Needs redis-server on PATH. Prints a table and writes bench/results/lua-cost.json.
 */
import { Redis } from "ioredis";
import { scriptSources } from "../services/relation/src/adapters/redis/relation-scripts.js";
import { privateRedis } from "../test/support/private-redis.js";
import { writeResult } from "./lib/results.js";

const calls = Number(process.argv[2] ?? 20_000);
const USERS = 2_000;
const FOLLOWS = 20;
const IN_FLIGHT = 50;
const ROUNDS = 2;
const FIRST_ID = 1_000_000_000_000;
const FIRST_MS = 1_700_000_000_000;

const src = scriptSources();
// every script is the prelude (common.lua) followed by its own file
const prelude = src.followingPage.slice(0, src.followingPage.indexOf("-- KEYS: following:{A}\n"));
if (!src.followingPageFor.startsWith(prelude)) throw new Error("following-page-for does not start with the prelude");
const pageFor = src.followingPageFor.slice(prelude.length);
const VIEWER_READ = "local follows = follows_of(KEYS[2], KEYS[3], ids)";
if (!pageFor.includes(VIEWER_READ)) throw new Error("following-page-for no longer reads the viewer's follows as this bench expects");
const rangeRead = (withScores: boolean) =>
  `${prelude}\nif not redis.call('ZSCORE', KEYS[1], SENTINEL) then return 0 end\nlocal count = redis.call('ZCARD', KEYS[1])\n` +
  `return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(0', ${withScores ? "'WITHSCORES', " : ""}'LIMIT', 0, ARGV[4])`;

const variants: Record<string, string> = {
  "nothing (return 1)": "return 1",
  "the prelude, then return 1": `${prelude}\nreturn 1`,
  "range read without scores": rangeRead(false),
  "range read with scores": rangeRead(true),
  "page (following-page.lua)": src.followingPage,
  "page for a viewer, viewer's follows cut": `${prelude}${pageFor.replace(VIEWER_READ, "local follows = nil")}`,
  "page for a viewer (following-page-for.lua)": src.followingPageFor,
};

const server = await privateRedis();
const redis = new Redis(server.url);
try {
  for (let u = 0; u < USERS; u++) {
    const args: (string | number)[] = [0, "#"];
    for (let i = 0; i < FOLLOWS; i++) args.push(FIRST_MS + i * 1_000 + u, String(FIRST_ID + ((u * 37 + i * 101) % 10_000)));
    await redis.zadd(`following:{${u}}`, ...args);
  }
  const rows: { variant: string; round: number; usecPerCall: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [variant, code] of Object.entries(variants)) {
      const sha = (await redis.script("LOAD", code)) as string;
      await redis.config("RESETSTAT");
      for (let i = 0; i < calls; i += IN_FLIGHT) {
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, (_, j) => {
            const [owner, viewer] = [(i + j) % USERS, (i + j + 7) % USERS];
            // page arguments: no cursor, 21 entries (a page of 20 and one to tell whether more follow)
            return redis.evalsha(sha, 3, `following:{${owner}}`, `following:{${viewer}}`, `following-ix:{${viewer}}`, 0, 0, 0, FOLLOWS + 1);
          }),
        );
      }
      const line = (await redis.info("commandstats")).split("\n").find((l) => l.startsWith("cmdstat_evalsha:"));
      const usecPerCall = Number(line?.match(/usec_per_call=([\d.]+)/)?.[1]);
      rows.push({ variant, round, usecPerCall });
      process.stdout.write(`round ${round}  ${variant.padEnd(44)} ${usecPerCall.toFixed(1).padStart(7)} µs per call\n`);
    }
  }
  const version = (await redis.info("server")).match(/redis_version:(\S+)/)?.[1];
  writeResult({ calls, users: USERS, follows: FOLLOWS, redisVersion: version, results: rows });
} finally {
  redis.disconnect();
  await server.destroy();
}
