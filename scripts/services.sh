#!/usr/bin/env bash
# Installs and starts what the tests need (PostgreSQL on 127.0.0.1, headless Chromium) and writes
# their addresses to .test-services.env, which `make test` sources. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
: > .test-services.env
if [ -x scripts/postgres.sh ]; then
  url=$(bash scripts/postgres.sh start | tail -n 1)
  echo "export EVAL_ANYTHING_TEST_PG_URL='$url'" >> .test-services.env
fi
if [ -x scripts/chromium.sh ]; then
  bash scripts/chromium.sh
fi
