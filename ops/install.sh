#!/usr/bin/env bash
# Installs RadStream as a service: binary, models, schemas, configuration and the systemd units (daemon, gateway),
# in the tree docs/operations.md describes.
#   ops/install.sh                      build (release) and install under /usr/local, /etc, /var/lib
#   ops/install.sh --destdir DIR        the same tree below DIR (packaging, the tests)
#   ops/install.sh --prefix P --sysconfdir S --statedir D --no-build --no-user
#   ops/install.sh --no-build --build-dir .build/debug   install what is already built there
# An existing configuration or environment file is never overwritten (the new default is written
# beside it as *.new). Run as root to create the radstream user and own its state folder.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local sysconfdir=/etc statedir=/var/lib destdir="" build=1 user=1 builddir=.build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --sysconfdir) sysconfdir="$2"; shift 2 ;;
    --statedir) statedir="$2"; shift 2 ;;
    --destdir) destdir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) builddir="$2"; shift 2 ;;
    --no-user) user=0; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done

lib="$prefix/lib/radstream"
if [ "$build" = 1 ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
  swift build -c release --product radstream
fi
binary="$builddir/radstream"
[ -x "$binary" ] || { echo "install: no $binary: build it first (or drop --no-build)" >&2; exit 1; }

step() { echo "install: $*"; }
root="$destdir"
install -d "$root$lib/bin" "$root$lib/models" "$root$lib/doc" "$root$prefix/bin" "$root$prefix/lib/systemd/system" \
  "$root$sysconfdir/radstream" "$root$statedir/radstream/images"

step "binary and its schemas → $lib/bin"
install -m 0755 "$binary" "$root$lib/bin/radstream"
# SwiftPM's resource bundles (the migrations and event schemas) are found beside the executable.
for bundle in "$builddir"/*.resources; do
  rm -rf "$root$lib/bin/$(basename "$bundle")"
  cp -R "$bundle" "$root$lib/bin/"
done
ln -sfn "../lib/radstream/bin/radstream" "$root$prefix/bin/radstream"

step "shipped models → $lib/models"
cp models/README.md "$root$lib/models/"
for model in models/*/; do
  name=$(basename "$model")
  rm -rf "$root$lib/models/$name"
  cp -R "$model" "$root$lib/models/$name"
done
cp docs/operations.md docs/configuration.md docs/gateway.md "$root$lib/doc/"

# A new file, or the new default beside an operator's own.
place() {
  local source="$1" target="$2" mode="$3"
  if [ -e "$root$target" ] && ! cmp -s "$source" "$root$target"; then
    install -m "$mode" "$source" "$root$target.new"
    step "kept your $target; the new default is $target.new"
  else
    install -m "$mode" "$source" "$root$target"
  fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The installed configuration names where the models and images are: nothing is found by walking.
sed -e "s|\"directory\": \"\"|\"directory\": \"$lib/models\"|" \
    -e "s|\"allowedRoots\": \[\"/var/lib/radstream/images\"\]|\"allowedRoots\": [\"$statedir/radstream/images\"]|" \
    config/radstream.json > "$work/radstream.json"
cat > "$work/radstream.env" <<ENV
# RadStream's secrets and per-host settings, read by the systemd unit (EnvironmentFile).
# Every configuration key has a variable (docs/configuration.md); these are the usual ones.
#RADSTREAM_POSTGRES=host=db.example.org dbname=radstream user=radstream password=...
#RADSTREAM_KAFKA_BOOTSTRAP=kafka-1.example.org:9092
#RADSTREAM_KAFKA_SASL_PASSWORD=...
#RADSTREAM_LOG_LEVEL=info
ENV
place "$work/radstream.json" "$sysconfdir/radstream/radstream.json" 0644
place "$work/radstream.env" "$sysconfdir/radstream/radstream.env" 0640
for unit in radstream radstream-gateway; do
  sed -e "s|@LIB@|$lib|g" -e "s|@SYSCONF@|$sysconfdir|g" -e "s|@STATE@|$statedir|g" "ops/systemd/$unit.service" \
    > "$work/$unit.service"
  install -m 0644 "$work/$unit.service" "$root$prefix/lib/systemd/system/$unit.service"
done
step "configuration → $sysconfdir/radstream; units → $prefix/lib/systemd/system/radstream{,-gateway}.service"

if [ "$user" = 1 ] && [ -z "$destdir" ] && [ "$(id -u)" -eq 0 ]; then
  if ! id radstream >/dev/null 2>&1; then
    useradd --system --home-dir "$statedir/radstream" --shell /usr/sbin/nologin radstream
    step "created the system user radstream"
  fi
  chown -R radstream:radstream "$statedir/radstream"
  chgrp radstream "$sysconfdir/radstream/radstream.env"
fi
step "done. Next: edit $sysconfdir/radstream/radstream.env, then: radstream migrate --config $sysconfdir/radstream/radstream.json; systemctl enable --now radstream (and radstream-gateway, for DICOM and HL7 in)"
