#!/usr/bin/env python3
"""Independent pure-Python transcription of pyxclib's xc_metrics (no numpy),
used to produce the golden values in metrics_test.go.

usage: pyxclib_ref.py pred.txt truth.txt [--filter f.txt] [--train-y y.txt --A a --B b] [--k 1,3,5]
Files are in the pyxclib sparse text format (header "rows cols").
"""
import math
import sys


def read_sparse(path):
    with open(path) as f:
        nr, nc = map(int, f.readline().split())
        rows = []
        for line in f:
            ents = []
            for tok in line.split():
                c, v = tok.split(":")
                ents.append((int(c), float(v)))
            rows.append(ents)
    while len(rows) < nr:
        rows.append([])
    return nr, nc, rows


def main(argv):
    pred, truth = argv[0], argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    ks = [int(k) for k in opts.get("--k", "1,3,5").split(",")]
    kmax = max(ks)
    _, _, P = read_sparse(pred)
    nr, nc, T = read_sparse(truth)
    if "--filter" in opts:
        # filter_predictions: zero the pairs, then eliminate_zeros()
        pairs = set()
        with open(opts["--filter"]) as f:
            for line in f:
                if line.strip():
                    r, l = map(int, line.split())
                    pairs.add((r, l))
        P = [[(c, v) for c, v in row if (i, c) not in pairs and v != 0] for i, row in enumerate(P)]
    inv = None
    if "--train-y" in opts:
        a, b = float(opts["--A"]), float(opts["--B"])
        tn, tc, TY = read_sparse(opts["--train-y"])
        freq = [0.0] * tc
        for row in TY:
            for c, v in row:
                freq[c] += v
        C = (math.log(tn) - 1) * (b + 1) ** a
        inv = [1 + C * (f + b) ** (-a) for f in freq]
    pad = nc

    def topk(row):
        # CSR rows are column-sorted; a stable sort by -score keeps label order on ties
        row = sorted(row, key=lambda e: e[0])
        row = sorted(row, key=lambda e: -e[1])[:kmax]
        return [c for c, _ in row] + [pad] * (kmax - len(row))

    total_pos = [int(sum(v for _, v in row)) for row in T]
    max_pos = max(max(total_pos), kmax)
    cs = []
    acc = 0.0
    for i in range(1, max_pos + 1):
        acc += 1 / math.log2(i + 1)
        cs.append(acc)
    n = [cs[t - 1] for t in total_pos]  # t == 0 -> cs[-1], as numpy does

    def flags(idx_rows, w):
        out = []
        for i, idx in enumerate(idx_rows):
            tr = dict(T[i])
            f = []
            for c in idx:
                y = tr.get(c, 0.0)
                if w is not None:
                    y = y * (w[c] if c < nc else 0.0)
                f.append(y)
            out.append(f)
        return out

    def precision(fl):
        return [sum(sum(r[:k]) / k for r in fl) / nr for k in range(1, kmax + 1)]

    def ndcg(fl):
        res = []
        for k in range(1, kmax + 1):
            s = 0.0
            for i, r in enumerate(fl):
                dcg = sum(r[j] / math.log2(j + 2) for j in range(k))
                s += dcg / min(n[i], cs[k - 1] if k - 1 < len(cs) else acc)
            res.append(s / nr)
        return res

    idx = [topk(r) for r in P]
    fl = flags(idx, None)
    out = {"P": precision(fl), "nDCG": ndcg(fl)}
    rec = []
    for k in range(1, kmax + 1):
        rec.append(sum(sum(r[:k]) / (total_pos[i] if total_pos[i] else 1) for i, r in enumerate(fl)) / nr)
    out["R"] = rec
    if inv is not None:
        ps_idx = [[c for c, _ in sorted(((c, v * inv[c]) for c, v in row), key=lambda e: -e[1])][:kmax] for row in T]
        ps_idx = [r + [pad] * (kmax - len(r)) for r in ps_idx]
        wf, iwf = flags(idx, inv), flags(ps_idx, inv)
        out["PSP"] = [a / b if b else 0 for a, b in zip(precision(wf), precision(iwf))]
        out["PSnDCG"] = [a / b if b else 0 for a, b in zip(ndcg(wf), ndcg(iwf))]
    for name in ["P", "nDCG", "PSP", "PSnDCG", "R"]:
        if name in out:
            print(name, " ".join("%d:%.10f" % (k, out[name][k - 1]) for k in ks))


if __name__ == "__main__":
    main(sys.argv[1:])
