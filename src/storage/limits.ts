/**
 * The size limits of keys and values, whether or not the WAL is on: the
 * WAL's record limits, so that everything the store holds can be logged.
 *
 * @example
 * ```ts
 * if (value.length > MAX_VALUE_BYTES) throw new RangeError("value too large");
 * ```
 * @module
 */

import { WAL_MAX_KEY_BYTES, WAL_MAX_VALUE_BYTES } from "../wal/record.ts";

/**
 * Largest key stored: 1 MiB.
 *
 * @example
 * ```ts
 * MAX_KEY_BYTES; // 1048576
 * ```
 */
export const MAX_KEY_BYTES = WAL_MAX_KEY_BYTES;

/**
 * Largest value stored: 64 MiB (kvdb's `proto-max-bulk-len`).
 *
 * @example
 * ```ts
 * MAX_VALUE_BYTES; // 67108864
 * ```
 */
export const MAX_VALUE_BYTES = WAL_MAX_VALUE_BYTES;
