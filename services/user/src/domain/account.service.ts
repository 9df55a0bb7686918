/**
 * Accounts: register, login, logout and token verification.
 *
 * Register writes two shards without a distributed transaction: it claims the
 * username in the username's shard (pending), inserts the user in the id's
 * shard, then confirms the claim. A failed insert releases the claim; a crash
 * leaves a pending claim that the next register of that name takes over once it
 * is older than the grace period (docs/adr/0008-user-accounts-and-profile-cache.md).
 */
import { hashPassword, isTokenError, needsRehash, verifyPassword, type RevocationStore, type TokenIssuer, type TokenVerifier } from "@rs/auth";
import { alreadyExists, StatusError, unauthenticated, unavailable } from "@rs/errors";
import type { Logger } from "@rs/logger";
import type { ExistenceFilter, IdSource, ProfileCache, UserStore } from "./ports.js";
import { checkPassword, checkUsername } from "./user-input.js";

/** The same answer for an unknown name and a wrong password, so neither is revealed. */
const LOGIN_REFUSED = "wrong username or password";

export interface AccountServiceDeps {
  readonly store: UserStore;
  readonly cache: ProfileCache;
  readonly existence: ExistenceFilter;
  readonly ids: IdSource;
  readonly issuer: TokenIssuer;
  /** Verifies tokens including revocation. */
  readonly verifier: TokenVerifier;
  readonly revocations: RevocationStore;
  readonly bcryptCost: number;
  /**
   * A bcrypt hash at `bcryptCost` of a password nobody knows: a login of an
   * unknown name is checked against it, so it costs what a real check costs.
   */
  readonly decoyHash: string;
  /** Age after which a pending username claim counts as abandoned. */
  readonly claimGraceMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A signed-in session: the user and an access token. */
export interface Session {
  readonly userId: number;
  readonly token: string;
}

/** What a valid token says. */
export interface TokenClaims {
  readonly userId: number;
  readonly jti: string;
  readonly expiresAtUnix: number;
}

export class AccountService {
  private readonly now: () => number;

  constructor(private readonly deps: AccountServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Creates an account; ALREADY_EXISTS when the username is taken. */
  async register(rawUsername: string, rawPassword: string): Promise<Session> {
    const username = checkUsername(rawUsername);
    const password = checkPassword(rawPassword);
    const { store } = this.deps;
    // The slow part first, so the username is claimed for as short a time as possible.
    const passwordHash = await hashPassword(password, this.deps.bcryptCost);
    const userId = this.mintId();
    // Before the row exists: the filter may hold ids that never became users
    // (a false positive, harmless), never a user it does not hold.
    await this.deps.existence.add(userId);

    await this.claim(username, userId);
    try {
      await store.insertUser({ id: userId, username, passwordHash, nowMs: this.now() });
    } catch (err) {
      await store.releaseClaim(username, userId).catch((releaseErr: unknown) => {
        // The claim stays pending and is taken over after the grace period.
        this.deps.logger.warn({ err: releaseErr, userId }, "releasing a username claim failed");
      });
      throw err;
    }
    if (!(await store.confirmClaim(username, userId))) {
      // Our claim was taken over as abandoned while we were slow: the name is
      // someone else's now, and this row must not become a second account.
      await store.deleteUser(userId).catch((err: unknown) => this.deps.logger.warn({ err, userId }, "removing an orphaned user row failed"));
      throw alreadyExists("username is taken");
    }
    // Clears a "no such user" an early lookup of this id may have cached.
    await this.deps.cache.invalidate(userId, 0).catch((err: unknown) => this.deps.logger.warn({ err, userId }, "profile cache invalidation failed"));
    return { userId, token: this.deps.issuer.issue(userId).token };
  }

  /** Checks the password and issues a token; UNAUTHENTICATED alike for an unknown name and a wrong password. */
  async login(rawUsername: string, rawPassword: string): Promise<Session> {
    const username = checkUsername(rawUsername);
    const password = checkPassword(rawPassword);
    const record = await this.deps.store.findLogin(username);
    // Always one bcrypt check at the configured cost, whether or not the name exists.
    const ok = await verifyPassword(password, record?.passwordHash ?? this.deps.decoyHash);
    if (!record || !ok) throw unauthenticated(LOGIN_REFUSED);
    if (needsRehash(record.passwordHash, this.deps.bcryptCost)) this.rehashInBackground(record.userId, password);
    return { userId: record.userId, token: this.deps.issuer.issue(record.userId).token };
  }

  /** Revokes the token's id until the token would have expired. Logging out twice is fine. */
  async logout(token: string): Promise<void> {
    const claims = (() => {
      try {
        return this.deps.verifier.verifyStateless(token);
      } catch (err) {
        throw this.tokenRefusal(err);
      }
    })();
    await this.deps.revocations.revoke(claims.jti, claims.expiresAt);
  }

  /** The claims of a valid, unrevoked token; UNAUTHENTICATED (with the reason) otherwise. */
  async verifyToken(token: string): Promise<TokenClaims> {
    try {
      const claims = await this.deps.verifier.verify(token);
      return { userId: Number(claims.userId), jti: claims.jti, expiresAtUnix: claims.expiresAt };
    } catch (err) {
      throw this.tokenRefusal(err);
    }
  }

  private tokenRefusal(err: unknown): Error {
    if (isTokenError(err)) return unauthenticated(err.message);
    // The revocation store could not be asked: not the token's fault.
    if (err instanceof StatusError) return err;
    this.deps.logger.warn({ err }, "token check failed for a reason other than the token");
    return unavailable("token check unavailable");
  }

  private mintId(): number {
    try {
      return this.deps.ids.next();
    } catch (err) {
      this.deps.logger.warn({ err }, "cannot mint a user id");
      throw unavailable("cannot mint user ids right now");
    }
  }

  /** Claims the name; takes over a claim abandoned by a crashed register once. */
  private async claim(username: string, userId: number): Promise<void> {
    const { store } = this.deps;
    const now = this.now();
    if (await store.claimUsername(username, userId, now)) return;
    if ((await store.takeOverAbandonedClaim(username, now - this.deps.claimGraceMs)) && (await store.claimUsername(username, userId, now))) return;
    throw alreadyExists("username is taken");
  }

  private rehashInBackground(userId: number, password: string): void {
    void hashPassword(password, this.deps.bcryptCost)
      .then((hash) => this.deps.store.updatePasswordHash(userId, hash, this.now()))
      .catch((err: unknown) => this.deps.logger.warn({ err, userId }, "rehashing a password failed"));
  }
}
