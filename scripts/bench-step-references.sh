#!/usr/bin/env bash
# Side-by-side speed of the bow training step: `xcbench bench step` against
# the libtorch reference ../shared/bench/bow_step.cpp (the same step: docs
# and labels 32 random tokens, dim 128, residual linear, L2 norm, B x B
# scores, top-5 triplet, AdamW), alternated xcbench, libtorch, xcbench, ...
# so that load drift hits both alike. For each shape it prints the medians
# and the median of the per-pair ratios, and appends every raw measurement
# as one JSON line to encoders/testdata/measured/bench-step-references.jsonl
# (with the load average at the start of each run: note it when quoting).
#
#   scripts/bench-step-references.sh            # 3 pairs per shape, 30 steps
#   PAIRS=5 STEPS=50 scripts/bench-step-references.sh
#   SHAPES="1024:50000" scripts/bench-step-references.sh
#   NO_INSTALL=1 ...   skip apt-get (references already installed)
#   OMP_NUM_THREADS=1 ...   libtorch on one thread (default 2; on a loaded
#                           machine its 2-thread OpenMP pool collapses)
#   TR_SHAPES="64:1 64:2" ...   transformer B:layers against tr_step.py
#                              (PyTorch; default "64:1", "" = none)
#
# Installs the Debian references (libtorch-dev, libopenblas0-pthread,
# python3-torch) when missing; if libtorch cannot be built it says so and
# measures xcbench alone. Build outputs go to .bench-step/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-3}
STEPS=${STEPS:-30}
SHAPES=${SHAPES:-"1024:50000 1024:1000 256:50000"}
TR_SHAPES=${TR_SHAPES-"64:1"}
SYSPY=${SYSPY:-/usr/bin/python3} # Debian's python3-torch lives there
REF=${REF:-../shared/bench}
OUT=.bench-step
RECORD=${RECORD:-encoders/testdata/measured/bench-step-references.jsonl}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
mkdir -p "$OUT" "$(dirname "$RECORD")"

if [ -z "${NO_INSTALL:-}" ] && ! dpkg -s libtorch-dev libopenblas0-pthread >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtorch-dev libopenblas0-pthread python3-torch ||
      echo "bench-step-references: apt-get install failed" >&2
  else
    echo "bench-step-references: not root, cannot install libtorch-dev" >&2
  fi
fi

have_torch=
if [ -f "$REF/bow_step.cpp" ]; then
  if [ "$OUT/bow_step" -nt "$REF/bow_step.cpp" ] ||
    g++ -O2 -std=c++17 "$REF/bow_step.cpp" -I/usr/include/torch/csrc/api/include -ltorch -ltorch_cpu -lc10 -o "$OUT/bow_step" 2>"$OUT/bow_step.build.log"; then
    have_torch=1
  else
    echo "bench-step-references: building bow_step failed (see $OUT/bow_step.build.log); measuring xcbench alone" >&2
  fi
else
  echo "bench-step-references: $REF/bow_step.cpp not found; measuring xcbench alone" >&2
fi

