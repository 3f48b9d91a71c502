# corpus.sh - sourced by the benchmark scripts: ensure_corpus N prints the directory of a cached
# synthetic corpus of exactly N files, generating it once with CORPUS_TOOL. The generator's
# MANIFEST.tsv is moved beside the files (<dir>.manifest.tsv) so a server indexes exactly N
# files; the manifest is moved last, so its presence marks a complete corpus.
# Needs CORPUS_DIR and CORPUS_TOOL set by the caller.
ensure_corpus() {
  local n=$1 dir=$CORPUS_DIR/n$1
  mkdir -p "$CORPUS_DIR"
  if [ ! -f "$dir.manifest.tsv" ]; then
    [ -x "$CORPUS_TOOL" ] || { echo "corpus generator not found: $CORPUS_TOOL" >&2; return 1; }
    echo "generating a corpus of $n files in $dir (once; reused afterwards)" >&2
    rm -rf "$dir.partial" "$dir"
    "$CORPUS_TOOL" "$n" "$dir.partial" >&2
    mv "$dir.partial/MANIFEST.tsv" "$dir.manifest.tsv.partial"
    mv "$dir.partial" "$dir"
    mv "$dir.manifest.tsv.partial" "$dir.manifest.tsv"
  fi
  echo "$dir"
}
