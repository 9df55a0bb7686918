import type { Cluster, Redis } from "ioredis";
import type { RevocationChecker } from "./token-verifier.js";
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from "./token-verifier.js";

export const REVOCATION_KEY_PREFIX = "auth:revoked:";
const MAX_JTI_LENGTH = 128;
const MS_PER_SECOND = 1000;

export interface RevocationStoreOptions {
  /** Key prefix; default {@link REVOCATION_KEY_PREFIX}. Tests use their own. */
  readonly keyPrefix?: string;
  /**
   * Seconds a revocation outlives the token's `exp`. A verifier accepts a token up
   * to its clock tolerance after `exp`, so the mark must last that long too;
   * default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}.
   */
  readonly graceSeconds?: number;
  readonly now?: () => number;
}

/**
 * Revoked token ids in Redis, one key each (`SET auth:revoked:<jti> 1 EXAT <exp>`),
 * so a mark costs memory only while the token could still be presented.
 */
export class RevocationStore implements RevocationChecker {
  private readonly prefix: string;
  private readonly grace: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis | Cluster,
    options: RevocationStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? REVOCATION_KEY_PREFIX;
    this.grace = options.graceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    this.now = options.now ?? Date.now;
  }

  /** The Redis key of the mark of `jti` (a gateway checks it inside its own script). */
  keyOf(jti: string): string {
    if (jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new RangeError("jti must be 1-128 characters");
    return this.prefix + jti;
  }

  /** Revokes token `jti` until its expiry `expUnix` (seconds) plus the grace. */
  async revoke(jti: string, expUnix: number): Promise<void> {
    const key = this.keyOf(jti);
    const until = Math.ceil(expUnix) + this.grace;
    // A token past its expiry (and grace) is refused anyway; EXAT in the past would
    // only write and delete the key.
    if (until <= Math.floor(this.now() / MS_PER_SECOND)) return;
    await this.redis.set(key, "1", "EXAT", until);
  }

  /** True when `jti` was revoked and the mark has not expired. */
  async isRevoked(jti: string): Promise<boolean> {
    return (await this.redis.exists(this.keyOf(jti))) === 1;
  }
}
