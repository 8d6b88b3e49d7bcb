package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/xcbench/xcbench/core/buildinfo"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/core/runner"
	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func init() { commands = append(commands, newBenchCmd) }

// benchSubcommands are added under `bench` (e.g. `bench step`).
var benchSubcommands []func() *cobra.Command

// BenchOptions holds `xcbench bench`'s flags.
type BenchOptions struct {
	Out        string
	Data       string
	Encoder    string
	Samplers   []string
	BatchSizes []int
	BudgetMB   float64
	Negatives  int
	// ClusterSize is NGAME's nominal cluster size for the measured epoch.
	ClusterSize int
	Steps       int
	InProcess   bool
}

// BenchResult is one sampler's measurement.
type BenchResult struct {
	Sampler     string  `json:"sampler"`
	Encoder     string  `json:"encoder"`
	BatchSize   int     `json:"batch_size"`
	Negatives   int     `json:"negatives"`
	Steps       int     `json:"steps"`
	StepsPerSec float64 `json:"steps_per_sec"`
	// EncoderPeakMiB is the encoder process's VmHWM over the timed steps
	// (reset just before them); EncoderBaseMiB its VmHWM after Configure
	// and the refresh, so the difference is what training steps add.
	EncoderPeakMiB float64 `json:"encoder_peak_mib"`
	EncoderBaseMiB float64 `json:"encoder_base_mib"`
	RefreshSec     float64 `json:"refresh_sec"`
	MeanLoss       float64 `json:"mean_loss"`
	MeanHardness   float64 `json:"mean_hardness"`
	Error          string  `json:"error,omitempty"`
}

// BenchReport is what bench writes.
type BenchReport struct {
	// Build is the binary that measured: commit and dirty flag.
	Build     buildinfo.Info   `json:"build"`
	Time      time.Time        `json:"time"`
	Host      results.HostInfo `json:"host"`
	InProcess bool             `json:"in_process"`
	Dataset   string           `json:"dataset"`
	Results   []BenchResult    `json:"results"`
	// BudgetMB and Largest answer "what is the largest batch each sampler
	// trains with inside this encoder memory budget?" over the measured
	// batch sizes (0: none of them fits).
	BudgetMB float64        `json:"budget_mb,omitempty"`
	Largest  map[string]int `json:"largest_batch_within_budget,omitempty"`
}

