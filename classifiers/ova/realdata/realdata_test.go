package realdata

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xcbench/xcbench/classifiers/ova"
	"github.com/xcbench/xcbench/classifiers/tfidfknn"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/encoders/bow"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

type embeddings struct{ train, test, labels sdk.Matrix }

// bowEmbeddings trains the bow encoder for a few epochs of in-batch
// triplet loss with uniformly sampled positives, then encodes everything.
func bowEmbeddings(t *testing.T, ds *data.Dataset, epochs int, params string) embeddings {
	ctx := context.Background()
	enc := bow.New()
	enc.Dataset = ds
	if err := enc.Configure(ctx, sdk.Config{Params: json.RawMessage(params), Seed: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for e := 0; e < epochs; e++ {
		for _, b := range siamesetest.Batches(ds.TrainY, 256, 1, e) {
			if _, err := enc.TrainStep(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("bow encoder: %d epochs in %v", epochs, time.Since(start).Round(time.Millisecond))
	var out embeddings
	for _, sp := range []struct {
		split sdk.Split
		dst   *sdk.Matrix
	}{{sdk.SplitTrain, &out.train}, {sdk.SplitTest, &out.test}, {sdk.SplitLabels, &out.labels}} {
		m, err := enc.Encode(ctx, sp.split, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *sp.dst, err = sdk.LoadMatrix(m); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// projEmbeddings are fixed: tf-idf rows (documents: their features; labels:
// their names tokenised onto the feature vocabulary) times a seeded
// Gaussian projection to dim columns.
func projEmbeddings(t *testing.T, ds *data.Dataset, dim int) embeddings {
	m, err := tfidfknn.Fit(ds, 10)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 0))
	nf := ds.TrainX.NCols
	r := make([]float32, nf*dim)
	for i := range r {
		r[i] = float32(rng.NormFloat64() / math.Sqrt(float64(dim)))
	}
	proj := func(x *sparse.CSR) sdk.Matrix {
		x = m.Transform(x)
		out := sdk.Matrix{Rows: x.NRows, Cols: dim, Data: make([]float32, x.NRows*dim)}
		for i := 0; i < x.NRows; i++ {
			cols, vals := x.Row(i)
			row := out.Data[i*dim : (i+1)*dim]
			for k, c := range cols {
				if int(c) >= nf {
					continue
				}
				for j, w := range r[int(c)*dim : (int(c)+1)*dim] {
					row[j] += vals[k] * w
				}
			}
		}
		return out
	}
	return embeddings{proj(ds.TrainX), proj(ds.TestX), proj(ds.LabelX)}
}

func TestRealData(t *testing.T) {
	if os.Getenv("XCBENCH_REAL_DATA") == "" {
		t.Skip("real-data report: set XCBENCH_REAL_DATA=1 (minutes on 2 cores)")
	}
	root, err := data.SharedDataDir()
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	names := []string{"bibtex", "delicious", "cooking"}
	if s := os.Getenv("XCBENCH_REAL_SETS"); s != "" {
		names = strings.Split(s, ",")
	}
	sources := []string{"bow", "proj"}
	if s := os.Getenv("XCBENCH_REAL_EMB"); s != "" {
		sources = strings.Split(s, ",")
	}
	ovaParams := os.Getenv("XCBENCH_OVA_PARAMS")
	if ovaParams == "" {
		ovaParams = `{}`
	}
	ctx := context.Background()
	for _, name := range names {
		ds, err := data.Open(filepath.Join(root, name), data.Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		a, b := ds.PropA, ds.PropB
		if a == 0 && b == 0 {
			a, b = 0.55, 1.5
		}
		inv := metrics.InvPropensity(ds.TrainY, a, b)
		for _, src := range sources {
			t.Run(name+"/"+src, func(t *testing.T) {
				cache := os.Getenv("XCBENCH_EMB_CACHE")
				emb, cached := loadCached(cache, name, src)
				switch {
				case cached:
					t.Logf("embeddings from %s", cache)
				case src == "bow":
					emb = bowEmbeddings(t, ds, 10, `{"dim": 128, "batch_size": 256, "lr": 0.01, "warmup_steps": 20}`)
				case src == "proj":
					emb = projEmbeddings(t, ds, 256)
				default:
					t.Fatalf("unknown embedding source %q", src)
				}
				if cache != "" && !cached {
					storeCached(t, cache, name, src, emb)
				}
				c := ova.New()
				if err := c.ConfigureDataset(ctx, sdk.Config{Params: json.RawMessage(ovaParams), Seed: 1}, ds); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				st, err := c.Train(ctx, sdk.TrainInput{TrainDocs: emb.train, Labels: emb.labels})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("ova train %v loss %.4f detail %v", time.Since(start).Round(time.Millisecond), st.Loss, st.Detail)
				p1 := map[string]float64{}
				for _, mode := range []string{"knn", "none", "sum", "tree"} {
					pred, err := ova.PredictWith(ctx, c, emb.test, 5, mode)
					if err != nil {
						t.Fatal(err)
					}
					r, err := metrics.Evaluate(pred, ds.TestY, ds.FilterTest, inv, []int{1, 3, 5})
					if err != nil {
						t.Fatal(err)
					}
					p1[mode] = r.P[0]
					t.Logf("%-9s %-5s %-4s P@1/3/5 %s  PSP@1/3/5 %s", name, src, mode, pct(r.P), pct(r.PSP))
				}
				if p1["none"] <= p1["knn"] {
					t.Errorf("ova P@1 %.4f not above knn %.4f", p1["none"], p1["knn"])
				}
			})
		}
	}
}

func pct(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", 100*x)
	}
	return strings.Join(s, "/")
}

// loadCached reads embeddings stored by storeCached (XCBENCH_EMB_CACHE), so
// classifier settings can be compared without retraining the encoder.
func loadCached(dir, name, src string) (embeddings, bool) {
	if dir == "" {
		return embeddings{}, false
	}
	var e embeddings
	for _, p := range []struct {
		part string
		dst  *sdk.Matrix
	}{{"train", &e.train}, {"test", &e.test}, {"labels", &e.labels}} {
		m, err := sdk.LoadMatrix(sdk.Matrix{Path: filepath.Join(dir, name+"_"+src+"_"+p.part+".npy")})
		if err != nil {
			return embeddings{}, false
		}
		*p.dst = m
	}
	return e, true
}

func storeCached(t *testing.T, dir, name, src string, e embeddings) {
	for _, p := range []struct {
		part string
		m    sdk.Matrix
	}{{"train", e.train}, {"test", e.test}, {"labels", e.labels}} {
		if _, err := sdk.StoreMatrix(dir, name+"_"+src+"_"+p.part, p.m); err != nil {
			t.Fatal(err)
		}
	}
}
