/**
 * Passwords as Redis keeps them: only their SHA-256, in lower-case hex,
 * compared in constant time; and ACL GENPASS's random hex.
 *
 * @example
 * ```ts
 * const hash = hashPassword("secret");
 * passwordMatches(hash, hashPassword("secret")); // true
 * ```
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { binaryToBytes } from "../bytes/binary_string.ts";

/** Hex characters of a SHA-256: what `#<hash>` must be. */
export const PASSWORD_HASH_CHARS = 64;

/**
 * The SHA-256 of a password given as a binary string (one char per byte),
 * in lower-case hex.
 *
 * @example
 * ```ts
 * hashPassword("").length; // 64
 * ```
 */
export function hashPassword(password: string): string {
  return createHash("sha256").update(binaryToBytes(password)).digest("hex");
}

/**
 * Whether `text` is a password hash as Redis takes it: 64 characters of
 * `0-9a-f` (upper case refused, as Redis refuses it).
 *
 * @example
 * ```ts
 * isPasswordHash("ab"); // false
 * ```
 */
export function isPasswordHash(text: string): boolean {
  return text.length === PASSWORD_HASH_CHARS && /^[0-9a-f]+$/.test(text);
}

/**
 * Compares two hashes in time independent of where they differ (both are
 * 64 hex characters, so their lengths reveal nothing).
 *
 * @example
 * ```ts
 * passwordMatches(hashPassword("a"), hashPassword("b")); // false
 * ```
 */
export function passwordMatches(storedHash: string, givenHash: string): boolean {
  if (storedHash.length !== givenHash.length) return false;
  const encoder = new TextEncoder();
  return timingSafeEqual(encoder.encode(storedHash), encoder.encode(givenHash));
}

/**
 * `chars` random hex characters (ACL GENPASS: `bits` rounded up to a
 * whole hex digit).
 *
 * @example
 * ```ts
 * randomHex(64).length; // 64
 * ```
 */
export function randomHex(chars: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(chars / 2)));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex.slice(0, chars);
}
