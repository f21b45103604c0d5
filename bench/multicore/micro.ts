/**
 * Micro-benchmarks of the pieces a multi-core kvdb would be built from
 * (docs/multicore.md): a cross-worker round trip by `postMessage` and by a
 * `SharedArrayBuffer` ring woken with `Atomics.wait`/`notify` (blocking)
 * or `Atomics.waitAsync` (from an event loop); an `Atomics` lock taken
 * and released uncontended, and by two threads at once; and a GET/SET in
 * the prototype's table over a `SharedArrayBuffer`, locked and not,
 * against kvdb's own `KeyTable`. Each figure is the min and median of
 * {@link ROUNDS} rounds; run it from the repository's root:
 *
 *     deno run --allow-read=bench/multicore bench/multicore/micro.ts [--json out.json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type MicroTask, processCpuUs, type Timings } from "./_micro_worker.ts";
import { hashBytes, ProtoTable, tableBytes, type TableLayout } from "./_table.ts";
import { lock, unlock } from "./_lock.ts";
import { Replies } from "./_resp.ts";
import { KeyTable } from "../../src/storage/key_table.ts";
import { fnv1a } from "../../src/storage/hash.ts";

const ROUNDS = 7;
const TRIPS = 20_000;
const LOCK_ITERATIONS = 2_000_000;
const TABLE_OPS = 1_000_000;
const KEY_BYTES = 16;
const VALUE_BYTES = 3;

const { values: flags } = parseArgs({ args: Deno.args, options: { json: { type: "string" } } });

/**
 * A measurement's min and median over rounds, ns per operation: of the
 * whole process's CPU time (robust when the machine is shared: time spent
 * waiting for a core is not counted) and of wall-clock time.
 */
interface Figure {
  name: string;
  cpuMinNs: number;
  cpuMedianNs: number;
  wallMinNs: number;
  wallMedianNs: number;
}
const figures: Figure[] = [];

function minMedian(values: number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[0], sorted[Math.floor(sorted.length / 2)]];
}

function record(name: string, timings: Timings): void {
  const [cpuMinNs, cpuMedianNs] = minMedian(timings.cpuNs);
  const [wallMinNs, wallMedianNs] = minMedian(timings.wallNs);
  figures.push({ name, cpuMinNs, cpuMedianNs, wallMinNs, wallMedianNs });
  const f = (n: number) => n.toFixed(1);
  console.log(
    `${name}: CPU min ${f(cpuMinNs)} median ${f(cpuMedianNs)} ns; ` +
      `wall min ${f(wallMinNs)} median ${f(wallMedianNs)} ns`,
  );
}

/** Runs `body` (which does `operations` operations) once unmeasured, then {@link ROUNDS} times. */
function rounds(operations: number, body: () => void): Timings {
  const timings: Timings = { wallNs: [], cpuNs: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    const cpu = processCpuUs();
    const started = performance.now();
    body();
    if (round === 0) continue;
    timings.wallNs.push((performance.now() - started) * 1e6 / operations);
    timings.cpuNs.push((processCpuUs() - cpu) * 1e3 / operations);
  }
  return timings;
}

function dropWarmUp(timings: Timings): Timings {
  return { wallNs: timings.wallNs.slice(1), cpuNs: timings.cpuNs.slice(1) };
}

function spawn(): Worker {
  return new Worker(new URL("./_micro_worker.ts", import.meta.url), { type: "module" });
}

function ask<T>(worker: Worker, task: MicroTask, transfer: Transferable[] = []): Promise<T> {
  return new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage(task, transfer);
  });
}

async function portTrip(): Promise<void> {
  const echo = spawn();
  const ping = spawn();
  const channel = new MessageChannel();
  await ask(echo, { task: "echo-port", port: channel.port2 }, [channel.port2]);
  const timings = await ask<Timings>(
    ping,
    { task: "ping-port", port: channel.port1, iterations: TRIPS, rounds: ROUNDS + 1 },
    [channel.port1],
  );
  record("postMessage round trip between two workers", dropWarmUp(timings));
  echo.terminate();
  ping.terminate();
}

