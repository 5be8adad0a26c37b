#!/usr/bin/env bash
# The TypeScript client an app developer would generate, right first time: types from the
# OpenAPI schema with openapi-typescript's default options, and session.ts (login, /me, two
# feed pages, a post, a comment, a reaction, kudos, notifications) type-checked against them
# with `tsc --strict`. Nothing runs against a server. Usage: check.sh SCHEMA_FILE
set -euo pipefail
schema="$(realpath "${1:?usage: check.sh SCHEMA_FILE (e.g. /tmp/openapi-schema.yml)}")"
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed for the TypeScript client check" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
npm run --silent generate -- "$schema"
npm run --silent check
echo "TypeScript client: schema.d.ts generated from $schema, session.ts type-checks (tsc --strict)"
