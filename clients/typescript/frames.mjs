// The WebSocket frames as TypeScript types, from the AsyncAPI document of the stream
// (docs/asyncapi.json, or `manage.py asyncapi --file FILE`): json-schema-to-typescript on the
// document's component schemas. `Frame` is the union of every event frame, discriminated by
// `type`, with `data` typed per type. Usage: node frames.mjs ASYNCAPI_FILE OUTPUT_FILE
import { readFileSync, writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node frames.mjs ASYNCAPI_FILE OUTPUT_FILE");
  process.exit(2);
}
const document = JSON.parse(readFileSync(input, "utf8"));
// JSON Schema keeps named schemas under `definitions`; the document keeps them under
// `components.schemas`. Only the references move, the schemas are the document's own.
const definitions = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('"#/components/schemas/', '"#/definitions/'));
const root = { title: "Frame", ...definitions.Frame, definitions };
const types = await compile(root, "Frame", {
  bannerComment: `/* Generated from ${input.split("/").pop()} (AsyncAPI ${document.asyncapi}, "${document.info.title}" ${document.info.version}) by frames.mjs. Do not edit. */`,
  // A frame has exactly the fields the document lists: a renamed field is a type error, not `unknown`.
  additionalProperties: false,
  unreachableDefinitions: true,
  strictIndexSignatures: true,
});
// The generator names the root's definitions after the root's name, which an intersection lacks.
const named = types.replace(/This interface was referenced by `undefined`'s JSON-Schema\n \* via the `definition` "(\w+)"\./g, "`components.schemas.$1` of the AsyncAPI document.");
writeFileSync(output, named);
