/**
 * Flag parsing shared by the subcommands: `node:util` parseArgs in strict
 * mode, with `--help`, and one rule for bad usage (a one-line error, the
 * usage, exit code 2).
 *
 * @example
 * ```ts
 * const parsed = parseFlags(args, { config: { type: "string" } }, USAGE);
 * if (typeof parsed === "number") return parsed; // exit code
 * ```
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config/config.ts";

/** Exit code for bad usage and bad configuration. */
export const EXIT_USAGE = 2;

/** Parsed flags and positionals. */
export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args`; returns an exit code instead when it printed help (0) or a
 * usage error (2).
 *
 * @example
 * ```ts
 * parseFlags(["--help"], {}, "usage: kvdb x"); // 0, usage printed
 * ```
 */
export function parseFlags(
  args: string[],
  options: ParseArgsOptionsConfig,
  usage: string,
  allowPositionals = false,
): ParsedFlags | number {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals,
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    return { values: values as ParsedFlags["values"], positionals };
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    console.error(`kvdb: ${message}\n\n${usage}`);
    return EXIT_USAGE;
  }
}

/**
 * Parses `[--config FILE]` and loads that config (or the defaults); returns
 * an exit code instead after help (0), bad usage or a bad config (2).
 *
 * @example
 * ```ts
 * const config = await configFromFlags(args, USAGE);
 * if (typeof config === "number") return config;
 * ```
 */
export async function configFromFlags(args: string[], usage: string): Promise<Config | number> {
  const parsed = parseFlags(args, { config: { type: "string", short: "c" } }, usage);
  if (typeof parsed === "number") return parsed;
  try {
    return await loadConfig(parsed.values.config as string | undefined);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`kvdb: config error: ${e.message}`);
    return EXIT_USAGE;
  }
}
