package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
)

func init() { commands = append(commands, newEvalCmd) }

func newEvalCmd() *cobra.Command {
	var pred, truth, filter, trainY, ks string
	var a, b float64
	cmd := &cobra.Command{
		Use:   "eval --pred file --truth file",
		Short: "Score sparse predictions exactly as pyxclib (P, nDCG, PSP, PSnDCG, recall)",
		Long: `Reads predictions and ground truth in the pyxclib sparse text format
(header "rows cols", one "label:score ..." line per row). With --train-y the
propensity-scored metrics are added (A/B default to 0.55/1.5). With --filter,
the reciprocal pairs are removed from the predictions first, and so are
scores of exactly 0, as the NGAME evaluation does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pred == "" || truth == "" {
				return fmt.Errorf("eval: --pred and --truth are required")
			}
			kl, err := parseKs(ks)
			if err != nil {
				return err
			}
			y, err := data.ReadSparseFile(truth)
			if err != nil {
				return err
			}
			var pairs []data.Pair
			var keep func(int, int32, float32) bool
			if filter != "" {
				if pairs, err = data.ReadFilter(filter, y.NRows, y.NCols); err != nil {
					return err
				}
				// Drop what the metrics would drop before the top-k is
				// cut, so keeping only k per row changes nothing.
				fs := data.NewFilterSet(pairs)
				keep = func(row int, l int32, s float32) bool { return s != 0 && !fs.Has(int32(row), l) }
			}
			p, _, err := data.ReadPredictions(pred, slices.Max(kl), keep)
			if err != nil {
				return err
			}
			var w []float64
			if trainY != "" {
				ty, err := data.ReadSparseFile(trainY)
				if err != nil {
					return err
				}
				if ty.NCols != y.NCols {
					return fmt.Errorf("eval: %s has %d labels, %s has %d", trainY, ty.NCols, truth, y.NCols)
				}
				w = metrics.InvPropensity(ty, a, b)
			}
			res, err := metrics.Evaluate(p, y, pairs, w, kl)
			if err != nil {
				return err
			}
			header, rows := res.Table()
			t := tablewriter.NewTable(cmd.OutOrStdout(), tablewriter.WithHeaderAutoFormat(tw.Off))
			hdr := make([]any, len(header))
			for i, h := range header {
				hdr[i] = h
			}
			t.Header(hdr...)
			if err := t.Bulk(rows); err != nil {
				return err
			}
			return t.Render()
		},
	}
	f := cmd.Flags()
	f.StringVar(&pred, "pred", "", "predictions (sparse score file)")
	f.StringVar(&truth, "truth", "", "ground truth (sparse label file, e.g. tst_X_Y.txt)")
	f.StringVar(&filter, "filter", "", "reciprocal-pair filter file (row label per line)")
	f.StringVar(&trainY, "train-y", "", "training labels, for inverse propensities")
	f.Float64Var(&a, "A", 0.55, "propensity A")
	f.Float64Var(&b, "B", 1.5, "propensity B")
	f.StringVar(&ks, "k", "1,3,5", "comma-separated cut-offs")
	return cmd
}

func parseKs(s string) ([]int, error) {
	var out []int
	for p := range strings.SplitSeq(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || k <= 0 || k > metrics.MaxK {
			return nil, fmt.Errorf("eval: bad --k entry %q: want an integer in 1..%d", p, metrics.MaxK)
		}
		out = append(out, k)
	}
	return out, nil
}
