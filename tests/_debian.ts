/**
 * The Debian packages the tests drive (redis-server, redis-tools,
 * redis-sentinel, haproxy, nutcracker, python3-redis), installed with
 * apt-get when absent — once per package per test process — as .ci/run
 * installs them, so a test file run alone on a fresh machine works too.
 *
 * ```ts
 * await ensureDebianPackage("redis-tools", () => runs("redis-cli"));
 * ```
 *
 * @module
 */

const decoder = new TextDecoder();
const installing = new Map<string, Promise<void>>();

/**
 * Whether `program args...` runs and exits 0 (`--version` by default).
 *
 * ```ts
 * if (!await runs("haproxy", ["-v"])) console.log("no haproxy");
 * ```
 */
export async function runs(program: string, args = ["--version"]): Promise<boolean> {
  try {
    return (await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/**
 * Makes `present()` true by installing Debian's `pkg` when it is false;
 * throws saying why when that fails.
 *
 * ```ts
 * await ensureDebianPackage("redis-sentinel", () => runs("redis-sentinel"));
 * ```
 */
export function ensureDebianPackage(pkg: string, present: () => Promise<boolean>): Promise<void> {
  let ready = installing.get(pkg);
  if (ready === undefined) {
    ready = (async () => {
      if (await present()) return;
      for (const args of [["update"], ["install", "-y", pkg]]) {
        const out = await new Deno.Command("apt-get", {
          args,
          stdout: "null",
          stderr: "piped",
          env: { DEBIAN_FRONTEND: "noninteractive" },
        }).output().catch((e) => {
          throw new Error(`${pkg} is missing and apt-get could not run: ${e}`);
        });
        if (!out.success) {
          throw new Error(
            `${pkg} is missing; apt-get ${args.join(" ")} failed:\n${decoder.decode(out.stderr)}`,
          );
        }
      }
      if (!await present()) throw new Error(`${pkg} still missing after apt-get install`);
    })();
    installing.set(pkg, ready);
  }
  return ready;
}
