package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/synth"
)

func init() { commands = append(commands, newDataCmd) }

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Prepare, describe and synthesise XC datasets",
	}
	cmd.AddCommand(newDataPrepareCmd(), newDataStatsCmd(), newDataSynthCmd())
	return cmd
}

// addDataOptionFlags binds the data.Options flags shared by subcommands.
func addDataOptionFlags(cmd *cobra.Command, o *data.Options, lower *bool) {
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "dataset name (default: directory name)")
	f.IntVar(&o.MaxLen, "max-len", 32, "token sequence length")
	f.StringVar(&o.Tokenizer, "tokenizer", "", "word, wordpiece or npy (default word, or npy when *_input_ids.npy exist)")
	f.StringVar(&o.VocabFile, "vocab", "", "BERT vocab.txt for the wordpiece tokenizer")
	f.IntVar(&o.MinCount, "min-count", 0, "drop words seen fewer times")
	f.IntVar(&o.MaxVocab, "max-vocab", 0, "cap the word vocabulary (0 = no cap)")
	f.BoolVar(lower, "lowercase", true, "lower-case text")
	f.StringVar(&o.CacheDir, "cache-dir", "", "tokenisation cache folder (\"-\" disables)")
}

func newDataPrepareCmd() *cobra.Command {
	var o data.Options
	lower := true
	cmd := &cobra.Command{
		Use:   "prepare <dir>",
		Short: "Load a dataset, tokenise it and fill the tokenisation cache",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Lowercase = &lower
			start := time.Now()
			ds, err := data.Open(args[0], o)
			if err != nil {
				return err
			}
			path, ok := data.CachePath(args[0], o, nil)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s (%s): %d train, %d test, %d labels, vocab %d, token vocab %d, %.1fs\n",
				ds.Name, ds.Format, ds.TrainY.NRows, ds.TestY.NRows, ds.NumLabels, len(ds.Vocab), len(ds.TokVocab),
				time.Since(start).Seconds())
			if ok && ds.Format != "bow" {
				// CachePath without inputs only shows the folder; the file
				// name carries the full key.
				fmt.Fprintf(w, "cache folder: %s\n", parentDir(path))
			}
			return nil
		},
	}
	addDataOptionFlags(cmd, &o, &lower)
	return cmd
}

func parentDir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "."
}

// Stats summarises a dataset the way XC papers' statistics tables do.
type Stats struct {
	Train, Test, Labels, Features int
	LabelsPerPoint                float64 // avg labels per train point
	PointsPerLabel                float64 // avg train points per label
	TestLabelsPerPoint            float64
	// Tail[i] is the fraction of labels with at most TailCuts[i] train points.
	TailCuts []int
	Tail     []float64
	// EmptyTrain/EmptyTest count points with no labels.
	EmptyTrain, EmptyTest int
}

// ComputeStats derives Stats from a loaded dataset.
func ComputeStats(ds *data.Dataset) Stats {
	s := Stats{Train: ds.TrainY.NRows, Test: ds.TestY.NRows, Labels: ds.NumLabels, Features: len(ds.Vocab),
		TailCuts: []int{0, 1, 5, 10}}
	if s.Train > 0 {
		s.LabelsPerPoint = float64(ds.TrainY.NNZ()) / float64(s.Train)
	}
	if s.Test > 0 {
		s.TestLabelsPerPoint = float64(ds.TestY.NNZ()) / float64(s.Test)
	}
	if s.Labels > 0 {
		s.PointsPerLabel = float64(ds.TrainY.NNZ()) / float64(s.Labels)
	}
	counts := ds.TrainY.ColCounts()
	slices.Sort(counts)
	for _, c := range s.TailCuts {
		n, _ := slices.BinarySearch(counts, c+1) // labels with count <= c
		frac := 0.0
		if len(counts) > 0 {
			frac = float64(n) / float64(len(counts))
		}
		s.Tail = append(s.Tail, frac)
	}
	for i := 0; i < s.Train; i++ {
		if ds.TrainY.RowLen(i) == 0 {
			s.EmptyTrain++
		}
	}
	for i := 0; i < s.Test; i++ {
		if ds.TestY.RowLen(i) == 0 {
			s.EmptyTest++
		}
	}
	return s
}

func renderStats(w io.Writer, name string, s Stats) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("statistic", name)
	rows := [][]string{
		{"train points", fmt.Sprint(s.Train)},
		{"test points", fmt.Sprint(s.Test)},
		{"labels", fmt.Sprint(s.Labels)},
		{"features", fmt.Sprint(s.Features)},
		{"avg labels/point (train)", fmt.Sprintf("%.2f", s.LabelsPerPoint)},
		{"avg labels/point (test)", fmt.Sprintf("%.2f", s.TestLabelsPerPoint)},
		{"avg points/label (train)", fmt.Sprintf("%.2f", s.PointsPerLabel)},
		{"train points without labels", fmt.Sprint(s.EmptyTrain)},
		{"test points without labels", fmt.Sprint(s.EmptyTest)},
	}
	for i, c := range s.TailCuts {
		rows = append(rows, []string{fmt.Sprintf("labels with <= %d train points", c), fmt.Sprintf("%.1f%%", 100*s.Tail[i])})
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

func newDataStatsCmd() *cobra.Command {
	var o data.Options
	lower := true
	cmd := &cobra.Command{
		Use:   "stats <dir>",
		Short: "Print dataset statistics and the label-frequency tail",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Lowercase = &lower
			ds, err := data.Open(args[0], o)
			if err != nil {
				return err
			}
			return renderStats(cmd.OutOrStdout(), ds.Name, ComputeStats(ds))
		},
	}
	addDataOptionFlags(cmd, &o, &lower)
	return cmd
}

func newDataSynthCmd() *cobra.Command {
	var c synth.Config
	var out string
	cmd := &cobra.Command{
		Use:   "synth --out <dir>",
		Short: "Write a synthetic dataset with planted topics and synonyms as LF text files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("data synth: --out is required")
			}
			start := time.Now()
			if err := synth.Stream(cmd.Context(), out, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s in %.1fs\n", out, time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder")
	f.IntVar(&c.Labels, "labels", 1000, "number of labels")
	f.IntVar(&c.TrainDocs, "train", 5000, "training documents")
	f.IntVar(&c.TestDocs, "test", 1000, "test documents")
	f.IntVar(&c.Topics, "topics", 0, "latent topics (default labels/50)")
	f.Uint64Var(&c.Seed, "seed", 1, "random seed")
	f.Float64Var(&c.Alpha, "alpha", 1.0, "power-law exponent of label popularity")
	f.IntVar(&c.DocLen, "doc-len", 12, "words per document")
	f.Float64Var(&c.Synonym, "synonym", 0.7, "probability a label word appears as its synonym")
	return cmd
}
