package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/buildinfo"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/memory"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// StepOptions holds `xcbench bench step`'s flags.
type StepOptions struct {
	Out       string
	Encoder   string
	BatchSize int
	Vocab     int
	Seq       int
	Dim       int
	Negatives int
	Residual  bool
	Layers    int
	Steps     int
	Warmup    int
	Params    string
	CPUProf   string
}

// StepReport is what `bench step` writes: one JSON object.
type StepReport struct {
	Build     buildinfo.Info   `json:"build"`
	Time      time.Time        `json:"time"`
	Host      results.HostInfo `json:"host"`
	Encoder   string           `json:"encoder"`
	BatchSize int              `json:"batch_size"`
	Vocab     int              `json:"vocab"`
	Seq       int              `json:"seq"`
	Dim       int              `json:"dim"`
	Negatives int              `json:"negatives"`
	Residual  bool             `json:"residual"`
	Layers    int              `json:"layers,omitempty"`
	// Params are the encoder params used (the flags' plus --params).
	Params     map[string]any `json:"params"`
	Steps      int            `json:"steps"`
	MsPerStep  float64        `json:"ms_per_step"`
	PairsPerS  float64        `json:"pairs_per_s"`
	PeakRSSMiB float64        `json:"peak_rss_mib"`
	MeanLoss   float64        `json:"mean_loss"`
}

