#!/usr/bin/env bash
# Fuzzes one target with libFuzzer and the address sanitizer, growing its corpus in
# Fuzz/corpus/<target>, then keeps only the inputs that add coverage (libFuzzer's merge), so
# that the corpus stays small enough to commit. A crash leaves its input in Fuzz/crashes/<target>/:
# commit it there, fix the bug, and the test suite replays it from then on.
#   Fuzz/run.sh FuzzEvents                      # 1,000,000 executions or 10 minutes, whichever first
#   Fuzz/run.sh FuzzPNG --runs 200000 --seconds 60
#   Fuzz/run.sh FuzzIUXML --rss-limit-mb 4096      # Foundation's XML error paths leak (Fuzz/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

target="${1:?usage: Fuzz/run.sh TARGET [--runs N] [--seconds S] [--rss-limit-mb M]  (targets: $(ls Fuzz/Targets | tr '\n' ' '))}"
shift
runs=1000000 seconds=600 rss=2048
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rss-limit-mb) rss="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -d "Fuzz/Targets/$target" ] || { echo "no fuzz target $target (targets: $(ls Fuzz/Targets | tr '\n' ' '))" >&2; exit 2; }

ops/setup.sh --no-build
# A build of its own (the sanitizers change every object), with coverage of the Swift code and
# of the C shims; the system libraries (libpng, libjpeg, DCMTK) run uninstrumented.
swift build -c release --scratch-path .build/fuzz --product "$target" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
  -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld  # gold fails on the renamed main
binary=".build/fuzz/release/$target"

corpus="Fuzz/corpus/$target" crashes="Fuzz/crashes/$target" work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$corpus" "$crashes"
cp "$corpus"/* "$work"/ 2>/dev/null || true
log="Fuzz/last-run-$target.log"
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt"
set +e
"$binary" "$work" -runs="$runs" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb="$rss" \
  -malloc_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 > "$log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+ +DONE|ERROR|SUMMARY" "$log" || true

# Keep what adds coverage: merge the grown corpus into an empty folder, then replace.
mkdir "$work/merged"
"$binary" -merge=1 "$work/merged" "$work" -max_len=65536 >/dev/null 2>&1
rm -f "$corpus"/*
cp "$work/merged"/* "$corpus"/
executions=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
echo "fuzz $target: $executions executions, exit $status (log: $log), corpus $(ls "$corpus" | wc -l) files ($(du -sh "$corpus" | cut -f1)), crashes in $crashes: $(ls "$crashes" | wc -l)"
exit "$status"
