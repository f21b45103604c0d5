/**
 * Arguments that must never be shown (MONITOR, SLOWLOG), as Redis 7.0
 * redacts them: AUTH's, HELLO's AUTH username and password, everything
 * after ACL SETUSER, and the values of CONFIG SET's sensitive parameters.
 *
 * @example
 * ```ts
 * redactedPositions(["AUTH", "user", "pw"]); // [1, 2]
 * redactedPositions(["GET", "k"]); // []
 * ```
 * @module
 */

/** CONFIG parameters whose values are secrets (Redis's SENSITIVE_CONFIG). */
const SENSITIVE_PARAMETERS = new Set(["requirepass", "masterauth", "masteruser"]);

const NONE: readonly number[] = [];

function upper(s: string | undefined): string {
  return s === undefined ? "" : s.toUpperCase();
}

/**
 * Positions of `args` (name first) to show as `(redacted)`.
 *
 * @example
 * ```ts
 * redactedPositions(["ACL", "SETUSER", "u", ">pw"]); // [2, 3]
 * ```
 */
export function redactedPositions(args: readonly string[]): readonly number[] {
  // The longest name redacted is CONFIG: longer ones are not upper-cased.
  const name = args.length === 0 || args[0].length > 6 ? "" : upper(args[0]);
  if (name === "AUTH") return args.slice(1).map((_, i) => i + 1);
  if (name === "HELLO") {
    for (let i = 2; i + 2 < args.length; i++) {
      if (upper(args[i]) === "AUTH") return [i + 1, i + 2];
    }
    return NONE;
  }
  if (name === "ACL" && upper(args[1]) === "SETUSER") return args.slice(2).map((_, i) => i + 2);
  if (name === "CONFIG" && upper(args[1]) === "SET") {
    const out: number[] = [];
    for (let i = 2; i + 1 < args.length; i += 2) {
      if (SENSITIVE_PARAMETERS.has(args[i].toLowerCase())) out.push(i + 1);
    }
    return out;
  }
  return NONE;
}

/** What a redacted argument is shown as. */
export const REDACTED = "(redacted)";
