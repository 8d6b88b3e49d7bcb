package wire_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// echo is an encoder and sampler whose answers reveal what crossed the wire.
type echo struct{ cols int }

func (e *echo) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "echo", Kind: sdk.KindEncoder, Version: "0", APIVersions: []int{1}}, nil
}
func (e *echo) Configure(context.Context, sdk.Config) error { return nil }

// TrainStep reports how many negatives arrived; doc -1 panics.
func (e *echo) TrainStep(_ context.Context, b sdk.Batch) (sdk.StepStats, error) {
	if len(b.Docs) > 0 && b.Docs[0] == -1 {
		panic("asked to panic")
	}
	n := 0
	for _, l := range b.Negatives {
		n += len(l)
	}
	return sdk.StepStats{Items: n}, nil
}

func (e *echo) Encode(_ context.Context, _ sdk.Split, ids []int32) (sdk.Matrix, error) {
	m := sdk.Matrix{Rows: len(ids), Cols: e.cols, Data: make([]float32, len(ids)*e.cols)}
	for i := range m.Data {
		m.Data[i] = float32(i % 977)
	}
	return m, nil
}
func (e *echo) Save(context.Context, string) error { return nil }
func (e *echo) Load(context.Context, string) error { return sdk.ErrUnimplemented }

func (e *echo) Plan(context.Context, int) (sdk.RefreshPlan, error) { return sdk.RefreshPlan{}, nil }

// Refresh reports the sum of the docs it received as Hardness.
func (e *echo) Refresh(_ context.Context, _ int, docs, _ sdk.Matrix) (sdk.RefreshStats, error) {
	var s float64
	for _, v := range docs.Data {
		s += float64(v)
	}
	return sdk.RefreshStats{Hardness: s, Detail: map[string]float64{"rows": float64(docs.Rows)}}, nil
}
func (e *echo) Batches(context.Context, int, int) iter.Seq2[sdk.Batch, error] {
	return func(func(sdk.Batch, error) bool) {}
}

func sum(m sdk.Matrix) float64 {
	var s float64
	for _, v := range m.Data {
		s += float64(v)
	}
	return s
}

func TestGRPCLargeMatrices(t *testing.T) {
	ctx := context.Background()
	scratch := t.TempDir()
	enc := plugintest.Connect(t, sdk.KindEncoder, &echo{cols: 1300}).(sdk.Encoder)
	smp := plugintest.Connect(t, sdk.KindSampler, &echo{}).(sdk.Sampler)
	for _, p := range []sdk.Plugin{enc, smp} {
		if err := p.Configure(ctx, sdk.Config{ScratchDir: scratch}); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]int32, 1000) // 1000 x 1300 x 4 B = 5.2 MB
	big, err := enc.Encode(ctx, sdk.SplitTrain, ids)
	if err != nil {
		t.Fatal(err)
	}
	if big.Path == "" || big.Data != nil || big.Rows != 1000 || big.Cols != 1300 {
		t.Fatalf("plugin->host 5.2 MB: got %dx%d path %q data %v; want a path only", big.Rows, big.Cols, big.Path, big.Data != nil)
	}
	loaded, err := sdk.LoadMatrix(big)
	if err != nil {
		t.Fatal(err)
	}
	want := sum(loaded)

	files := func() int { es, _ := os.ReadDir(scratch); return len(es) }
	tests := []struct {
		name     string
		m        sdk.Matrix
		newFiles int
	}{
		{"path passes through", big, 0},
		{"host data over 1 MiB goes via npy", sdk.Matrix{Rows: loaded.Rows, Cols: loaded.Cols, Data: loaded.Data}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n0 := files()
			st, err := smp.Refresh(ctx, 0, tc.m, sdk.Matrix{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Hardness != want || st.Detail["rows"] != 1000 {
				t.Fatalf("plugin saw sum %v rows %v, want %v and 1000", st.Hardness, st.Detail["rows"], want)
			}
			if got := files() - n0; got != tc.newFiles {
				t.Fatalf("%d new scratch files, want %d", got, tc.newFiles)
			}
		})
	}

	// 1.5M negative ids (6 MB) in one message: over gRPC's 4 MiB default,
	// under the 256 MiB limit the production server sets.
	neg := make([]int32, 1_500_000)
	st, err := enc.TrainStep(ctx, sdk.Batch{Docs: []int32{0}, Positives: []int32{0}, Negatives: [][]int32{neg}})
	if err != nil {
		t.Fatalf("6 MB TrainStep: %v", err)
	}
	if st.Items != len(neg) {
		t.Fatalf("plugin saw %d negatives, want %d", st.Items, len(neg))
	}
}

