/**
 * Redis's memory bound and what happens at it, for the local stack (infra.ts)
 * and, with the same values, deploy/docker/compose.infra.yml
 * (docs/reliability.md, "Bounds").
 *
 * - `maxmemory`: Redis never grows past it (`RS_REDIS_MAXMEMORY` locally,
 *   `REDIS_MAXMEMORY` in compose).
 * - `maxmemory-policy volatile-ttl`: at the bound Redis evicts only keys that
 *   have a lifetime, those closest to expiring first. Keys without one are
 *   never evicted: the relation pending overlay and outboxes (and their index),
 *   the user-id bloom filter, markers. The keys with a lifetime are caches and
 *   negative entries (re-read from the shards), rate-limit buckets, leases,
 *   and token revocations: those last live as long as the token (days), so
 *   with volatile-ttl they are among the last to go, while volatile-lru would
 *   evict them first (a revoked token is not used again, so its mark is idle).
 *   When nothing evictable is left, writes fail ("OOM command not allowed")
 *   and the services answer UNAVAILABLE; reads go on.
 * - `hash-max-listpack-entries 512`: the count service's cache buckets hold up
 *   to COUNT_CACHE_BUCKET_FIELDS (512) counters and rely on staying
 *   listpack-encoded (Redis's default is 128).
 * - `zset-max-listpack-entries 8192` and `set-max-intset-entries 8192`: the
 *   relation cache keeps `following:{A}` (up to FOLLOWING_CAP, 5 000, + its
 *   sentinel) a listpack, 23 B per edge instead of a skiplist's 129 B, with
 *   its membership index `following-ix:{A}` an intset beside it (8 B per
 *   edge, binary-searched), docs/adr/0019-compact-following-lists.md
 *   (Redis's defaults are 128 and 512; without them the lists work, with
 *   more memory).
 */
export const REDIS_MAXMEMORY_DEFAULT = "512mb";
export const REDIS_MAXMEMORY_POLICY = "volatile-ttl";
export const REDIS_HASH_MAX_LISTPACK_ENTRIES = 512;
export const REDIS_ZSET_MAX_LISTPACK_ENTRIES = 8192;
export const REDIS_SET_MAX_INTSET_ENTRIES = 8192;

/** The encoding limits the caches rely on (also given to the test clusters' masters). */
export function redisEncodingArgs(): string[] {
  return [
    "--hash-max-listpack-entries",
    String(REDIS_HASH_MAX_LISTPACK_ENTRIES),
    "--zset-max-listpack-entries",
    String(REDIS_ZSET_MAX_LISTPACK_ENTRIES),
    "--set-max-intset-entries",
    String(REDIS_SET_MAX_INTSET_ENTRIES),
  ];
}

/** The redis-server arguments of the bound; `maxmemory` as Redis takes it (`512mb`, bytes, ...). */
export function redisMemoryArgs(maxmemory = process.env.RS_REDIS_MAXMEMORY || REDIS_MAXMEMORY_DEFAULT): string[] {
  return ["--maxmemory", maxmemory, "--maxmemory-policy", REDIS_MAXMEMORY_POLICY, ...redisEncodingArgs()];
}
