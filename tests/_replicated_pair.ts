/**
 * A durable master with one replica, for the tests that load them with a
 * type's writes and then check, type by type, that every way back holds
 * what the master held: the replica, a late replica (a full
 * resynchronisation from a snapshot), the replica and then the master
 * restarted after SIGKILL.
 *
 * ```ts
 * const { master, replica } = replicatedConfigs(dir, { wal: { snapshot_threshold: "512KiB" } });
 * const pair = await ReplicatedPair.start(master, replica);
 * try {
 *   await pair.client.call("SADD", "s", "a");
 *   await pair.checkEverywhere(dump, "set");
 * } finally {
 *   await pair.stop();
 * }
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { converges, RespClient, ServerProcess } from "./_helpers.ts";

type Config = Record<string, Record<string, unknown>>;

/** See the module doc. */
export class ReplicatedPair {
  #late: ServerProcess | undefined;
  #lateClient: RespClient | undefined;

  private constructor(
    readonly masterConfig: Config,
    readonly replicaConfig: (name: string, masterPort: number) => Config,
    public master: ServerProcess,
    public replica: ServerProcess,
    public client: RespClient,
    public replicaClient: RespClient,
  ) {}

  /** Starts the master, then its replica, each with a client. */
  static async start(
    masterConfig: Config,
    replicaConfig: (name: string, masterPort: number) => Config,
  ): Promise<ReplicatedPair> {
    const master = await ServerProcess.start(masterConfig);
    const replica = await ServerProcess.start(replicaConfig("replica", master.port));
    return new ReplicatedPair(
      masterConfig,
      replicaConfig,
      master,
      replica,
      await RespClient.connect(master.port),
      await RespClient.connect(replica.port),
    );
  }

  /**
   * What the master holds now, as `dump` reads it, must be what the
   * replica, a late replica, the SIGKILLed replica and the SIGKILLed master
   * hold (`typeName`: TYPE's answer, which `dump`'s lines must show).
   */
  async checkEverywhere(
    dump: (client: RespClient) => Promise<string>,
    typeName: string,
    timeoutMs = 20_000,
  ): Promise<void> {
    const expected = await dump(this.client);
    assert.ok(expected.split("\n").length > 5, "enough keys to compare");
    assert.ok(
      expected.includes(` ${typeName} `),
      `${typeName}s to compare: ${expected.slice(0, 300)}`,
    );
    const converge = (c: RespClient, what: string) =>
      converges(() => dump(c), expected, what, timeoutMs);
    await converge(this.replicaClient, `the replica holds every ${typeName} as the master does`);

    // A replica that joins now starts from a snapshot (the log was cut behind it).
    const dataDir = String(this.masterConfig.wal.data_directory);
    const snapshots = [...Deno.readDirSync(dataDir)].filter((e) => e.name.endsWith(".snap"));
    assert.ok(snapshots.length > 0, "the master took snapshots");
    this.#late = await ServerProcess.start(this.replicaConfig("late", this.master.port));
    this.#lateClient = await RespClient.connect(this.#late.port);
    await converge(this.#lateClient, `a late replica holds every ${typeName} as the master does`);

    this.replicaClient.close();
    await this.replica.stop("SIGKILL");
    this.replica = await ServerProcess.start(
      this.replicaConfig("replica", this.master.port),
      { dir: this.replica.dir, port: this.replica.port },
    );
    this.replicaClient = await RespClient.connect(this.replica.port);
    await converge(this.replicaClient, `the restarted replica holds every ${typeName}`);

    this.client.close();
    await this.master.stop("SIGKILL");
    this.master = await ServerProcess.start(this.masterConfig, {
      dir: this.master.dir,
      port: this.master.port,
    });
    this.client = await RespClient.connect(this.master.port);
    assert.equal(await dump(this.client), expected, `the restarted master holds every ${typeName}`);
  }

  /** Closes the clients and SIGKILLs every server. */
  async stop(): Promise<void> {
    this.client.close();
    this.replicaClient.close();
    this.#lateClient?.close();
    await this.#late?.stop("SIGKILL");
    await this.replica.stop("SIGKILL");
    await this.master.stop("SIGKILL");
  }
}
