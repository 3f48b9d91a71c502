#!/usr/bin/env bash
# index_and_search.sh - Tessera's indexing and search benchmark (issue 3, item 8).
#
# Usage: bench/index_and_search.sh [N...]          (default: 10000 100000)
#
# For each N: generates (once, then reuses) a synthetic corpus of N DICOM files with
# ../shared/tools/make-synthetic-corpus.sh, measures the bare DCMTK header-parse ceiling, indexes
# the corpus through a real tessera-server three times, and measures REST search latency for ten
# query kinds on the last index. Prints a report of medians and writes it to
# bench/results/latest.md (and .json beside it).
#
# Environment:
#   BUILD_DIR     build tree (default: <repo>/build); configured and built here if needed
#   CORPUS_DIR    corpus cache (default: $BUILD_DIR/bench-corpus), one directory per N
#   CORPUS_TOOL   generator (default: <repo>/../shared/tools/make-synthetic-corpus.sh)
#   RUNS          runs per figure (default 3), REQUESTS timed requests per query kind (default 200)
#   WARMUP        warm-up requests per query kind (default 20)
#   SKIP_BUILD=1  use the programs already in BUILD_DIR
#   KEEP=1        keep the servers' data directories (under $BUILD_DIR/bench-work)
#   XAPIAN_SHARDS the xapian plugin's `shards` setting for the servers (default: the plugin's, auto)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
CORPUS_DIR=${CORPUS_DIR:-$BUILD_DIR/bench-corpus}
CORPUS_TOOL=${CORPUS_TOOL:-$REPO/../shared/tools/make-synthetic-corpus.sh}
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-200}
WARMUP=${WARMUP:-20}

if [ $# -eq 0 ]; then set -- 10000 100000; fi
for n in "$@"; do
  case "$n" in ''|*[!0-9]*) echo "N must be a positive integer, got '$n'" >&2; exit 2;; esac
  [ "$n" -ge 1 ] || { echo "N must be >= 1" >&2; exit 2; }
done
# Ascending, without duplicates: small runs report first.
mapfile -t SIZES < <(printf '%s\n' "$@" | sort -n -u)

command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

# ---- build ------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_BENCH=ON >/dev/null
  fi
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
  [ "$build_type" = Release ] || echo "warning: $BUILD_DIR is a '$build_type' build; figures want Release" >&2
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target tessera-server tessera_plugin_file tessera_plugin_xapian \
    bench_dcmtk_header_parse bench_rest_latency
fi
for program in bin/tessera-server bin/bench_dcmtk_header_parse bin/bench_rest_latency; do
  [ -x "$BUILD_DIR/$program" ] || { echo "missing $BUILD_DIR/$program (build it or unset SKIP_BUILD)" >&2; exit 1; }
done

# ---- corpora: generated once per N, the manifest kept beside (not inside) the files so the
# server indexes exactly N files ------------------------------------------------
source "$REPO/bench/corpus.sh"
corpus_args=()
for n in "${SIZES[@]}"; do
  dir=$(ensure_corpus "$n")
  corpus_args+=(--corpus "$n:$dir:$dir.manifest.tsv")
done

mkdir -p "$REPO/bench/results"
extra=()
[ "${KEEP:-0}" = 1 ] && extra+=(--keep)
exec python3 "$REPO/bench/index_and_search.py" \
  --server "$BUILD_DIR/bin/tessera-server" \
  --parse-bench "$BUILD_DIR/bin/bench_dcmtk_header_parse" \
  --latency-bench "$BUILD_DIR/bin/bench_rest_latency" \
  --work-dir "$BUILD_DIR/bench-work" \
  --out "$REPO/bench/results/latest.md" \
  --commit "$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)" \
  --runs "$RUNS" --requests "$REQUESTS" --warmup "$WARMUP" \
  "${corpus_args[@]}" "${extra[@]}"