bin=$(scripts/build.sh)
run=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# peak runs "$@" and prints its stdout, then a line "PEAK_KIB n" (the
# child's ru_maxrss), since the references report no memory themselves.
peak() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
sys.stdout.write(p.stdout)
print("PEAK_KIB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(p.returncode)
EOF
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for shape in $SHAPES; do
  b=${shape%%:*} v=${shape##*:}
  for p in $(seq 1 "$PAIRS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$bin" bench step --encoder bow --batch-size "$b" --vocab "$v" --seq 32 --dim 128 --negatives 5 --residual --steps "$STEPS" --out - 2>/dev/null |
      python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(tool="xcbench", run=sys.argv[1], pair=int(sys.argv[2]), loadavg=float(sys.argv[3])); print(json.dumps(r))' "$run" "$p" "$load" |
      tee -a "$RECORD" >>"$tmp"
    if [ -n "$have_torch" ]; then
      load=$(cut -d' ' -f1 /proc/loadavg)
      peak "$OUT/bow_step" "$b" "$v" "$STEPS" |
        python3 -c '
import json, re, sys
txt = sys.stdin.read()
m = re.search(r"libtorch (\S+) threads=(\d+) B=(\d+) V=(\d+): ([\d.]+) ms/step, ([\d.]+) pairs/s", txt)
k = re.search(r"PEAK_KIB (\d+)", txt)
if not m or not k:
    sys.exit("bench-step-references: cannot parse bow_step output: " + txt)
print(json.dumps(dict(tool="libtorch", version=m.group(1), threads=int(m.group(2)), batch_size=int(m.group(3)),
    vocab=int(m.group(4)), ms_per_step=float(m.group(5)), pairs_per_s=float(m.group(6)),
    peak_rss_mib=int(k.group(1)) / 1024, steps=int(sys.argv[2]), run=sys.argv[1], pair=int(sys.argv[3]), loadavg=float(sys.argv[4]))))
' "$run" "$STEPS" "$p" "$load" | tee -a "$RECORD" >>"$tmp"
    fi
  done
done

# Transformer: tr_step.py (D=64, 4 heads, FFN 128, S=32, V=30002, InfoNCE)
# against bench step at the same settings.
if [ -n "$TR_SHAPES" ] && [ -f "$REF/tr_step.py" ] && "$SYSPY" -c 'import torch' 2>/dev/null; then
  for shape in $TR_SHAPES; do
    b=${shape%%:*} l=${shape##*:}
    trsteps=$(( STEPS < 10 ? STEPS : 10 ))
    for p in $(seq 1 "$PAIRS"); do
      load=$(cut -d' ' -f1 /proc/loadavg)
      "$bin" bench step --encoder transformer --batch-size "$b" --layers "$l" --vocab 30002 --dim 64 --seq 32 --steps "$trsteps" --warmup 2 --out - 2>/dev/null |
        python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(tool="xcbench", run=sys.argv[1], pair=int(sys.argv[2]), loadavg=float(sys.argv[3])); print(json.dumps(r))' "$run" "$p" "$load" |
        tee -a "$RECORD" >>"$tmp"
      load=$(cut -d' ' -f1 /proc/loadavg)
      peak "$SYSPY" "$REF/tr_step.py" "$b" "$l" "$trsteps" |
        python3 -c '
import json, re, sys
txt = sys.stdin.read()
m = re.search(r"pytorch (\S+) transformer B=(\d+) L=(\d+): ([\d.]+) ms/step, ([\d.]+) pairs/s", txt)
k = re.search(r"PEAK_KIB (\d+)", txt)
if not m or not k:
    sys.exit("bench-step-references: cannot parse tr_step.py output: " + txt)
print(json.dumps(dict(tool="pytorch", encoder="transformer", version=m.group(1), batch_size=int(m.group(2)), layers=int(m.group(3)),
    vocab=30002, ms_per_step=float(m.group(4)), pairs_per_s=float(m.group(5)), peak_rss_mib=int(k.group(1)) / 1024,
    steps=int(sys.argv[2]), run=sys.argv[1], pair=int(sys.argv[3]), loadavg=float(sys.argv[4]))))
' "$run" "$trsteps" "$p" "$load" | tee -a "$RECORD" >>"$tmp"
    done
  done
fi

python3 - "$tmp" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
key = lambda r: (r.get("encoder", "bow"), r["batch_size"], r["vocab"], r.get("layers") if r.get("encoder") == "transformer" else None)
print("| step | xcbench pairs/s | reference | reference pairs/s | ratio (median of pairs) | xcbench peak MiB | reference peak MiB | load avg |")
print("|---|---|---|---|---|---|---|---|")
for k in sorted({key(r) for r in rows}, key=lambda k: (k[0], -k[1], -k[2])):
    enc, b, v, layers = k
    same = [r for r in rows if key(r) == k]
    x = {r["pair"]: r for r in same if r["tool"] == "xcbench"}
    t = {r["pair"]: r for r in same if r["tool"] != "xcbench"}
    first = next(iter(t.values())) if t else None
    ref = ("%s (%s threads)" % (first["tool"], first.get("threads", 2))) if first else "none"
    med = lambda rs, f: statistics.median(r[f] for r in rs.values())
    ratios = [x[p]["pairs_per_s"] / t[p]["pairs_per_s"] for p in x if p in t]
    loads = [r["loadavg"] for r in same]
    name = "bow B=%d V=%d" % (b, v) if enc == "bow" else "transformer B=%d, %d layer(s)" % (b, layers)
    print("| %s | %.0f | %s | %s | %s | %.0f | %s | %.1f-%.1f |" % (name, med(x, "pairs_per_s"), ref,
        "%.0f" % med(t, "pairs_per_s") if t else "n/a", "%.2fx" % statistics.median(ratios) if ratios else "n/a",
        med(x, "peak_rss_mib"), "%.0f" % med(t, "peak_rss_mib") if t else "n/a", min(loads), max(loads)))
EOF
