package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/metrics"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/core/runner"
	"github.com/xcbench/xcbench/core/stats"
)

func init() { commands = append(commands, newCompareCmd) }

// CompareOptions holds `xcbench compare`'s flags.
type CompareOptions struct {
	Run     string
	A, B    []string
	StageA  string
	StageB  string
	Metric  string
	Iters   int
	Seed    uint64
	Level   float64
	JSON    bool
	Dataset string
	// Against, in percent, replaces system B by a published figure.
	Against float64
}

func newCompareCmd() *cobra.Command {
	o := &CompareOptions{}
	cmd := &cobra.Command{
		Use:   "compare <run-dir> --a key=value[,...] --b key=value[,...]",
		Short: "Paired difference of two systems of a run with 95% confidence intervals",
		Long: `Compare pairs the cells --a selects with the cells --b selects by data set
and seed, rescoring the test predictions every finished cell keeps, and
reports metric(A) - metric(B) with two intervals: a paired t interval over
seeds (needs 2+ seeds) and a paired bootstrap over test documents (the same
resampled documents for both systems and every seed). A difference is
"supported" when the interval excludes 0.

Selectors are axis=value pairs as cell names show them (sampler=ngame,
encoder=none, batch_size=512; "dataset=debdeps"); a cell matches when every
pair matches. --stage-a/--stage-b pick m1 (the encoder's evaluation
classifier) or stage2.

--against VALUE replaces B by a published figure (in percent, such as a
paper's P@1): the intervals are then of metric(A) - VALUE, the bootstrap
resampling A's documents and the t interval over A's seeds. Say where the
figure comes from beside the result: the split and filters behind it are
not checked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Run = args[0]
			return runCompare(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.A, "a", nil, "selector of system A (axis=value, repeatable or comma-separated)")
	f.StringSliceVar(&o.B, "b", nil, "selector of system B")
	f.StringVar(&o.StageA, "stage-a", results.StageM1, "stage of A's predictions: m1 or stage2")
	f.StringVar(&o.StageB, "stage-b", results.StageM1, "stage of B's predictions: m1 or stage2")
	f.StringVar(&o.Metric, "metric", "P@1", "P@k, nDCG@k or PSP@k")
	f.IntVar(&o.Iters, "iters", 2000, "bootstrap resamples")
	f.Uint64Var(&o.Seed, "seed", 1, "bootstrap random seed")
	f.Float64Var(&o.Level, "level", 0.95, "confidence level")
	f.BoolVar(&o.JSON, "json", false, "print the result as JSON")
	f.Float64Var(&o.Against, "against", 0, "a published figure in percent to compare A against, instead of --b")
	return cmd
}

// CompareResult is what compare prints (and writes with --json).
type CompareResult struct {
	Metric    string          `json:"metric"`
	A         string          `json:"a"`
	B         string          `json:"b"`
	Pairs     []ComparePair   `json:"pairs"`
	Seeds     *stats.Interval `json:"seeds,omitempty"`
	Documents stats.Interval  `json:"documents"`
	Verdict   string          `json:"verdict"`
	// Unfinished names the (data set, seed) pairs left out because a
	// side had not finished: a comparison made mid-run says so.
	Unfinished []string `json:"unfinished,omitempty"`
}

// ComparePair is one (data set, seed) pair of cells.
type ComparePair struct {
	Dataset string  `json:"dataset"`
	Seed    string  `json:"seed"`
	CellA   string  `json:"cell_a"`
	CellB   string  `json:"cell_b"`
	A       float64 `json:"a"`
	B       float64 `json:"b"`
}

func parseMetric(m string) (string, int, error) {
	name, ks, ok := strings.Cut(m, "@")
	k, err := strconv.Atoi(ks)
	if !ok || err != nil || k <= 0 || k > metrics.MaxK || (name != "P" && name != "nDCG" && name != "PSP") {
		return "", 0, fmt.Errorf("--metric %q: want P@k, nDCG@k or PSP@k with k in 1..%d", m, metrics.MaxK)
	}
	return name, k, nil
}

func matchCell(c grid.Cell, sel []string) (bool, error) {
	for _, s := range sel {
		key, val, ok := strings.Cut(s, "=")
		if !ok {
			return false, fmt.Errorf("selector %q: want axis=value", s)
		}
		found := false
		for _, a := range c.Axes {
			if a.Key == key || grid.AxisLabel(a.Key) == key {
				found = true
				if fmt.Sprint(a.Value) != val {
					return false, nil
				}
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

func runCompare(ctx context.Context, w io.Writer, o *CompareOptions) error {
	name, k, err := parseMetric(o.Metric)
	if err != nil {
		return exitCode(ExitInvalid, err)
	}
	against := o.Against != 0
	switch {
	case against && len(o.B) > 0:
		return exitCode(ExitInvalid, fmt.Errorf("compare: --against replaces --b; give one of them"))
	case against && !(o.Against > 0 && o.Against <= 100):
		return exitCode(ExitInvalid, fmt.Errorf("compare: --against %v: want a figure in percent, in (0, 100]", o.Against))
	case len(o.A) == 0 || (len(o.B) == 0 && !against):
		return exitCode(ExitInvalid, fmt.Errorf("compare: --a and --b (or --against) are required"))
	}
	st, err := openRunDir(o.Run)
	if err != nil {
		return err
	}
	man, err := st.ReadManifest()
	if err != nil {
		return err
	}
	type key struct{ ds, seed string }
	pick := func(sel []string) (map[key]grid.Cell, error) {
		out := map[key]grid.Cell{}
		for _, c := range man.Cells {
			ok, err := matchCell(c, sel)
			if err != nil {
				return nil, exitCode(ExitInvalid, err)
			}
			if !ok {
				continue
			}
			k := key{c.Spec.Dataset.Name, strconv.FormatUint(c.Spec.Seed, 10)}
			if prev, dup := out[k]; dup {
				return nil, exitCode(ExitInvalid, fmt.Errorf("compare: %v selects both %q and %q for data set %s seed %s: add an axis to tell them apart", sel, prev.Name, c.Name, k.ds, k.seed))
			}
			out[k] = c
		}
		return out, nil
	}
	as, err := pick(o.A)
	if err != nil {
		return err
	}
	bs := as
	if !against {
		if bs, err = pick(o.B); err != nil {
			return err
		}
	}
	done := func(c grid.Cell) bool {
		s, err := st.Cell(c.ID).Status()
		return err == nil && s.State == results.StateDone
	}
	var keys []key
	var unfinished []string
	for k, a := range as {
		b, ok := bs[k]
		switch {
		case !ok:
		case !done(a) || (!against && !done(b)):
			unfinished = append(unfinished, k.ds+" seed "+k.seed)
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(unfinished)
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ds != keys[j].ds {
			return keys[i].ds < keys[j].ds
		}
		return keys[i].seed < keys[j].seed
	})
	if len(keys) == 0 {
		if len(unfinished) > 0 {
			return exitCode(ExitInvalid, fmt.Errorf("compare: no finished pair of cells for %v and %v (unfinished: %s)", o.A, o.B, strings.Join(unfinished, ", ")))
		}
		return exitCode(ExitInvalid, fmt.Errorf("compare: no (data set, seed) has a cell for both %v and %v", o.A, o.B))
	}
	ds0 := keys[0].ds
	for _, k := range keys {
		if k.ds != ds0 {
			return exitCode(ExitInvalid, fmt.Errorf("compare: the selections span data sets %s and %s: add dataset=... to compare on one", ds0, k.ds))
		}
	}
	ca := as[keys[0]]
	dir := runner.DatasetDir(st.Dir, ca.Spec.Dataset)
	opts, _ := json.Marshal(ca.Spec.Dataset.Options)
	if len(ca.Spec.Dataset.Options) == 0 {
		opts = nil
	}
	ds, err := runner.OpenData(ctx, dir, opts)
	if err != nil {
		return fmt.Errorf("compare: data set %s: %w", dir, err)
	}
	var inv []float64
	if name == "PSP" {
		inv = metrics.InvPropensity(ds.TrainY, ds.PropA, ds.PropB)
	}
	rowsOf := func(c grid.Cell, stage string) ([]float64, []float64, float64, error) {
		path := filepath.Join(st.Cell(c.ID).Dir, "predictions-"+stage+".txt")
		fs := data.NewFilterSet(ds.FilterTest)
		var keep func(int, int32, float32) bool
		if fs != nil {
			keep = func(r int, l int32, s float32) bool { return s != 0 && !fs.Has(int32(r), l) }
		}
		pred, _, err := data.ReadPredictions(path, k, keep)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("compare: cell %s: %w", c.Name, err)
		}
		pr, err := metrics.PerRow(pred, ds.TestY, ds.FilterTest, inv, k)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("compare: cell %s: %w", c.Name, err)
		}
		num, den := pr.P, ones(len(pr.P))
		switch name {
		case "nDCG":
			num = pr.NDCG
		case "PSP":
			num, den = pr.PSP, pr.PSPIdeal
		}
		var sn, sd float64
		for i := range num {
			sn, sd = sn+num[i], sd+den[i]
		}
		v := 0.0
		if sd != 0 {
			v = sn / sd
		}
		return num, den, v, nil
	}
	res := CompareResult{Metric: o.Metric, A: strings.Join(o.A, ","), B: strings.Join(o.B, ","), Unfinished: unfinished}
	if against {
		res.B = "published " + strconv.FormatFloat(o.Against, 'f', -1, 64)
	}
	var p stats.Paired
	var va, vb []float64
	for _, k := range keys {
		a, b := as[k], bs[k]
		na, da, ma, err := rowsOf(a, o.StageA)
		if err != nil {
			return err
		}
		var nb, db []float64
		var mb float64
		if against {
			// The figure as B's score on every document: the bootstrap's
			// ratio of sums is then A's resampled metric minus the figure.
			mb, db = o.Against/100, da
			nb = make([]float64, len(da))
			for i, d := range da {
				nb[i] = mb * d
			}
		} else if nb, db, mb, err = rowsOf(b, o.StageB); err != nil {
			return err
		}
		p.NumA, p.DenA, p.NumB, p.DenB = append(p.NumA, na), append(p.DenA, da), append(p.NumB, nb), append(p.DenB, db)
		va, vb = append(va, ma), append(vb, mb)
		cellB := b.Name
		if against {
			cellB = res.B
		}
		res.Pairs = append(res.Pairs, ComparePair{Dataset: k.ds, Seed: k.seed, CellA: a.Name, CellB: cellB, A: ma, B: mb})
	}
	if res.Documents, err = stats.Bootstrap(p, o.Iters, o.Seed, o.Level); err != nil {
		return err
	}
	verdictOf := func(iv stats.Interval) string {
		switch {
		case iv.Lo > 0:
			return "A > B supported"
		case iv.Hi < 0:
			return "A < B supported"
		}
		return "no difference supported"
	}
	res.Verdict = verdictOf(res.Documents) + " (" + res.Documents.Method + ")"
	if len(keys) >= 2 {
		iv, err := stats.PairedT(va, vb, o.Level)
		if err != nil {
			return err
		}
		res.Seeds = &iv
		res.Verdict += "; " + verdictOf(iv) + " (" + iv.Method + ")"
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("dataset", "seed", "A", "B", o.Metric+" A", o.Metric+" B", "A - B")
	for _, pr := range res.Pairs {
		if err := t.Append([]string{pr.Dataset, pr.Seed, pr.CellA, pr.CellB, pct(pr.A), pct(pr.B), pct(pr.A - pr.B)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	line := func(label string, iv stats.Interval) {
		fmt.Fprintf(w, "%s: %s [%s, %s] points, %.0f%% CI, %s\n", label, pct(iv.Diff), pct(iv.Lo), pct(iv.Hi), 100*iv.Level, iv.Method)
	}
	if len(unfinished) > 0 {
		fmt.Fprintf(w, "left out, not finished: %s\n", strings.Join(unfinished, ", "))
	}
	line("documents", res.Documents)
	if res.Seeds != nil {
		line("seeds", *res.Seeds)
	}
	_, err = fmt.Fprintf(w, "verdict: %s\n", res.Verdict)
	return err
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }

func ones(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// openRunDir opens an existing run folder without creating anything.
func openRunDir(dir string) (*results.Store, error) {
	st := &results.Store{Dir: dir}
	if _, err := st.ReadManifest(); err != nil {
		return nil, fmt.Errorf("%s is not a run folder (no readable manifest.json): %w", dir, err)
	}
	return st, nil
}
