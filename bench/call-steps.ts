/**
 * What the relation process spends, in process, on the steps of a call that
 * are its own code rather than grpc-js's or ioredis's: the server adapter every
 * handler runs in (`unary`'s metrics and error mapping, the request context),
 * and a BatchIsFollowing(100)'s data (decoding 100 ids, checking them, joining
 * them into the script's argument, reading a small list's reply, encoding 100
 * flags). Each step runs 20 000 times per round, seven rounds; the table gives
 * the best round's CPU per step (the least disturbed by other work on the
 * machine). No server, Redis or network: the script's reply is the shape Redis
 * answers for a list of 20 follows (its sentinel and 20 member ids), given
 * here, so this times the relation's handling of it, not Redis.
 *
 *   node --import tsx bench/call-steps.ts
 *
 * Writes bench/results/call-steps.json.
 */
import { Metadata } from "@grpc/grpc-js";
import { inRequestContext, unary } from "@rs/grpc";
import { relationV1 } from "@rs/idl";
import { batchIsFollowing } from "../services/relation/src/adapters/redis/following-reads.js";
import { joinIds } from "../services/relation/src/adapters/redis/id-list.js";
import { relationKeys } from "../services/relation/src/adapters/redis/relation-keys.js";
import type { RelationScripts } from "../services/relation/src/adapters/redis/relation-scripts.js";
import { targetIds } from "../services/relation/src/grpc/request-validation.js";
import { lcg } from "./lib/lcg.js";
import { writeResult } from "./lib/results.js";

const OPS = 20_000;
const ROUNDS = 7;
const MESSAGES = 1_000;
const CONCURRENT = 50;
const FIRST_ID = 1_000_000_000_000;
const USERS = 10_000;

const rnd = lcg(7);
const id = () => FIRST_ID + Math.floor(rnd() * USERS);

/** Best round's CPU µs per op of `op(i)`, i cycling over the prepared messages. */
function timeSync(op: (i: number) => unknown): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < OPS; i++) op(i % MESSAGES);
    const u = process.cpuUsage(t);
    best = Math.min(best, (u.user + u.system) / OPS);
  }
  return best;
}

/** The same for an async op, CONCURRENT at a time (as calls overlap in a server). */
async function timeAsync(op: (i: number) => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < OPS; i += CONCURRENT) await Promise.all(Array.from({ length: CONCURRENT }, (_, k) => op((i + k) % MESSAGES)));
    const u = process.cpuUsage(t);
    best = Math.min(best, (u.user + u.system) / OPS);
  }
  return best;
}

type Callback = (err: unknown, res?: unknown) => void;
type Handler = (call: object, callback: Callback) => void;

/** One call through a grpc-js style handler, resolved when it answers. */
const through = (handler: Handler, call: object) => new Promise((resolve) => handler(call, (err, res) => resolve(err ?? res)));

const rows: { step: string; micros: number }[] = [];
const row = (step: string, micros: number) => {
  rows.push({ step, micros: Number(micros.toFixed(2)) });
  process.stdout.write(`${step.padEnd(72)}${micros.toFixed(2).padStart(8)} µs\n`);
};

// The server adapter: what every relation handler runs in besides its own work.
const answer = async (req: { n: number }) => ({ n: req.n });
const call = {
  request: { n: 1 },
  metadata: new Metadata(),
  getPath: () => "/relation.v1.RelationService/BatchIsFollowing",
  getDeadline: () => Date.now() + 20_000,
};
const plain: Handler = (c, cb) => void answer((c as typeof call).request).then((r) => cb(null, r));
// each handler built once, as a server builds it at start-up; only the calls are timed
const adapted = unary(answer) as unknown as Handler;
const served = inRequestContext(unary(answer) as never) as unknown as Handler;
row("a bare async handler (the echo's shape)", await timeAsync(() => through(plain, call)));
row("unary(): metrics and status mapping", await timeAsync(() => through(adapted, call)));
row("unary() inside the request context (request ids, deadline), as served", await timeAsync(() => through(served, call)));

// A BatchIsFollowing(100) call's data in the relation.
const requests = Array.from({ length: MESSAGES }, () => ({ fromUserId: id(), toUserIds: Array.from({ length: 100 }, id) }));
const bytes = requests.map((r) => Buffer.from(relationV1.BatchIsFollowingRequest.encode(r).finish()));
const decoded = bytes.map((b) => relationV1.BatchIsFollowingRequest.decode(b));
const replies = requests.map(() => ["{sentinel}", ...Array.from({ length: 20 }, () => String(id()))]);
const keys = relationKeys("bench:");
let reply: string[] = [];
const scripts = { run: () => Promise.resolve(reply) } as unknown as RelationScripts;
const answers = await Promise.all(decoded.map((d, i) => ((reply = replies[i]!), batchIsFollowing(scripts, keys, d.fromUserId, d.toUserIds))));
const flags = answers.map((a) => (a.status === "ok" ? a.following : []));

row(
  "decode the request (100 ids)",
  timeSync((i) => relationV1.BatchIsFollowingRequest.decode(bytes[i]!)),
);
row(
  "check the 100 ids (targetIds)",
  timeSync((i) => targetIds(decoded[i]!.toUserIds)),
);
row(
  "join them into the script's argument (joinIds)",
  timeSync((i) => joinIds(decoded[i]!.toUserIds)),
);
row(
  "  and ioredis's byte length of it",
  timeSync((i) => Buffer.byteLength(joinIds(decoded[i]!.toUserIds))),
);
row(
  "the adapter, a small list's reply: join, 100 lookups in 20 ids",
  await timeAsync((i) => {
    reply = replies[i]!;
    return batchIsFollowing(scripts, keys, decoded[i]!.fromUserId, decoded[i]!.toUserIds);
  }),
);
row(
  "encode the reply (100 flags)",
  timeSync((i) => Buffer.from(relationV1.BatchIsFollowingResponse.encode({ following: flags[i]! }).finish())),
);

writeResult({ ops: OPS, rounds: ROUNDS, rows });
