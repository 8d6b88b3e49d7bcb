#!/usr/bin/env bash
# Side-by-side speed of xcbench against the reference implementations in
# ../shared/bench (see its README): each "step" is a pair of commands doing
# the same work, one xcbench, one reference, that print one JSON line each
# with a timing key. The pair runs alternately (A B, then B A, ...) --pairs
# times per data set, every JSON line is kept (tagged with step, data set,
# pair and side) in --out, and a table gives the median over pairs of
# reference/xcbench for the timing key: above 1 means xcbench is faster.
#
# Not part of .ci/run: it installs the Debian reference (python3-sklearn)
# and times whole processes, which only means something on a quiet machine.
#
# usage: scripts/bench-references.sh [--pairs N] [--out FILE] [--append] [--steps tfidf-knn[,tfidf-knn-before]] [DATASET...]
#   --append keeps the records already in FILE (the table lists each run).
#   DATASET names folders of $XCBENCH_DATA (default ../shared/data);
#   default cooking bibtex delicious debdeps.
#
# Adding a step (e.g. the encoder steps of ../shared/bench): write
# step_<name>_xcbench and step_<name>_reference taking the data set folder
# and printing one JSON line (run the process under "${limit[@]}"), set
# timing_key_<name>, and list it in --steps.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs=3
out=reports/results/bench/tfidf-knn-vs-sklearn.jsonl
steps=tfidf-knn
append=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --append) append=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    --*) echo "bench-references: unknown flag $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
datasets=("$@")
[ ${#datasets[@]} -gt 0 ] || datasets=(cooking bibtex delicious debdeps)
data_root=${XCBENCH_DATA:-../shared/data}
ref_dir=${XCBENCH_REFERENCE_DIR:-../shared/bench}
# Debian's python (the reference is Debian's scikit-learn), not whatever
# python3 comes first on PATH.
py=/usr/bin/python3
export OMP_NUM_THREADS=2
limit=(timeout "${XCBENCH_BENCH_TIMEOUT:-1200}")
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT

# --- setup --------------------------------------------------------------
install_reference() {
  if ! "$py" -c 'import sklearn' >/dev/null 2>&1 || ! command -v jq >/dev/null; then
    local sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq python3-sklearn jq >/dev/null
  fi
}

# build_xcbench stamps the commit (and -dirty for uncommitted tracked
# changes) so every record names the source that produced it.
build_xcbench() {
  export PATH="$(scripts/ensure-go.sh):$PATH"
  local commit dirty=false pkg=github.com/xcbench/xcbench/core/buildinfo
  commit=$(git rev-parse HEAD)
  # The records file itself may be tracked and growing (--append): it is
  # no source, so it does not make the build dirty (scripts/build.sh would
  # count it).
  [ -z "$(git status --porcelain --untracked-files=no -- . ":(exclude)$out")" ] || dirty=true
  mkdir -p bin
  go build -ldflags "-X $pkg.commit=$commit -X $pkg.dirty=$dirty" -o bin/xcbench ./cmd/xcbench
}

# --- steps --------------------------------------------------------------
# tf-idf kNN: scikit-learn TfidfVectorizer/TfidfTransformer defaults, k=10,
# top 5 labels; predict_s is the test transform + neighbours + labels.
timing_key_tfidf_knn=predict_s
step_tfidf_knn_xcbench() { "${limit[@]}" bin/xcbench bench tfidf-knn --data "$1" --k 10 --out -; }
step_tfidf_knn_reference() { "${limit[@]}" "$py" "$ref_dir/sk_tfidf.py" "$1"; }

# tfidf-knn-before: the same command against an older xcbench build (the
# "reference" side is $XCBENCH_BEFORE), to measure a change of our own.
timing_key_tfidf_knn_before=predict_s
step_tfidf_knn_before_xcbench() { step_tfidf_knn_xcbench "$1"; }
step_tfidf_knn_before_reference() {
  "${limit[@]}" "${XCBENCH_BEFORE:?set XCBENCH_BEFORE to an older xcbench binary}" bench tfidf-knn --data "$1" --k 10 --out -
}

# --- driver -------------------------------------------------------------
# run_side STEP SIDE DATASET PAIR: one process, its JSON line tagged and
# appended to $out; a failure is recorded as a line with "error".
run_side() {
  local fn="step_${1//-/_}_$2" line rc=0
  line=$("$fn" "$data_root/$3" 2>"$errlog" | tail -n 1) || rc=$?
  if [ $rc -ne 0 ] || ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$line"; then
    line=$(jq -cn --arg e "exit $rc: $(tail -n 3 "$errlog")" '{error: $e}')
  fi
  jq -c --arg step "$1" --arg side "$2" --arg ds "$3" --argjson pair "$4" --arg key "$(timing_key "$1")" --arg run "$run_id" \
    '{step: $step, dataset: $ds, run: $run, pair: $pair, side: $side, timing_key: $key} + .' <<<"$line" >>"$out"
  jq -r '"  \(.step) \(.dataset) pair \(.pair) \(.side): \(.timing_key) \(.[.timing_key] // .error)"' <<<"$(tail -n 1 "$out")"
}

timing_key() { local v="timing_key_${1//-/_}"; echo "${!v}"; }

run_id=$(date -u +%Y%m%dT%H%M%SZ)
install_reference
build_xcbench
mkdir -p "$(dirname "$out")"
[ "$append" = 1 ] || : >"$out"
echo "bench-references: $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), pairs $pairs -> $out"
for step in ${steps//,/ }; do
  declare -F "step_${step//-/_}_xcbench" >/dev/null || { echo "bench-references: unknown step $step" >&2; exit 2; }
  for ds in "${datasets[@]}"; do
    for ((p = 1; p <= pairs; p++)); do
      # Alternate which side goes first, so a drift in machine load
      # during a pair does not always favour the same side.
      if ((p % 2)); then order="xcbench reference"; else order="reference xcbench"; fi
      for side in $order; do run_side "$step" "$side" "$ds" "$p"; done
    done
  done
done

# Ratio table: per (step, data set, run), the median over complete pairs of
# reference/xcbench for the step's timing key.
"$py" - "$out" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    groups.setdefault((r["step"], r["dataset"], r["run"]), {}).setdefault(r["pair"], {})[r["side"]] = r
print()
print("| step | data set | run | pairs | timing | reference (median) | xcbench (median) | median ratio ref/xcbench | P@1 ref / xcbench |")
print("|---|---|---|---|---|---|---|---|---|")
for (step, ds, run), pairs in groups.items():
    k = next(s["timing_key"] for p in pairs.values() for s in p.values())
    ok = [p for p in pairs.values() if all(s in p and k in p[s] for s in ("reference", "xcbench"))]
    errs = sorted({p[s]["error"] for p in pairs.values() for s in p if "error" in p[s]})
    if not ok:
        print(f"| {step} | {ds} | {run} | 0 | {k} | failed: {' '.join('; '.join(errs).split())[:80]} | | | |")
        continue
    ref = statistics.median(p["reference"][k] for p in ok)
    xc = statistics.median(p["xcbench"][k] for p in ok)
    ratio = statistics.median(p["reference"][k] / p["xcbench"][k] for p in ok)
    p1 = lambda s: statistics.median(p[s].get("P@1", float("nan")) for p in ok)
    print(f"| {step} | {ds} | {run} | {len(ok)} | {k} | {ref:.3f} s | {xc:.3f} s | {ratio:.2f} | {p1('reference'):.4f} / {p1('xcbench'):.4f} |")
EOF
