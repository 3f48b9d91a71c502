#!/usr/bin/env bash
# providers.sh - the index/query providers side by side, in process (issue 4, item 4).
#
# Usage: bench/providers.sh [N]        (default N = 100000)
#
# Builds bench_providers and the plugins, generates (once) a synthetic corpus of N files, then
# loads each plugin through the real loader, indexes the corpus and times the study-level
# queries (PatientID exact, PatientName wildcard, StudyDate range, ModalitiesInStudy as a
# Modality OR). Medians of RUNS (3). Report to stdout and bench/results/providers-latest.md.
#
# Environment: BUILD_DIR, CORPUS_DIR, CORPUS_TOOL, SKIP_BUILD=1 as in index_and_search.sh;
#   RUNS (3), QUERIES timed calls per kind (200), PLUGINS (xapian,sqlite), THREADS (2).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
CORPUS_DIR=${CORPUS_DIR:-$BUILD_DIR/bench-corpus}
CORPUS_TOOL=${CORPUS_TOOL:-$REPO/../shared/tools/make-synthetic-corpus.sh}
N=${1:-100000}
PLUGINS=${PLUGINS:-xapian,sqlite}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  targets=(bench_providers)
  for plugin in ${PLUGINS//,/ }; do targets+=("tessera_plugin_$plugin"); done
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]}"
fi

source "$REPO/bench/corpus.sh"
corpus=$(ensure_corpus "$N")
mkdir -p "$REPO/bench/results" "$BUILD_DIR/bench-work"
"$BUILD_DIR/bin/bench_providers" --plugin-dir "$BUILD_DIR/lib/tessera/plugins" --corpus "$corpus" \
  --manifest "$corpus.manifest.tsv" --work "$BUILD_DIR/bench-work/providers" --plugins "$PLUGINS" \
  --runs "${RUNS:-3}" --queries "${QUERIES:-200}" --threads "${THREADS:-2}" \
  | tee "$REPO/bench/results/providers-latest.md"
