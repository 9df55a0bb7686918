/**
 * The load: users registered through the gateway, each writing follows and
 * unfollows of its own bounded target set, one request at a time (so the
 * writes of a pair are ordered), with reads in between. Every request has a
 * client timeout; every answer is recorded, and every write's outcome goes
 * into the acknowledged-state model.
 */
import type { AckModel, Outcome, WriteOp } from "./model.js";

export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly ms: number;
  /** no HTTP answer: timeout or connection failure */
  readonly failure?: string;
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async call(method: "GET" | "POST", path: string, o: { token?: string; body?: unknown } = {}): Promise<Answer> {
    const t0 = Date.now();
    try {
      const res = await fetch(this.baseUrl + path, {
        method,
        headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { "content-type": "application/json" } : {}) },
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body, ms: Date.now() - t0 };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { status: 0, body: undefined, ms: Date.now() - t0, failure: e.name === "TimeoutError" ? "timeout" : (e.cause?.code ?? e.message) };
    }
  }
}

export interface ChaosUser {
  readonly id: number;
  readonly name: string;
  readonly token: string;
  /** the users it follows and unfollows: it is the only writer of these pairs */
  targets: number[];
}

/** One request as the harness saw it. */
export interface RequestRecord {
  readonly kind: WriteOp | "read";
  readonly route: string;
  readonly user: number;
  /** when it was sent, ms since the epoch */
  readonly at: number;
  readonly ms: number;
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly failure?: string;
}

/** A small seeded PRNG (mulberry32), so a run's choices can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function outcomeOf(a: Answer): Outcome {
  if (a.status >= 200 && a.status < 300) return "ack";
  if (a.status >= 400 && a.status < 500) return "refused";
  return "unknown";
}

/** Registers `n` users (each retried within `deadlineMs`), and gives each `targets` others to write. */
export async function registerUsers(
  gw: GatewayClient,
  n: number,
  targets: number,
  tag: string,
  random: () => number,
  deadlineMs = 60_000,
): Promise<ChaosUser[]> {
  const deadline = Date.now() + deadlineMs;
  const users = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const name = `chaos_${tag}_${i}`;
      for (;;) {
        const a = await gw.call("POST", "/api/user/register", { body: { username: name, password: "chaos-harness-pw" } });
        if (a.status === 201) return { id: Number(a.body.userId), name, token: String(a.body.token), targets: [] as number[] };
        if (Date.now() > deadline) throw new Error(`registering ${name} failed: ${a.status} ${a.failure ?? JSON.stringify(a.body)}`);
        await sleep(500);
      }
    }),
  );
  for (const u of users) {
    const others = users.filter((o) => o.id !== u.id).map((o) => o.id);
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    u.targets = others.slice(0, targets);
  }
  return users;
}

export interface LoadOptions {
  /** the load stops once this returns true (checked before each request) */
  readonly stop: () => boolean;
  readonly maxOpsPerUser: number;
  /** pause between one user's requests */
  readonly paceMs: number;
  /** share of requests that are reads */
  readonly readShare: number;
}

export class LoadDriver {
  constructor(
    private readonly gw: GatewayClient,
    private readonly users: readonly ChaosUser[],
    private readonly model: AckModel,
    private readonly random: () => number,
    private readonly onRequest: (r: RequestRecord) => void,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  private record(kind: RequestRecord["kind"], route: string, user: number, at: number, a: Answer): void {
    const body = a.body as { code?: unknown; error?: unknown } | undefined;
    this.onRequest({
      kind,
      route,
      user,
      at,
      ms: a.ms,
      status: a.status,
      ...(typeof body?.code === "string" ? { code: body.code } : {}),
      ...(a.status >= 500 && typeof body?.error === "string" ? { message: body.error } : {}),
      ...(a.failure ? { failure: a.failure } : {}),
    });
  }

  /** One write by `u` on (u, to); its outcome goes into the model. */
  async write(u: ChaosUser, to: number, op: WriteOp): Promise<Outcome> {
    const at = Date.now();
    const a = await this.gw.call("POST", `/api/relation/${op}`, { token: u.token, body: { followUserId: to } });
    const outcome = outcomeOf(a);
    const changed = outcome === "ack" && typeof a.body?.changed === "boolean" ? (a.body.changed as boolean) : undefined;
    this.model.record(u.id, to, op, outcome, changed, at);
    this.record(op, `/api/relation/${op}`, u.id, at, a);
    return outcome;
  }

  private async read(u: ChaosUser): Promise<void> {
    const other = this.pick(this.users).id;
    const choice = this.pick(["following", "is_following", "counts", "profile"] as const);
    const path =
      choice === "following"
        ? `/api/relation/following?userId=${u.id}&limit=50`
        : choice === "is_following"
          ? `/api/relation/is_following?targetUserId=${this.pick(u.targets)}`
          : choice === "counts"
            ? `/api/user/${other}/counts`
            : `/api/user/${other}`;
    const at = Date.now();
    const a = await this.gw.call("GET", path, { token: u.token });
    this.record("read", path.split("?")[0]!.replace(/\/\d+/g, "/:id"), u.id, at, a);
  }

  /** Every user runs its own sequential loop until `stop()` or its op bound. */
  async run(o: LoadOptions): Promise<void> {
    await Promise.all(
      this.users.map(async (u) => {
        for (let i = 0; i < o.maxOpsPerUser && !o.stop(); i++) {
          if (this.random() < o.readShare) await this.read(u);
          else {
            const to = this.pick(u.targets);
            const believed = this.model.believed(u.id, to);
            // mostly flip the edge; sometimes repeat its state (a no-op the service must answer changed=false)
            const op: WriteOp = this.random() < 0.85 ? (believed ? "unfollow" : "follow") : this.random() < 0.5 ? "follow" : "unfollow";
            await this.write(u, to, op);
          }
          await sleep(o.paceMs * (0.5 + this.random()));
        }
      }),
    );
  }

  /**
   * Re-issues the last write of every pair whose outcome is unknown until it
   * is acknowledged or refused (each user's pairs in order), so that every
   * pair's expected state is exact before the check. Bounded by `deadline`.
   */
  async settle(deadline: number): Promise<number> {
    const byUser = new Map<number, Array<{ to: number; op: WriteOp }>>();
    for (const p of this.model.unsettled()) byUser.set(p.from, [...(byUser.get(p.from) ?? []), { to: p.to, op: p.op }]);
    let sent = 0;
    await Promise.all(
      [...byUser].map(async ([from, pairs]) => {
        const u = this.users.find((x) => x.id === from)!;
        for (const p of pairs) {
          while (Date.now() < deadline) {
            sent++;
            if ((await this.write(u, p.to, p.op)) !== "unknown") break;
            await sleep(1_000);
          }
        }
      }),
    );
    return sent;
  }
}
