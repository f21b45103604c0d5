/**
 * What a client that must still authenticate may send: Redis's limits, so
 * that a stranger cannot make the server buffer large requests before it
 * has shown a password. Both decoders apply them while their
 * `unauthenticated` flag is set.
 *
 * @module
 */

/**
 * Most arguments in a request from a client that must still authenticate
 * (Redis's limit: `-ERR Protocol error: unauthenticated multibulk length`).
 */
export const UNAUTHENTICATED_MAX_ARGS = 10;
/**
 * Longest argument (RESP) or line (text protocol) from a client that must
 * still authenticate (Redis's limit for bulks: `-ERR Protocol error:
 * unauthenticated bulk length`).
 */
export const UNAUTHENTICATED_MAX_BYTES = 16 * 1024;
