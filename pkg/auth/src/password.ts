import { hash, parseOptions, verify } from "@node-rs/bcrypt";

/** bcrypt reads at most 72 bytes of a password; longer ones are refused, not silently cut. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;
/** Cost accepted by bcrypt: 4..31. */
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;

/** True when bcrypt can hash `password` whole (callers validate input with it). */
export function passwordFitsBcrypt(password: string): boolean {
  return Buffer.byteLength(password, "utf8") <= BCRYPT_MAX_PASSWORD_BYTES;
}

/** Hashes a password with bcrypt at `cost` off the event loop (native thread pool). */
export async function hashPassword(password: string, cost: number): Promise<string> {
  if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST)
    throw new RangeError(`bcrypt cost must be ${BCRYPT_MIN_COST}..${BCRYPT_MAX_COST}`);
  if (!passwordFitsBcrypt(password)) throw new RangeError(`password longer than ${BCRYPT_MAX_PASSWORD_BYTES} bytes`);
  return hash(password, { cost, rejectLongPasswords: true });
}

/** Checks a password against a stored hash; a malformed hash is simply "no". */
export async function verifyPassword(password: string, storedHash: string): Promise<boolean> {
  if (!passwordFitsBcrypt(password)) return false;
  return verify(password, storedHash);
}

/** True when `storedHash` was made with a cost other than `cost` (rehash after a successful login). */
export function needsRehash(storedHash: string, cost: number): boolean {
  try {
    return parseOptions(storedHash).cost !== cost;
  } catch {
    return true;
  }
}
