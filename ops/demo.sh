#!/usr/bin/env bash
# The demo: embedded broker + private PostgreSQL + daemon, replaying ../shared/data.
# Extra arguments go to `radstream demo` (see `radstream demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh
exec .build/release/radstream demo --data "${RADSTREAM_DATA:-../shared/data}" "$@"