func newBenchCmd() *cobra.Command {
	o := &BenchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Micro-benchmark: encoder memory per step and steps/s with each sampler's batches",
		Long: `Bench launches the encoder and each sampler as plugin processes, refreshes
the sampler once with fresh embeddings, then times --steps training steps
on its batches at the same batch size and number of negatives, recording the
encoder process's peak RSS (VmHWM, reset before the steps) and steps/s.
Without --data it generates a synthetic dataset.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), cmd, o)
		},
	}
	for _, sub := range benchSubcommands {
		cmd.AddCommand(sub())
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", "bench.json", "JSON output file (- for stdout)")
	f.StringVar(&o.Data, "data", "", "dataset folder (default: a synthetic one)")
	f.StringVar(&o.Encoder, "encoder", "bow", "encoder to measure")
	f.StringSliceVar(&o.Samplers, "samplers", []string{"random", "ngame", "ance"}, "samplers to compare")
	f.IntSliceVar(&o.BatchSizes, "batch-size", []int{128}, "documents per step; a list (128,512,2048) measures each")
	f.Float64Var(&o.BudgetMB, "budget-mb", 0, "encoder memory budget: report the largest measured batch each sampler fits in it")
	f.IntVar(&o.Negatives, "negatives", 4, "explicit negatives per document (ANCE) and the encoder's num_negatives")
	f.IntVar(&o.Steps, "steps", 20, "timed training steps per sampler")
	f.IntVar(&o.ClusterSize, "cluster-size", 64, "NGAME's nominal cluster size (documents) in the measured epoch")
	f.BoolVar(&o.InProcess, "in-process", false, "run components in this process (memory is then the whole process's)")
	cmd.AddCommand(newBenchTfidfCmd())
	return cmd
}

func runBench(ctx context.Context, cmd *cobra.Command, o *BenchOptions) error {
	h, err := host.New(host.Options{InProcess: o.InProcess})
	if err != nil {
		return err
	}
	defer h.Close()
	dir := o.Data
	if dir == "" {
		dir = filepath.Join(h.ScratchDir(), "bench-data")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := runner.Synth(ctx, map[string]any{"labels": 2000, "train_docs": 8000, "test_docs": 100, "seed": 1}, dir); err != nil {
			return err
		}
	}
	rep := BenchReport{Build: buildinfo.Get(), Time: time.Now().UTC(), Host: results.CollectHost(), InProcess: o.InProcess, Dataset: dir}
	for _, bs := range o.BatchSizes {
		for _, s := range o.Samplers {
			r, err := benchOne(ctx, h, o, dir, s, bs)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.Error = err.Error()
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "bench %s/%s batch %d: %.1f steps/s, encoder peak %.0f MiB (base %.0f) %s\n",
				o.Encoder, s, bs, r.StepsPerSec, r.EncoderPeakMiB, r.EncoderBaseMiB, r.Error)
			rep.Results = append(rep.Results, r)
		}
	}
	if o.BudgetMB > 0 {
		rep.BudgetMB = o.BudgetMB
		rep.Largest = largestWithin(rep.Results, o.BudgetMB)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if o.Out == "-" {
		_, err = cmd.OutOrStdout().Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(o.Out, append(b, '\n'), 0o644)
}

// largestWithin maps each sampler to the largest batch size whose
// measured encoder peak stays within budget MiB.
func largestWithin(rs []BenchResult, budget float64) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		if _, ok := out[r.Sampler]; !ok {
			out[r.Sampler] = 0
		}
		if r.Error == "" && r.Steps > 0 && r.EncoderPeakMiB <= budget && r.BatchSize > out[r.Sampler] {
			out[r.Sampler] = r.BatchSize
		}
	}
	return out
}

func benchOne(ctx context.Context, h *host.Host, o *BenchOptions, dir, sampler string, batchSize int) (BenchResult, error) {
	r := BenchResult{Sampler: sampler, Encoder: o.Encoder, BatchSize: batchSize, Negatives: o.Negatives}
	scratch, err := os.MkdirTemp(h.ScratchDir(), "bench-"+sampler+"-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(scratch)
	ds := sdk.Dataset{Dir: dir, Name: filepath.Base(dir)}

	encP, err := h.Launch(ctx, sdk.KindEncoder, o.Encoder)
	if err != nil {
		return r, err
	}
	defer encP.Kill()
	enc, ok := encP.Impl.(sdk.Encoder)
	if !ok {
		return r, fmt.Errorf("%s is not an encoder", o.Encoder)
	}
	encParams, _ := json.Marshal(map[string]any{"batch_size": batchSize, "num_negatives": o.Negatives})
	if err := enc.Configure(ctx, sdk.Config{Params: encParams, Seed: 1, Dataset: ds, ScratchDir: filepath.Join(scratch, "enc")}); err != nil {
		return r, fmt.Errorf("encoder configure: %w", err)
	}
	smpP, err := h.Launch(ctx, sdk.KindSampler, sampler)
	if err != nil {
		return r, err
	}
	defer smpP.Kill()
	smp, ok := smpP.Impl.(sdk.Sampler)
	if !ok {
		return r, fmt.Errorf("%s is not a sampler", sampler)
	}
	// Refresh at epoch 1 so every sampler has embeddings to work from.
	sp := map[string]any{"refresh_start": 1, "refresh_interval": 1}
	switch sampler {
	case "ance":
		sp["negatives"] = o.Negatives
	case "ngame":
		// Clusters of --cluster-size used in this very epoch (no lag), so
		// the batches really are NGAME's and not the random warm-up order.
		sp["curriculum_epochs"] = []int{}
		sp["cluster_size_init"] = o.ClusterSize
		sp["lag"] = false
	case "tasb":
		// One clustering of the tf-idf features (its default), batch-sized
		// clusters: TAS-B has no refresh schedule.
		sp = map[string]any{}
	case "random":
		sp = map[string]any{}
	}
	smpParams, _ := json.Marshal(sp)
	if err := smp.Configure(ctx, sdk.Config{Params: smpParams, Seed: 1, Dataset: ds, ScratchDir: filepath.Join(scratch, "smp")}); err != nil {
		return r, fmt.Errorf("sampler configure: %w", err)
	}
	const epoch = 1
	plan, err := smp.Plan(ctx, epoch)
	if err != nil {
		return r, err
	}
	// Every sampler's encoder encodes the same items before the steps, so
	// the memory it retains from encoding (the Go heap does not shrink at
	// once) is the same baseline for all of them; only what the steps add
	// differs.
	docs, err := enc.Encode(ctx, sdk.SplitTrain, nil)
	if err != nil {
		return r, err
	}
	labels, err := enc.Encode(ctx, sdk.SplitLabels, nil)
	if err != nil {
		return r, err
	}
	if plan.Refresh {
		if !plan.NeedDocs {
			docs = sdk.Matrix{}
		}
		if !plan.NeedLabels {
			labels = sdk.Matrix{}
		}
		t0 := time.Now()
		if _, err := smp.Refresh(ctx, epoch, docs, labels); err != nil {
			return r, fmt.Errorf("sampler refresh: %w", err)
		}
		r.RefreshSec = time.Since(t0).Seconds()
	}
	runtime.GC()
	if base, err := encP.PeakRSS(); err == nil {
		r.EncoderBaseMiB = float64(base) / (1 << 20)
	}
	_ = encP.ResetPeak()
	t0 := time.Now()
	for b, err := range smp.Batches(ctx, epoch, batchSize) {
		if err != nil {
			return r, fmt.Errorf("sampler batches: %w", err)
		}
		st, err := enc.TrainStep(ctx, b)
		if err != nil {
			return r, fmt.Errorf("train step %d: %w", r.Steps, err)
		}
		r.Steps++
		r.MeanLoss += st.Loss
		r.MeanHardness += st.Hardness
		if r.Steps == o.Steps {
			break
		}
	}
	el := time.Since(t0).Seconds()
	if r.Steps > 0 {
		r.StepsPerSec = float64(r.Steps) / el
		r.MeanLoss /= float64(r.Steps)
		r.MeanHardness /= float64(r.Steps)
	}
	if peak, err := encP.PeakRSS(); err == nil {
		r.EncoderPeakMiB = float64(peak) / (1 << 20)
	}
	return r, nil
}