async function ringTrip(async: boolean): Promise<void> {
  const echo = spawn();
  const ping = spawn();
  const words = new Int32Array(new SharedArrayBuffer(128));
  await ask(echo, { task: "echo-ring", words, async });
  const timings = await ask<Timings>(ping, {
    task: "ping-ring",
    words,
    iterations: TRIPS,
    rounds: ROUNDS + 1,
    async,
  });
  const how = async ? "Atomics.waitAsync (event loops)" : "Atomics.wait/notify (blocking)";
  record(`SAB ring round trip, ${how}`, dropWarmUp(timings));
  echo.terminate();
  ping.terminate();
}

function lockInline(): void {
  const words = new Int32Array(new SharedArrayBuffer(128));
  const plain = new Int32Array(32);
  record(
    "lock+unlock uncontended, one thread (counter++ inside)",
    rounds(LOCK_ITERATIONS, () => {
      for (let i = 0; i < LOCK_ITERATIONS; i++) {
        lock(words, 0);
        words[16]++;
        unlock(words, 0);
      }
    }),
  );
  record(
    "counter++ without a lock (the loop's own cost)",
    rounds(LOCK_ITERATIONS, () => {
      for (let i = 0; i < LOCK_ITERATIONS; i++) plain[16]++;
    }),
  );
}

/** Two workers taking the lock at `atA` and `atB` (the same one: contended). */
async function lockPair(atA: number, atB: number, threads: number): Promise<Timings> {
  const timings: Timings = { wallNs: [], cpuNs: [] };
  const workers = Array.from({ length: threads }, spawn);
  for (let round = 0; round <= ROUNDS; round++) {
    const words = new Int32Array(new SharedArrayBuffer(256));
    const go = 48;
    words[go + 1] = threads;
    const cpu = processCpuUs();
    const ns = await Promise.all(
      workers.map((worker, i) =>
        ask<number>(worker, {
          task: "lock",
          words,
          at: i === 0 ? atA : atB,
          iterations: LOCK_ITERATIONS,
          go,
        })
      ),
    );
    const expected = atA === atB ? threads * LOCK_ITERATIONS : LOCK_ITERATIONS;
    if (words[atA + 16] !== expected) throw new Error(`lost updates: ${words[atA + 16]}`);
    if (round === 0) continue;
    // Per lock+unlock: each thread's own wall time; CPU over all threads' operations.
    timings.wallNs.push(Math.max(...ns));
    timings.cpuNs.push((processCpuUs() - cpu) * 1e3 / (threads * LOCK_ITERATIONS));
  }
  for (const worker of workers) worker.terminate();
  return timings;
}

function fillKeys(count: number): Uint8Array {
  const keys = new Uint8Array(count * KEY_BYTES);
  for (let i = 0; i < count; i++) {
    const text = `key:${String(i).padStart(KEY_BYTES - 4, "0")}`;
    for (let j = 0; j < KEY_BYTES; j++) keys[i * KEY_BYTES + j] = text.charCodeAt(j);
  }
  return keys;
}

function randomOrder(count: number): Uint32Array {
  const order = new Uint32Array(TABLE_OPS);
  for (let i = 0; i < TABLE_OPS; i++) order[i] = Math.floor(Math.random() * count);
  return order;
}

