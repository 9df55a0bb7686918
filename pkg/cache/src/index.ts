/**
 * Caching building blocks: singleflight, TTL jitter, a Bloom filter on Redis
 * bitmaps, an in-process cache of the hottest keys, and coalescing of batched
 * lookups made in one turn of the event loop.
 */
export { Singleflight } from "./singleflight.js";
export { ttlWithJitter } from "./ttl-jitter.js";
export { bloomLayout, bloomPositions, expectedFalsePositiveRate, DEFAULT_MAX_BITS_PER_SHARD, type BloomLayout, type BloomPositions } from "./bloom-math.js";
export { RedisBloomFilter, BloomLayoutMismatchError, BLOOM_BATCH_ITEMS_PER_COMMAND, type RedisBloomFilterOptions } from "./redis-bloom-filter.js";
export { SlidingWindowTopK, DEFAULT_MAX_KEYS_PER_BUCKET, type SlidingWindowTopKOptions } from "./sliding-window-top-k.js";
export { HotKeyCache, hotKeyCache, HOT_KEY_DEFAULTS, type HotKeyCacheOptions, type HotKeyCacheStats, type HotKeySettings } from "./hot-key-cache.js";
export { BatchCoalescer, type BatchCoalescerOptions } from "./batch-coalescer.js";