func newBenchStepCmd() *cobra.Command {
	o := &StepOptions{}
	cmd := &cobra.Command{
		Use:   "step",
		Short: "Time one encoder training step at the reference shapes (for side-by-side runs with libtorch/PyTorch)",
		Long: `Step times the encoder's training step in this process on the shapes of the
reference programs in shared/bench (bow_step.cpp, tr_step.py): documents and
labels each --seq tokens drawn uniformly from [1, --vocab), document i's only
label is label i, batches of --batch-size consecutive documents with their own
labels as positives (in-batch negatives, top --negatives triplet for bow).
--warmup untimed steps (compilation) come first. peak_rss_mib is the whole
process's VmHWM at the end, as /usr/bin/time reports for the references.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBenchStep(cmd.Context(), cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", "-", "JSON output file (- for stdout)")
	f.StringVar(&o.Encoder, "encoder", "bow", "bow or transformer")
	f.IntVar(&o.BatchSize, "batch-size", 1024, "documents (pairs) per step")
	f.IntVar(&o.Vocab, "vocab", 50000, "vocabulary size")
	f.IntVar(&o.Seq, "seq", 32, "tokens per document and per label")
	f.IntVar(&o.Dim, "dim", 128, "embedding width")
	f.IntVar(&o.Negatives, "negatives", 5, "bow: hardest in-batch negatives per document (triplet k)")
	f.BoolVar(&o.Residual, "residual", true, "bow: residual linear layer")
	f.IntVar(&o.Layers, "layers", 1, "transformer: layers")
	f.IntVar(&o.Steps, "steps", 30, "timed steps")
	f.IntVar(&o.Warmup, "warmup", 3, "untimed steps first (compilation, allocation)")
	f.StringVar(&o.CPUProf, "cpuprofile", "", "write a CPU profile of the timed steps to this file")
	f.StringVar(&o.Params, "params", "", `extra encoder params as a JSON object, overriding the flags' (e.g. '{"engine": "graph"}')`)
	return cmd
}

func init() {
	// Registered after newBenchCmd by name: a subcommand of `bench`.
	benchSubcommands = append(benchSubcommands, newBenchStepCmd)
}

// stepParams are the encoder params for the options.
func stepParams(o *StepOptions) (map[string]any, error) {
	p := map[string]any{"dim": o.Dim, "batch_size": o.BatchSize}
	switch o.Encoder {
	case "bow":
		// bow_step.cpp: top-k triplet, margin 0.3.
		p["residual"] = o.Residual
		p["max_tokens"] = o.Seq
		p["loss"], p["margin"], p["num_negatives"] = "triplet", 0.3, o.Negatives
	case "transformer":
		// tr_step.py: 4 heads, FFN 128, InfoNCE at temperature 0.05
		// (--dim 64 --vocab 30002 match it).
		p["layers"] = o.Layers
		p["max_len"] = o.Seq
		p["heads"], p["ffn"] = 4, 128
		p["loss"], p["temperature"] = "infonce", 0.05
	default:
		return nil, fmt.Errorf("bench step: --encoder %q: want bow or transformer", o.Encoder)
	}
	if o.Params != "" {
		var extra map[string]any
		if err := json.Unmarshal([]byte(o.Params), &extra); err != nil {
			return nil, fmt.Errorf("bench step: --params: %w", err)
		}
		maps.Copy(p, extra)
	}
	return p, nil
}

// StepData builds the reference shapes: n documents and n labels of seq
// tokens each, uniform on [1, vocab) (repeats within a row become counts,
// the same mean as the reference's sum over positions), doc i labelled i.
func StepData(vocab, seq, n int, seed uint64) (*data.Dataset, error) {
	if vocab < 2 || seq < 1 || n < 2 {
		return nil, fmt.Errorf("bench step: need vocab >= 2, seq >= 1 and at least 2 items (got %d, %d, %d)", vocab, seq, n)
	}
	r := rand.New(rand.NewPCG(seed, 13))
	gen := func() (*sparse.CSR, [][]int32, error) {
		b := sparse.NewBuilder(vocab)
		toks := make([][]int32, n)
		counts := map[int32]float32{}
		for i := range n {
			clear(counts)
			toks[i] = make([]int32, seq)
			for j := range seq {
				t := int32(1 + r.IntN(vocab-1))
				counts[t]++
				toks[i][j] = t + 1 // token id: column t is word t, id t+1 (0 = pad, 1 = unk)
			}
			es := make([]sparse.Entry, 0, len(counts))
			for _, c := range slices.Sorted(maps.Keys(counts)) {
				es = append(es, sparse.Entry{Col: c, Val: counts[c]})
			}
			if err := b.AddRow(es); err != nil {
				return nil, nil, err
			}
		}
		return b.Build(), toks, nil
	}
	x, xt, err := gen()
	if err != nil {
		return nil, err
	}
	l, lt, err := gen()
	if err != nil {
		return nil, err
	}
	y := make([][]int32, n)
	for i := range y {
		y[i] = []int32{int32(i)}
	}
	ty, err := sparse.FromRows(n, y)
	if err != nil {
		return nil, err
	}
	vocabNames := make([]string, vocab)
	tv := make([]string, vocab+1)
	tv[0], tv[1] = "[PAD]", "[UNK]"
	for i := range vocabNames {
		vocabNames[i] = fmt.Sprintf("w%d", i)
		if i >= 1 {
			tv[i+1] = vocabNames[i]
		}
	}
	ds := &data.Dataset{Name: "bench-step", Format: "synthetic", NumLabels: n, Vocab: vocabNames, TokVocab: tv,
		TrainX: x, TestX: x, LabelX: l, TrainY: ty, TestY: ty, TrainTok: xt, TestTok: xt, LabelTok: lt}
	return ds, nil
}

func runBenchStep(ctx context.Context, cmd *cobra.Command, o *StepOptions) error {
	if o.BatchSize < 2 || o.Steps < 1 || o.Warmup < 0 {
		return fmt.Errorf("bench step: need --batch-size >= 2, --steps >= 1, --warmup >= 0")
	}
	params, err := stepParams(o)
	if err != nil {
		return err
	}
	// Four batches of distinct documents, cycled: every step sees new
	// random rows as the reference's does, without a dataset per step.
	const nBatches = 4
	ds, err := StepData(o.Vocab, o.Seq, nBatches*o.BatchSize, 1)
	if err != nil {
		return err
	}
	f, ok := registry.Lookup(sdk.KindEncoder, o.Encoder)
	if !ok {
		return fmt.Errorf("bench step: encoder %q is not built in", o.Encoder)
	}
	comp, ok := f().(*siamese.Component)
	if !ok {
		return fmt.Errorf("bench step: encoder %q is not a Siamese encoder", o.Encoder)
	}
	comp.Dataset = ds
	raw, _ := json.Marshal(params)
	if err := comp.Configure(ctx, sdk.Config{Params: raw, Seed: 1}); err != nil {
		return fmt.Errorf("bench step: configure %s: %w", o.Encoder, err)
	}
	batch := func(i int) sdk.Batch {
		from := (i % nBatches) * o.BatchSize
		ids := make([]int32, o.BatchSize)
		for j := range ids {
			ids[j] = int32(from + j)
		}
		return sdk.Batch{Docs: ids, Positives: ids}
	}
	for i := range o.Warmup {
		if _, err := comp.TrainStep(ctx, batch(i)); err != nil {
			return fmt.Errorf("bench step: warm-up step %d: %w", i, err)
		}
	}
	rep := StepReport{Build: buildinfo.Get(), Time: time.Now().UTC(), Host: results.CollectHost(), Encoder: o.Encoder,
		BatchSize: o.BatchSize, Vocab: o.Vocab, Seq: o.Seq, Dim: o.Dim, Negatives: o.Negatives, Residual: o.Residual,
		Params: params, Steps: o.Steps}
	if o.Encoder == "transformer" {
		rep.Layers = o.Layers
	}
	if o.CPUProf != "" {
		pf, err := os.Create(o.CPUProf)
		if err != nil {
			return fmt.Errorf("bench step: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("bench step: cpu profile: %w", err)
		}
	}
	var total time.Duration
	for i := range o.Steps {
		b := batch(o.Warmup + i)
		t0 := time.Now()
		st, err := comp.TrainStep(ctx, b)
		total += time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench step: step %d: %w", i, err)
		}
		rep.MeanLoss += st.Loss / float64(o.Steps)
	}
	if o.CPUProf != "" {
		pprof.StopCPUProfile()
	}
	rep.MsPerStep = total.Seconds() * 1000 / float64(o.Steps)
	rep.PairsPerS = float64(o.BatchSize) / (rep.MsPerStep / 1000)
	runtime.KeepAlive(ds)
	if peak, err := memory.PeakRSS(os.Getpid()); err == nil {
		rep.PeakRSSMiB = float64(peak) / (1 << 20)
	} else if peak, err := memory.SelfPeak(); err == nil {
		rep.PeakRSSMiB = float64(peak) / (1 << 20)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench step %s B=%d V=%d: %.1f ms/step, %.0f pairs/s, peak %.0f MiB\n",
		o.Encoder, o.BatchSize, o.Vocab, rep.MsPerStep, rep.PairsPerS, rep.PeakRSSMiB)
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	if o.Out == "-" {
		_, err = cmd.OutOrStdout().Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(o.Out, append(b, '\n'), 0o644)
}