func TestGRPCErrors(t *testing.T) {
	ctx := context.Background()
	enc := plugintest.Connect(t, sdk.KindEncoder, &echo{cols: 2}).(sdk.Encoder)
	tests := []struct {
		name    string
		call    func() error
		is      error
		message string
	}{
		{"panic becomes an error", func() error {
			_, err := enc.TrainStep(ctx, sdk.Batch{Docs: []int32{-1}, Positives: []int32{0}})
			return err
		}, nil, "panic in TrainStep: asked to panic"},
		{"server survives the panic", func() error { _, err := enc.Describe(ctx); return err }, nil, ""},
		{"no memory bank", func() error {
			_, err := enc.(sdk.MemoryBanker).MemoryBank(ctx)
			return err
		}, sdk.ErrUnimplemented, "no memory bank"},
		{"sentinel from the component", func() error { return enc.Load(ctx, "x") }, sdk.ErrUnimplemented, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.message == "" && tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err %q lacks %q", err, tc.message)
			}
		})
	}
}

// TestGRPCPredictChunks streams 70,000 rows of top-5 (2.8 MB) in chunks.
func TestGRPCPredictChunks(t *testing.T) {
	ctx := context.Background()
	local := toy.NewClassifier().(sdk.Classifier)
	remote := plugintest.Connect(t, sdk.KindClassifier, toy.NewClassifier()).(sdk.Classifier)
	labels := plugintest.RandomUnit(30, 4, 1)
	docs := plugintest.RandomUnit(70_000, 4, 2)
	var tops []sdk.TopK
	for _, c := range []sdk.Classifier{local, remote} {
		if err := c.Configure(ctx, sdk.Config{ScratchDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Train(ctx, sdk.TrainInput{Labels: labels}); err != nil {
			t.Fatal(err)
		}
		top, err := c.Predict(ctx, sdk.SplitTest, docs, 5)
		if err != nil {
			t.Fatal(err)
		}
		tops = append(tops, top)
	}
	a, b := tops[0], tops[1]
	if a.Rows != b.Rows || a.K != b.K || len(b.Labels) != 70_000*5 {
		t.Fatalf("remote %dx%d, local %dx%d", b.Rows, b.K, a.Rows, a.K)
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] || a.Scores[i] != b.Scores[i] {
			t.Fatalf("entry %d: remote (%d,%v), local (%d,%v)", i, b.Labels[i], b.Scores[i], a.Labels[i], a.Scores[i])
		}
	}
}

// BenchmarkRefreshTransfer measures host->plugin matrix hand-over over real
// gRPC (in-process server): 8 MB of host data (written to .npy, then read
// by the plugin side), the same as an existing path, and a 1 MiB inline one.
func BenchmarkRefreshTransfer(b *testing.B) {
	ctx := context.Background()
	smp := plugintest.Connect(b, sdk.KindSampler, &echo{}).(sdk.Sampler)
	scratch := b.TempDir()
	if err := smp.Configure(ctx, sdk.Config{ScratchDir: scratch}); err != nil {
		b.Fatal(err)
	}
	big := plugintest.RandomUnit(8192, 256, 1) // 8 MiB
	stored, err := sdk.StoreMatrix(scratch, "big", big)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		m    sdk.Matrix
	}{
		{"data-8MiB-via-npy", big},
		{"path-8MiB", sdk.Matrix{Rows: stored.Rows, Cols: stored.Cols, Path: stored.Path}},
		{"inline-1MiB", plugintest.RandomUnit(1024, 256, 2)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * c.m.Rows * c.m.Cols))
			for b.Loop() {
				if _, err := smp.Refresh(ctx, 0, c.m, sdk.Matrix{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
