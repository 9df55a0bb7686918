/** The relation service: follow/unfollow (Redis first, then Kafka) and every relation query. */
export { startRelationService, type RelationServiceInternals } from "./relation.process.js";
export { relationConfigSchema, relationCacheSettings, loadRelationConfig, RELATION_DEFAULTS, type RelationConfig } from "./config.js";
export { toRecord } from "./adapters/kafka/relation-events.publisher.js";
export { toRelationEvent } from "./adapters/kafka/relation-event.codec.js";
export { decodeCursor, encodeCursor, type CursorPosition } from "./domain/cursor.js";
export type { RelationTransition, RelationAction } from "./domain/relation-transition.js";
