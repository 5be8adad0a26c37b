#!/usr/bin/env bash
# The TypeScript client an app developer would generate, right first time: types from the
# OpenAPI schema with openapi-typescript's default options (schema.d.ts), the WebSocket frames
# from the AsyncAPI document with json-schema-to-typescript (frames.d.ts, by frames.mjs), and
# session.ts (login, /me, two feed pages, a post, a comment, a reaction, kudos, notifications)
# and stream.ts (a typed frame handler) type-checked against them with `tsc --strict`.
# Nothing runs against a server. Usage: check.sh SCHEMA_FILE [ASYNCAPI_FILE]
# (ASYNCAPI_FILE defaults to the committed docs/asyncapi.json).
set -euo pipefail
schema="$(realpath "${1:?usage: check.sh SCHEMA_FILE [ASYNCAPI_FILE] (e.g. /tmp/openapi-schema.yml docs/asyncapi.json)}")"
asyncapi="$(realpath "${2:-$(dirname "$0")/../../docs/asyncapi.json}")"
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed for the TypeScript client check" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
npm run --silent generate -- "$schema"
npm run --silent frames -- "$asyncapi" frames.d.ts
npm run --silent check
echo "TypeScript client: schema.d.ts from $schema and frames.d.ts from $asyncapi generated; session.ts and stream.ts type-check (tsc --strict)"