function protoTableOps(
  keyCount: number,
  layout: TableLayout,
  shared: boolean,
  locked: boolean,
): { get: Timings; set: Timings } {
  const keys = fillKeys(keyCount);
  const value = new Uint8Array(VALUE_BYTES).fill(120);
  const buffer = shared
    ? new SharedArrayBuffer(tableBytes(layout))
    : new ArrayBuffer(tableBytes(layout));
  const table = new ProtoTable(buffer, layout, locked);
  for (let i = 0; i < keyCount; i++) {
    const at = i * KEY_BYTES;
    const hash = hashBytes(keys, at, at + KEY_BYTES);
    if (!table.set(keys, at, at + KEY_BYTES, hash, value, 0, VALUE_BYTES)) throw new Error("full");
  }
  const order = randomOrder(keyCount);
  const out = new Replies();
  const get = rounds(TABLE_OPS, () => {
    for (let i = 0; i < TABLE_OPS; i++) {
      const at = order[i] * KEY_BYTES;
      table.get(keys, at, at + KEY_BYTES, hashBytes(keys, at, at + KEY_BYTES), out);
      if ((i & 1023) === 0) out.length = 0;
    }
  });
  const set = rounds(TABLE_OPS, () => {
    for (let i = 0; i < TABLE_OPS; i++) {
      const at = order[i] * KEY_BYTES;
      table.set(keys, at, at + KEY_BYTES, hashBytes(keys, at, at + KEY_BYTES), value, 0, 3);
    }
  });
  return { get, set };
}

/** kvdb's KeyTable as the engine calls it: binary-string keys, FNV-1a per call. */
function keyTableOps(keyCount: number): { get: Timings; set: Timings } {
  const keys: string[] = [];
  for (let i = 0; i < keyCount; i++) keys.push(`key:${String(i).padStart(KEY_BYTES - 4, "0")}`);
  const value = "x".repeat(VALUE_BYTES);
  const table = new KeyTable();
  for (const key of keys) table.set(key, fnv1a(key), value);
  const order = randomOrder(keyCount);
  const out = new Replies();
  const get = rounds(TABLE_OPS, () => {
    for (let i = 0; i < TABLE_OPS; i++) {
      const key = keys[order[i]];
      const found = table.get(key, fnv1a(key)) as string;
      // The reply as kvdb writes it: a bulk header and the value's bytes.
      out.writeBulkHeader(found.length);
      out.reserve(found.length + 2);
      for (let j = 0; j < found.length; j++) out.bytes[out.length++] = found.charCodeAt(j);
      out.length += 2;
      if ((i & 1023) === 0) out.length = 0;
    }
  });
  const set = rounds(TABLE_OPS, () => {
    for (let i = 0; i < TABLE_OPS; i++) {
      const key = keys[order[i]];
      table.set(key, fnv1a(key), value);
    }
  });
  return { get, set };
}

console.log(`Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores; rounds ${ROUNDS}`);
await portTrip();
await ringTrip(false);
await ringTrip(true);
lockInline();
record("lock+unlock, one worker alone", await lockPair(0, 0, 1));
record("lock+unlock, two workers, one lock (contended)", await lockPair(0, 0, 2));
record("lock+unlock, two workers, own locks (other cache lines)", await lockPair(0, 32, 2));
for (const keyCount of [100_000, 1_000_000]) {
  const layout: TableLayout = {
    stripes: 256,
    slotsPerStripe: keyCount > 100_000 ? 8192 : 1024,
    arenaBytesPerStripe: keyCount > 100_000 ? 256 * 1024 : 32 * 1024,
  };
  const label = `${keyCount / 1000}k keys`;
  const kvdb = keyTableOps(keyCount);
  record(`kvdb KeyTable GET, ${label}`, kvdb.get);
  record(`kvdb KeyTable SET, ${label}`, kvdb.set);
  for (
    const [name, shared, locked] of [
      ["ArrayBuffer, no locks", false, false],
      ["SharedArrayBuffer, no locks", true, false],
      ["SharedArrayBuffer, stripe locks", true, true],
    ] as const
  ) {
    const ops = protoTableOps(keyCount, layout, shared, locked);
    record(`prototype table GET, ${name}, ${label}`, ops.get);
    record(`prototype table SET, ${name}, ${label}`, ops.set);
  }
}
if (flags.json) Deno.writeTextFileSync(flags.json, JSON.stringify(figures, null, 2));
