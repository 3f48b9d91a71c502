#!/usr/bin/env bash
# dicom_vs_orthanc.sh - Tessera's DICOM services against Orthanc in one run (issue 5, item 5).
#
# Usage: bench/dicom_vs_orthanc.sh [N]              (default N = 10000)
#
# Installs Orthanc (Debian package `orthanc`) and DCMTK's tools if missing, builds the server and
# the client bench_dicom_network, generates (once) a synthetic corpus of N files, then runs
# bench/dicom_vs_orthanc.py: C-STORE instances/s over 1 and 4 associations, study-level C-FIND
# p50/p95 in one association, C-MOVE MB/s to a DCMTK storescp, for both servers, medians of RUNS,
# with the Tessera/Orthanc ratios against issue 5's targets. The report goes to stdout and to
# bench/results/dicom-latest.md.
#
# Environment: BUILD_DIR, CORPUS_DIR, CORPUS_TOOL, SKIP_BUILD=1 as in index_and_search.sh;
#   RUNS (3), REQUESTS timed C-FINDs per kind (100), MOVE_STUDIES (40), ONLY=tessera|orthanc.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
CORPUS_DIR=${CORPUS_DIR:-$BUILD_DIR/bench-corpus}
CORPUS_TOOL=${CORPUS_TOOL:-$REPO/../shared/tools/make-synthetic-corpus.sh}
N=${1:-10000}

if ! command -v Orthanc >/dev/null || ! command -v storescp >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "Orthanc and dcmtk are needed: apt-get install orthanc dcmtk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends orthanc dcmtk >&2
fi
# The package starts a system Orthanc where systemd runs; it is not the one measured.

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target tessera-server tessera_plugin_file tessera_plugin_xapian \
    bench_dicom_network
fi

source "$REPO/bench/corpus.sh"
corpus=$(ensure_corpus "$N")
mkdir -p "$REPO/bench/results" "$BUILD_DIR/bench-work"
extra=()
[ -n "${ONLY:-}" ] && extra+=(--only "$ONLY")
exec python3 "$REPO/bench/dicom_vs_orthanc.py" \
  --server "$BUILD_DIR/bin/tessera-server" --client "$BUILD_DIR/bin/bench_dicom_network" \
  --corpus "$corpus" --manifest "$corpus.manifest.tsv" --work "$BUILD_DIR/bench-work" \
  --runs "${RUNS:-3}" --requests "${REQUESTS:-100}" --move-studies "${MOVE_STUDIES:-40}" \
  --report "$REPO/bench/results/dicom-latest.md" "${extra[@]}"
