/**
 * The `users` and `usernames` tables on the shards (migrations/0001_users.sql).
 * Every statement touches one shard; a batch read sends one query per shard.
 * Statements use client-side placeholders (`query`): ids go over the wire as
 * exact integer literals, and IN lists of every length do not each become a
 * server-side prepared statement.
 */
import type { ResultSetHeader, RowDataPacket, ShardedMysql } from "@rs/mysql";
import type { CountApplyResult, LoginRecord, NewUser, UserStore } from "../../domain/ports.js";
import type { CountChange, CountName, StoredProfile } from "../../domain/profile.js";
import { shardQueries } from "../../user.metrics.js";
import { usernameRoutingKey } from "./username-shard.js";

/** Ids per page when scanning a shard for the bloom filter. */
export const SCAN_PAGE_SIZE = 10_000;
const ER_DUP_ENTRY = 1062;
const CLAIM_PENDING = 0;
const CLAIM_CONFIRMED = 1;

/** The columns of each counter; never built from input. */
const COUNT_COLUMNS: Record<CountName, { value: string; version: string }> = {
  following: { value: "follow_count", version: "follow_count_version" },
  follower: { value: "follower_count", version: "follower_count_version" },
};

const PROFILE_COLUMNS = "id, username, avatar, background_image, signature, follow_count, follower_count, revision";

interface ProfileRow extends RowDataPacket {
  id: number;
  username: string;
  avatar: string;
  background_image: string;
  signature: string;
  follow_count: number;
  follower_count: number;
  revision: number;
}

function toStored(r: ProfileRow): StoredProfile {
  return {
    revision: Number(r.revision),
    profile: {
      id: Number(r.id),
      name: r.username,
      avatar: r.avatar,
      backgroundImage: r.background_image,
      signature: r.signature,
      followCount: Number(r.follow_count),
      followerCount: Number(r.follower_count),
    },
  };
}

export class UsersRepository implements UserStore {
  constructor(private readonly sharded: ShardedMysql) {}

  private usernamePool(username: string) {
    return this.sharded.poolFor(usernameRoutingKey(username));
  }

  async claimUsername(username: string, userId: number, nowMs: number): Promise<boolean> {
    shardQueries().inc({ query: "claim_username" });
    try {
      await this.usernamePool(username).query("INSERT INTO usernames (username, user_id, state, claimed_at) VALUES (?, ?, ?, ?)", [
        username,
        userId,
        CLAIM_PENDING,
        nowMs,
      ]);
      return true;
    } catch (err) {
      if ((err as { errno?: unknown }).errno === ER_DUP_ENTRY) return false;
      throw err;
    }
  }

  async takeOverAbandonedClaim(username: string, claimedBeforeMs: number): Promise<boolean> {
    shardQueries().inc({ query: "take_over_claim" });
    const [res] = await this.usernamePool(username).query<ResultSetHeader>("DELETE FROM usernames WHERE username = ? AND state = ? AND claimed_at < ?", [
      username,
      CLAIM_PENDING,
      claimedBeforeMs,
    ]);
    return res.affectedRows > 0;
  }

  async confirmClaim(username: string, userId: number): Promise<boolean> {
    shardQueries().inc({ query: "confirm_claim" });
    const [res] = await this.usernamePool(username).query<ResultSetHeader>("UPDATE usernames SET state = ? WHERE username = ? AND user_id = ? AND state = ?", [
      CLAIM_CONFIRMED,
      username,
      userId,
      CLAIM_PENDING,
    ]);
    return res.affectedRows === 1;
  }

  async releaseClaim(username: string, userId: number): Promise<void> {
    shardQueries().inc({ query: "release_claim" });
    await this.usernamePool(username).query("DELETE FROM usernames WHERE username = ? AND user_id = ? AND state = ?", [username, userId, CLAIM_PENDING]);
  }

