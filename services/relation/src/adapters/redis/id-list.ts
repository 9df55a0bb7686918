/**
 * User ids as one script argument: decimal, joined by commas (is-following.lua
 * splits them). One argument instead of a hundred spares ioredis a hundred
 * conversions and RESP headers per call.
 */

const LOW_DIGITS = 8;
const LOW = 10 ** LOW_DIGITS;
const ZEROS = "0".repeat(LOW_DIGITS);

/**
 * `ids.join(",")` for positive safe integers, about twice as fast: an id past
 * 2^31 is a heap number, which V8 formats through its double-to-string path;
 * its two halves below 10^8 take the small-integer one.
 */
export function joinIds(ids: readonly number[]): string {
  let out = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (i > 0) out += ",";
    if (id < LOW) {
      out += id;
    } else {
      const high = Math.floor(id / LOW);
      const low = String(id - high * LOW);
      out += high + ZEROS.slice(low.length) + low;
    }
  }
  return out;
}
