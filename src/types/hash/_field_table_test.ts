import assert from "node:assert/strict";
import { FieldTable } from "./_field_table.ts";

Deno.test("FieldTable: 100k random places and deletes agree with a model; positions stay put and holes are reused", () => {
  const fields = new FieldTable();
  const model = new Map<string, number>();
  let seed = 5;
  const next = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  for (let i = 0; i < 100_000; i++) {
    // Long and short fields, some past 127 bytes (a two-byte length in the arena).
    const field = `f${next(20_000)}` + (i % 7 === 0 ? "x".repeat(130) : "");
    const held = model.get(field);
    if (next(3) !== 0) {
      const place = fields.place(field);
      if (held === undefined) {
        assert.ok(place < 0, "a new field is added");
        model.set(field, -place - 1);
      } else {
        assert.equal(place, held, "a held field keeps its position");
      }
    } else {
      assert.equal(fields.delete(field), held !== undefined);
      model.delete(field);
    }
    if (i % 10_000 === 0) {
      assert.equal(fields.size, model.size);
      for (const [f, at] of model) {
        assert.equal(fields.positionOf(f), at);
        assert.equal(fields.keyAt(at), f);
      }
    }
  }
  // Every position below `positions` is a field or a hole; holes were reused.
  let live = 0;
  for (let at = 0; at < fields.positions; at++) if (fields.keyAt(at) !== undefined) live++;
  assert.equal(live, model.size);
  assert.ok(fields.positions < model.size * 1.5, `${fields.positions} positions`);
  let bytes = 0;
  for (const f of model.keys()) bytes += f.length;
  assert.equal(fields.fieldBytes, bytes);
  assert.equal(fields.has("absent"), false);
});
