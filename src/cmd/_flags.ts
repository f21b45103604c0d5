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
import type { DisplayMode } from "../repl/display.ts";

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
 * Loads the config file `path` (or the defaults when undefined); returns
 * exit code 2 instead after printing a bad config's error.
 *
 * @example
 * ```ts
 * const config = await loadConfigFlag("configs/config.yaml");
 * if (typeof config === "number") return config;
 * ```
 */
export async function loadConfigFlag(path: string | undefined): Promise<Config | number> {
  try {
    return await loadConfig(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`kvdb: config error: ${e.message}`);
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
  return await loadConfigFlag(parsed.values.config as string | undefined);
}

/**
 * `--raw` and `--no-raw`: how the REPL shows replies (see {@link displayMode}).
 *
 * @example
 * ```ts
 * parseFlags(args, { config: { type: "string" }, ...DISPLAY_FLAGS }, USAGE);
 * ```
 */
export const DISPLAY_FLAGS: ParseArgsOptionsConfig = {
  raw: { type: "boolean" },
  "no-raw": { type: "boolean" },
};

/**
 * The display mode from {@link DISPLAY_FLAGS}: `--raw` raw, `--no-raw` for
 * a person, neither: for a person when standard output is a terminal, raw
 * otherwise (as redis-cli decides). Both flags: a usage error (exit 2).
 *
 * @example
 * ```ts
 * displayMode({ values: { raw: true }, positionals: [] }, USAGE); // "raw"
 * ```
 */
export function displayMode(parsed: ParsedFlags, usage: string): DisplayMode | number {
  if (parsed.values.raw && parsed.values["no-raw"]) {
    console.error(`kvdb: --raw and --no-raw contradict each other\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (parsed.values.raw) return "raw";
  if (parsed.values["no-raw"]) return "tty";
  return Deno.stdout.isTerminal() ? "tty" : "raw";
}
