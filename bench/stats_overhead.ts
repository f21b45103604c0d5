/**
 * The cost of the command statistics (counters, the chunked timer, the
 * slow log's checks) on the executor's hot path, A/B against another
 * checkout's executor (the `core` branch: no statistics) in this same
 * process: each side executes the same SET/GET requests through a RESP
 * writer, in synchronous stretches of `--stretch` requests separated by a
 * microtask checkpoint (as the connections run them), alternating sides
 * for `--rounds` rounds; medians of ns per request.
 *
 *     deno run -A bench/stats_overhead.ts --baseline /work/wt-core [--rounds 9]
 *
 * In-process and without the network, the difference is the executor's
 * own; it is compared with ~800 ns of server CPU per request at pipeline
 * 16 (and several µs unpipelined) to give the share of a request.
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "9" },
    requests: { type: "string", default: "400000" },
    stretches: { type: "string", default: "1,16,400" },
  },
});
if (!flags.baseline) throw new Error("--baseline <checkout> is required");

interface Side {
  name: string;
  run(requests: string[][], stretch: number): Promise<number>;
}

async function side(name: string, root: string): Promise<Side> {
  const { Executor } = await import(`${root}/src/executor/executor.ts`);
  const { Store } = await import(`${root}/src/storage/store.ts`);
  const { Engine } = await import(`${root}/src/storage/engine.ts`);
  const { OutBuffer } = await import(`${root}/src/protocol/out_buffer.ts`);
  const { RespReplyWriter } = await import(`${root}/src/protocol/resp_writer.ts`);
  const { newSession } = await import(`${root}/src/executor/command_spec.ts`);
  const executor = new Executor(new Store(new Engine(16), undefined), { readOnly: false });
  const out = new OutBuffer();
  const w = new RespReplyWriter(out);
  const session = newSession();
  return {
    name,
    async run(requests, stretch) {
      const t0 = performance.now();
      for (let i = 0; i < requests.length;) {
        const end = Math.min(requests.length, i + stretch);
        for (; i < end; i++) executor.execute(requests[i], w, session);
        out.reset();
        await Promise.resolve(); // the event loop's turn: the stretch ends
      }
      return (performance.now() - t0) * 1e6 / requests.length;
    },
  };
}

const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const sides = [await side("baseline", flags.baseline), await side("this", here)];
const n = Number(flags.requests);
const requests: string[][] = [];
for (let i = 0; i < n; i++) {
  const key = `key:${(i * 7919) % 100_000}`;
  requests.push(i % 2 === 0 ? ["SET", key, "xxx"] : ["GET", key]);
}

for (const stretch of flags.stretches!.split(",").map(Number)) {
  const results: Record<string, number[]> = { baseline: [], this: [] };
  for (let round = 0; round < Number(flags.rounds); round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const s of order) results[s.name].push(await s.run(requests, stretch));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const [a, b] = [median(results.baseline), median(results.this)];
  console.log(
    `stretch ${String(stretch).padStart(3)}: baseline ${a.toFixed(1)} ns/req, this ${
      b.toFixed(1)
    } ns/req, +${(b - a).toFixed(1)} ns (${((b - a) / a * 100).toFixed(1)}% of the executor)`,
  );
}
