/**
 * A Bloom filter on plain Redis bitmaps (the Redis here has no RedisBloom
 * module). Each item's k bits live in one shard bitmap, so an item costs one
 * BITFIELD; a batch costs one pipeline, i.e. one round trip.
 */
import type { Cluster, Redis } from "ioredis";
import { bloomLayout, bloomPositions, DEFAULT_MAX_BITS_PER_SHARD, type BloomLayout } from "./bloom-math.js";

/** Items per BITFIELD command in batch calls: bounds one command's size and Redis's time inside it. */
export const BLOOM_BATCH_ITEMS_PER_COMMAND = 512;

export interface RedisBloomFilterOptions {
  /** Logical name, e.g. `bloom:users`. Shard keys are `{name}:<i>` and the layout `{name}:layout`. */
  readonly name: string;
  readonly expectedItems: number;
  readonly falsePositiveRate: number;
  /** Default {@link DEFAULT_MAX_BITS_PER_SHARD}. */
  readonly maxBitsPerShard?: number;
}

/** Thrown by {@link RedisBloomFilter.init} when Redis holds a filter of another layout under the same name. */
export class BloomLayoutMismatchError extends Error {
  constructor(name: string) {
    super(`bloom filter ${name} exists with another layout; rebuild it under a new name`);
    this.name = "BloomLayoutMismatchError";
  }
}

type Op = "GET" | "SET";

export class RedisBloomFilter {
  readonly layout: BloomLayout;
  private readonly keys: string[];
  private readonly layoutKey: string;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: RedisBloomFilterOptions,
  ) {
    this.layout = bloomLayout(options.expectedItems, options.falsePositiveRate, options.maxBitsPerShard ?? DEFAULT_MAX_BITS_PER_SHARD);
    // One hash tag for all shards: a Redis Cluster keeps them in one slot, so a
    // batch stays one pipeline to one node.
    const tag = `{${options.name}}`;
    this.keys = Array.from({ length: this.layout.shards }, (_, i) => `${tag}:${i}`);
    this.layoutKey = `${tag}:layout`;
  }

  /** Every Redis key this filter uses (for deletion in tests and rebuilds). */
  get redisKeys(): readonly string[] {
    return [...this.keys, this.layoutKey];
  }

  /**
   * Records the layout on first use and refuses to run on bits written with
   * another one (other bit positions would mean false negatives).
   */
  async init(): Promise<void> {
    const l = this.layout;
    const want = `${l.bitsPerShard}x${l.shards}k${l.hashes}`;
    await this.redis.set(this.layoutKey, want, "NX");
    if ((await this.redis.get(this.layoutKey)) !== want) throw new BloomLayoutMismatchError(this.options.name);
  }

  /** Adds one item; true when it was (probably) not there before. */
  async add(item: string): Promise<boolean> {
    const { shard, offsets } = bloomPositions(item, this.layout);
    const old = (await this.redis.call("BITFIELD", this.keys[shard]!, ...bitfieldArgs("SET", offsets))) as number[];
    return old.some((b) => b === 0);
  }

  /** Adds many items in one round trip. */
  async addMany(items: readonly string[]): Promise<void> {
    await this.batch("SET", items);
  }

  /** False means certainly absent; true means present, or a false positive at about the configured rate. */
  async mightContain(item: string): Promise<boolean> {
    const { shard, offsets } = bloomPositions(item, this.layout);
    const bits = (await this.redis.call("BITFIELD_RO", this.keys[shard]!, ...bitfieldArgs("GET", offsets))) as number[];
    return bits.every((b) => b === 1);
  }

  /** {@link mightContain} for each item, in one round trip; answers in the order asked. */
  async mightContainMany(items: readonly string[]): Promise<boolean[]> {
    return this.batch("GET", items);
  }

  /** Groups items by shard, one BITFIELD per chunk, all in one pipeline. */
  private async batch(op: Op, items: readonly string[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const k = this.layout.hashes;
    const byShard = new Map<number, { index: number[]; args: number[] }>();
    items.forEach((item, index) => {
      const { shard, offsets } = bloomPositions(item, this.layout);
      let group = byShard.get(shard);
      if (!group) byShard.set(shard, (group = { index: [], args: [] }));
      group.index.push(index);
      group.args.push(...offsets);
    });
    const pipeline = this.redis.pipeline();
    const commands: number[][] = []; // item indexes answered by each command, in order
    const perCommand = BLOOM_BATCH_ITEMS_PER_COMMAND;
    for (const [shard, group] of byShard) {
      for (let from = 0; from < group.index.length; from += perCommand) {
        const offsets = group.args.slice(from * k, (from + perCommand) * k);
        pipeline.call(op === "GET" ? "BITFIELD_RO" : "BITFIELD", this.keys[shard]!, ...bitfieldArgs(op, offsets));
        commands.push(group.index.slice(from, from + perCommand));
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const answer = new Array<boolean>(items.length).fill(false);
    replies.forEach(([err, reply], c) => {
      if (err) throw err;
      const bits = reply as number[];
      const indexes = commands[c]!;
      indexes.forEach((itemIndex, j) => {
        let all = true;
        for (let i = 0; i < k; i++) if (bits[j * k + i] !== 1) all = false;
        // For SET the reply is the old bits: true means "was already there".
        answer[itemIndex] = all;
      });
    });
    return answer;
  }
}

function bitfieldArgs(op: Op, offsets: readonly number[]): (string | number)[] {
  const args: (string | number)[] = [];
  for (const o of offsets) {
    if (op === "GET") args.push("GET", "u1", o);
    else args.push("SET", "u1", o, 1);
  }
  return args;
}
