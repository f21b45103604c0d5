/**
 * Size and duration values as config files write them.
 *
 * Sizes: a whole number of bytes, or a number with a unit. `B`, `KB`, `MB`,
 * `GB` are decimal (1 KB = 1000 B) and `KiB`, `MiB`, `GiB` binary
 * (1 KiB = 1024 B), as SI and IEC define them; units are case-insensitive.
 * Durations: one or more `<number><unit>` parts (`10ms`, `1s`, `1m30s`)
 * with units `ms`, `s`, `m`, `h`, as Go's `time.ParseDuration` reads them.
 *
 * @example
 * ```ts
 * parseSize("4KB"); // 4000
 * parseSize("4KiB"); // 4096
 * parseDurationMs("1m30s"); // 90000
 * ```
 * @module
 */

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Thrown for a value that is not a size or duration; says what would be. */
export class UnitError extends Error {}

/**
 * Parses a size (`4KB`, `10MiB`, `512`, `1.5GB`) into whole bytes.
 *
 * @example
 * ```ts
 * parseSize("10MB"); // 10_000_000
 * ```
 */
export function parseSize(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UnitError("must be a whole, non-negative number of bytes");
    }
    return value;
  }
  if (typeof value !== "string") {
    throw new UnitError("must be a size such as 4KB, 10MiB or 512B");
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = match?.[2].toLowerCase() || "b";
  const factor = SIZE_UNITS[unit];
  if (!match || factor === undefined) {
    throw new UnitError(
      "must be a size: a number with unit B, KB, MB, GB, KiB, MiB or GiB",
    );
  }
  // Decimal fractions are inexact in binary: 4.1 * 1e6 is 4099999.9999999995.
  const exact = Number(match[1]) * factor;
  const bytes = Math.round(exact);
  if (Math.abs(exact - bytes) > 1e-6 || !Number.isSafeInteger(bytes)) {
    throw new UnitError("must be a whole number of bytes");
  }
  return bytes;
}

/**
 * Parses a duration (`10ms`, `5m`, `1h30m`, `0`) into milliseconds.
 *
 * @example
 * ```ts
 * parseDurationMs("5m"); // 300_000
 * ```
 */
export function parseDurationMs(value: unknown): number {
  if (value === 0 || value === "0") return 0;
  if (typeof value !== "string") {
    throw new UnitError("must be a duration with a unit, such as 10ms, 1s, 5m");
  }
  const text = value.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let totalMs = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (!match) {
      throw new UnitError(
        "must be a duration such as 10ms, 1s, 5m, 1h or 1m30s (units ms, s, m, h)",
      );
    }
    totalMs += Number(match[1]) * DURATION_UNITS_MS[match[2]];
    at = part.lastIndex;
  }
  if (text.length === 0) throw new UnitError("must not be empty");
  if (!Number.isSafeInteger(Math.round(totalMs))) {
    throw new UnitError("is too long");
  }
  if (totalMs > 0 && Math.round(totalMs) === 0) {
    throw new UnitError("must be at least 1ms (or 0)");
  }
  return Math.round(totalMs);
}

/**
 * Formats bytes with the largest binary unit that divides them exactly.
 *
 * @example
 * ```ts
 * formatSize(4096); // "4KiB"
 * ```
 */
export function formatSize(bytes: number): string {
  for (const unit of ["GiB", "MiB", "KiB"]) {
    const factor = SIZE_UNITS[unit.toLowerCase()];
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  for (const unit of ["GB", "MB", "KB"]) {
    const factor = SIZE_UNITS[unit.toLowerCase()];
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}