  async insertUser(user: NewUser): Promise<void> {
    shardQueries().inc({ query: "insert_user" });
    await this.sharded
      .poolFor(user.id)
      .query("INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", [
        user.id,
        user.username,
        user.passwordHash,
        user.nowMs,
        user.nowMs,
      ]);
  }

  async deleteUser(userId: number): Promise<void> {
    shardQueries().inc({ query: "delete_user" });
    await this.sharded.poolFor(userId).query("DELETE FROM users WHERE id = ?", [userId]);
  }

  async findLogin(username: string): Promise<LoginRecord | undefined> {
    shardQueries().inc({ query: "find_username" });
    const [names] = await this.usernamePool(username).query<RowDataPacket[]>("SELECT user_id FROM usernames WHERE username = ? AND state = ?", [
      username,
      CLAIM_CONFIRMED,
    ]);
    const userId = names[0] ? Number(names[0].user_id) : undefined;
    if (userId === undefined) return undefined;
    shardQueries().inc({ query: "find_password_hash" });
    const [users] = await this.sharded.poolFor(userId).query<RowDataPacket[]>("SELECT password_hash FROM users WHERE id = ?", [userId]);
    const hash = users[0]?.password_hash as string | undefined;
    return hash === undefined ? undefined : { userId, passwordHash: hash };
  }

  async updatePasswordHash(userId: number, passwordHash: string, nowMs: number): Promise<void> {
    shardQueries().inc({ query: "update_password_hash" });
    await this.sharded.poolFor(userId).query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", [passwordHash, nowMs, userId]);
  }

  async getProfiles(ids: readonly number[]): Promise<Map<number, StoredProfile>> {
    const found = new Map<number, StoredProfile>();
    if (ids.length === 0) return found;
    const groups = this.sharded.groupByShard(ids, (id) => id);
    await Promise.all(
      [...groups].map(async ([physical, shardIds]) => {
        shardQueries().inc({ query: "get_profiles" });
        const [rows] = await this.sharded.pool(physical).query<ProfileRow[]>(`SELECT ${PROFILE_COLUMNS} FROM users WHERE id IN (?)`, [shardIds]);
        for (const row of rows) found.set(Number(row.id), toStored(row));
      }),
    );
    return found;
  }

  async applyCount(change: CountChange, nowMs: number): Promise<CountApplyResult> {
    const col = COUNT_COLUMNS[change.name];
    const pool = this.sharded.poolFor(change.userId);
    shardQueries().inc({ query: "apply_count" });
    // LAST_INSERT_ID(expr) hands the new revision back in the same statement.
    const [res] = await pool.query<ResultSetHeader>(
      `UPDATE users SET ${col.value} = ?, ${col.version} = ?, revision = LAST_INSERT_ID(revision + 1), updated_at = ?
       WHERE id = ? AND ${col.version} < ?`,
      [change.value, change.version, nowMs, change.userId, change.version],
    );
    if (res.affectedRows === 1) return { applied: true, revision: Number(res.insertId) };
    shardQueries().inc({ query: "read_count_version" });
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT revision, ${col.version} AS version FROM users WHERE id = ?`, [change.userId]);
    const row = rows[0];
    // The same version again: a redelivery. Invalidate once more in case the first attempt's invalidation failed.
    if (row && Number(row.version) === change.version) return { applied: false, revision: Number(row.revision) };
    return { applied: false };
  }

  async scanUserIds(onPage: (ids: number[]) => Promise<void>): Promise<void> {
    for (let physical = 0; physical < this.sharded.physicalCount; physical++) {
      let after = 0;
      for (;;) {
        shardQueries().inc({ query: "scan_user_ids" });
        const [rows] = await this.sharded
          .pool(physical)
          .query<RowDataPacket[]>(`SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ${SCAN_PAGE_SIZE}`, [after]);
        const ids = rows.map((r) => Number(r.id));
        if (ids.length > 0) await onPage(ids);
        if (ids.length < SCAN_PAGE_SIZE) break;
        after = ids[ids.length - 1]!;
      }
    }
  }
}
