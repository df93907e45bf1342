#!/usr/bin/env bash
# The test suite: unit tests, and integration tests against a real PostgreSQL and the embedded
# broker (both started by the tests themselves). The integration tests run the debug binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh --debug
exec swift test "$@"
