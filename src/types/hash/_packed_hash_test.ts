import assert from "node:assert/strict";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import { newSession } from "../../executor/command_spec.ts";
import { OutBuffer } from "../../protocol/out_buffer.ts";
import { RespReplyWriter } from "../../protocol/resp_writer.ts";
import { Engine } from "../../storage/engine.ts";
import { Rng } from "../../../tests/_generate.ts";
import { HashValue, SNAPSHOT_TYPE_HASH } from "./hash.ts";
import { PackedHash, removePackedField } from "./_packed_hash.ts";

Deno.test("a PackedHash reads what HashValue packed, and removePackedField cuts fields out in place", () => {
  const r = new Rng(21);
  for (let round = 0; round < 50; round++) {
    const engine = new Engine(1);
    const model = new HashValue();
    const n = r.int(1, 60);
    for (let i = 0; i < n; i++) {
      model.set(`f${r.int(0, 80)}`, r.pick(["", "v", "\x00\xff", "x".repeat(r.int(0, 64))]));
    }
    engine.setCollection("h", model.clone());
    while (model.length > 0) {
      const reader = new PackedHash(engine.packed("h", SNAPSHOT_TYPE_HASH)!);
      assert.equal(reader.length, model.length);
      const field = `f${r.int(0, 80)}`;
      assert.equal(reader.get(field), model.get(field));
      assert.equal(reader.has(field), model.has(field));
      const written = (write: (w: RespReplyWriter) => void) => {
        const out = new OutBuffer();
        write(new RespReplyWriter(out, newSession()));
        return bytesToBinary(out.view());
      };
      for (const [fields, values] of [[true, false], [false, true], [true, true]]) {
        assert.equal(
          written((w) => reader.writeEntries(w, fields, values)),
          written((w) =>
            model.forEach((f, v) => {
              if (fields) w.bulk(f);
              if (values) w.bulk(v);
            })
          ),
        );
      }
      assert.equal(removePackedField(engine, "h", field), model.delete(field) ? 1 : 0);
      if (model.length === 0) break;
      assert.deepEqual((engine.get("h") as HashValue).entries(), model.entries());
    }
    assert.equal(engine.get("h"), undefined);
    assert.equal(removePackedField(engine, "h", "f1"), -1);
  }
});

Deno.test("PackedHash reads fields by position and in order as HashValue does", () => {
  const r = new Rng(33);
  for (let round = 0; round < 100; round++) {
    const model = new HashValue();
    const size = r.int(1, 128);
    for (let i = 0; i < size; i++) {
      model.set(r.pick(["f", "", "\xff", "field"]) + r.int(0, 200), "v".repeat(r.int(0, 20)));
    }
    const engine = new Engine(1);
    engine.setCollection("h", model.clone());
    const view = engine.packed("h", SNAPSHOT_TYPE_HASH);
    assert.notEqual(view, undefined, "a small hash is held inline");
    const reader = new PackedHash(view!);
    assert.equal(reader.encoding(), model.encoding());
    assert.equal(reader.positions, model.positions);
    assert.deepEqual(reader.entries(), model.entries());
    for (let at = 0; at <= model.positions; at++) {
      assert.equal(reader.fieldAt(at), model.positions > at ? model.fieldAt(at) : undefined);
    }
    const seen: string[] = [];
    reader.forEach((field) => seen.push(field) < 2);
    assert.deepEqual(seen, model.entries().slice(0, 2).map(([f]) => f));
  }
});
