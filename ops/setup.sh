#!/usr/bin/env bash
# Installs the Debian packages RadStream needs (only those missing) and builds it.
#   ops/setup.sh            packages + release build (.build/release/radstream)
#   ops/setup.sh --debug    packages + debug build (what the tests use)
#   ops/setup.sh --no-build packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  pkg-config
  librdkafka-dev   # Kafka client and its mock cluster (rdkafka_mock.h): the embedded broker
  libpq-dev        # PostgreSQL client
  postgresql       # the private server of the demo and the tests
  libopenblas-dev  # numerics of the models
  libpng-dev
  libjpeg62-turbo-dev
  libdcmtk-dev     # DICOM
  dcmtk            # DICOM peers for the gateway's tests: echoscu, storescu, dcmodify, dsrdump
  kcat             # to look at the broker by hand
  chromium         # headless: the dashboard's pages in a real browser (the tests)
  systemd          # systemd-analyze verify checks the service unit (the tests)
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postgresql package starts a cluster of its own; RadStream runs private ones instead.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  echo "setup: note: a system PostgreSQL cluster is running; RadStream does not use it"
fi

export PATH="/opt/swift/usr/bin:$PATH"
case "${1:-}" in
  --no-build) ;;
  --debug) swift build ;;
  *) swift build -c release ;;
esac
