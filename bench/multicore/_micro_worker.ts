/**
 * The far side of micro.ts's measurements, in a Worker: echoes over a
 * `MessagePort`, echoes over a `SharedArrayBuffer` ring (blocking
 * `Atomics.wait` or event-loop `Atomics.waitAsync`), pings either, and
 * hammers a lock. Each task reports its timings to the main thread.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./_micro_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ task: "lock", words, iterations: 1_000_000, at: 0 });
 * ```
 * @module
 */

import process from "node:process";
import { lock, unlock } from "./_lock.ts";

/** What micro.ts asks of a worker. */
export type MicroTask =
  | { task: "echo-port"; port: MessagePort }
  | { task: "ping-port"; port: MessagePort; iterations: number; rounds: number }
  | { task: "echo-ring"; words: Int32Array; async: boolean }
  | { task: "ping-ring"; words: Int32Array; iterations: number; rounds: number; async: boolean }
  | { task: "lock"; words: Int32Array; at: number; iterations: number; go: number };

/** Per round: wall-clock ns per operation, and the whole process's CPU ns per operation. */
export interface Timings {
  wallNs: number[];
  cpuNs: number[];
}

/** CPU microseconds the whole process (every thread) has used. */
export function processCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Ring words: the request's sequence number, the reply's. -1 stops the echo. */
const REQUEST = 0;
const REPLY = 16;

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<MicroTask>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  const message = event.data;
  switch (message.task) {
    case "echo-port":
      message.port.onmessage = (e) => message.port.postMessage(e.data);
      scope.postMessage("ready");
      break;
    case "ping-port":
      pingPort(message.port, message.iterations, message.rounds);
      break;
    case "echo-ring":
      scope.postMessage("ready");
      if (message.async) echoRingAsync(message.words);
      else echoRing(message.words);
      break;
    case "ping-ring":
      pingRing(message.words, message.iterations, message.rounds, message.async);
      break;
    case "lock":
      hammer(message.words, message.at, message.iterations, message.go);
      break;
  }
};

async function pingPort(port: MessagePort, iterations: number, rounds: number): Promise<void> {
  let resolve = () => {};
  port.onmessage = () => resolve();
  const timings: Timings = { wallNs: [], cpuNs: [] };
  for (let round = 0; round < rounds; round++) {
    const cpu = processCpuUs();
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      await new Promise<void>((r) => {
        resolve = r;
        port.postMessage(i);
      });
    }
    timings.wallNs.push((performance.now() - started) * 1e6 / iterations);
    timings.cpuNs.push((processCpuUs() - cpu) * 1e3 / iterations);
  }
  scope.postMessage(timings);
}

function echoRing(words: Int32Array): void {
  for (let expected = 1;; expected++) {
    while (Atomics.load(words, REQUEST) === expected - 1) {
      Atomics.wait(words, REQUEST, expected - 1);
    }
    const value = Atomics.load(words, REQUEST);
    if (value < 0) return;
    Atomics.store(words, REPLY, value);
    Atomics.notify(words, REPLY);
  }
}

async function echoRingAsync(words: Int32Array): Promise<void> {
  for (let expected = 1;; expected++) {
    const wait = Atomics.waitAsync(words, REQUEST, expected - 1);
    if (wait.async) await wait.value;
    const value = Atomics.load(words, REQUEST);
    if (value < 0) return;
    Atomics.store(words, REPLY, value);
    Atomics.notify(words, REPLY);
  }
}

async function pingRing(
  words: Int32Array,
  iterations: number,
  rounds: number,
  async: boolean,
): Promise<void> {
  const timings: Timings = { wallNs: [], cpuNs: [] };
  let sequence = 0;
  for (let round = 0; round < rounds; round++) {
    const cpu = processCpuUs();
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      sequence++;
      Atomics.store(words, REQUEST, sequence);
      Atomics.notify(words, REQUEST);
      if (async) {
        const wait = Atomics.waitAsync(words, REPLY, sequence - 1);
        if (wait.async) await wait.value;
      } else {
        while (Atomics.load(words, REPLY) !== sequence) Atomics.wait(words, REPLY, sequence - 1);
      }
    }
    timings.wallNs.push((performance.now() - started) * 1e6 / iterations);
    timings.cpuNs.push((processCpuUs() - cpu) * 1e3 / iterations);
  }
  Atomics.store(words, REQUEST, -1);
  Atomics.notify(words, REQUEST);
  scope.postMessage(timings);
}

/** Takes and releases the lock at `at` `iterations` times, counting in the next cache line. */
function hammer(words: Int32Array, at: number, iterations: number, go: number): void {
  // Start together: each worker counts itself in, then waits for all.
  Atomics.add(words, go, 1);
  while (Atomics.load(words, go) < Atomics.load(words, go + 1)) {
    // Spin: both must be running for the contention to be real.
  }
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    lock(words, at);
    words[at + 16]++;
    unlock(words, at);
  }
  scope.postMessage((performance.now() - started) * 1e6 / iterations);
}
