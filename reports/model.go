package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// Stat is a mean and sample standard deviation over N seeds.
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

func stat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	sd := 0.0
	if len(xs) > 1 {
		sd = math.Sqrt(v / float64(len(xs)-1))
	}
	return Stat{Mean: m, Std: sd, N: len(xs)}
}

// CurvePoint is one epoch of a group's learning curve, averaged over seeds.
type CurvePoint struct {
	Epoch   int     `json:"epoch"`
	Elapsed float64 `json:"elapsed"`
	P1      float64 `json:"p1"`
	// P1Std and ElapsedStd are the sample standard deviations over the
	// N seeds that evaluated this epoch (0 for one seed): the plots' bands.
	P1Std      float64 `json:"p1_std"`
	ElapsedStd float64 `json:"elapsed_std"`
	N          int     `json:"n"`
}

// Group is the cells that differ only in seed.
type Group struct {
	Axes  []grid.Axis `json:"axes"`
	Cells []string    `json:"cells"`
	Seeds int         `json:"seeds"`
	// Final holds M1's metrics at the last evaluated epoch.
	Final  map[string]Stat `json:"final"`
	Stage2 map[string]Stat `json:"stage2,omitempty"`
	// EpochsToTarget / SecondsToTarget average over seeds that reached
	// the target; Reached counts them.
	EpochsToTarget  Stat `json:"epochs_to_target"`
	SecondsToTarget Stat `json:"seconds_to_target"`
	Reached         int  `json:"reached"`
	// PeakMiB is the largest VmHWM of each plugin kind over all phases
	// and epochs.
	PeakMiB map[string]Stat `json:"peak_mib"`
	// EpochWall is seconds per M1 epoch by phase.
	EpochWall map[string]Stat `json:"epoch_wall"`
	// EpochCPU is CPU seconds (user + system, all processes) per M1
	// epoch by phase: what a phase costs whatever else shared the machine.
	EpochCPU        map[string]Stat `json:"epoch_cpu,omitempty"`
	Hardness        Stat            `json:"hardness"`
	RefreshHardness Stat            `json:"refresh_hardness"`
	Curve           []CurvePoint    `json:"curve"`
}

// Label is the group's coordinates except the dataset, for legends.
func (g Group) Label() string {
	var parts []string
	for _, a := range g.Axes {
		if a.Key != "dataset" {
			parts = append(parts, grid.AxisLabel(a.Key)+"="+grid.AxisValue(a.Value))
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// Value returns the group's value on axis key ("" when absent).
func (g Group) Value(key string) string {
	for _, a := range g.Axes {
		if a.Key == key {
			return grid.AxisValue(a.Value)
		}
	}
	return ""
}

// Failure is a cell that did not finish.
type Failure struct {
	Cell  string `json:"cell"`
	State string `json:"state"`
	Error string `json:"error"`
}

// Report is the typed summary of a run folder.
type Report struct {
	Grid     string   `json:"grid"`
	Axes     []string `json:"axes"`
	Metrics  []string `json:"metrics"`
	TargetP1 float64  `json:"target_p1,omitempty"`
	// Targets overrides TargetP1 per dataset (report --target).
	Targets  map[string]float64 `json:"targets,omitempty"`
	BudgetMB float64            `json:"budget_mb,omitempty"`
	Groups   []Group            `json:"groups"`
	Failures []Failure          `json:"failures,omitempty"`
	Phases   []string           `json:"phases"`
	Plugins  []string           `json:"plugins"`
	// Meta is the run's provenance (manifest), for headers.
	Meta Meta `json:"meta"`
	// cells and recs keep every finished cell's records for the tidy
	// export.
	cells    []grid.Cell
	recs     map[string][]results.Record
	datasets []grid.Dataset
	updated  time.Time
	// Show is the metric columns the tables show (Options.Metrics); nil
	// shows every metric.
	Show []string `json:"show,omitempty"`
}

// Phases in display order.
var phaseOrder = []string{"train", "encode", "refresh", "predict", "eval"}

// Load builds the report of a run folder.
func Load(dir string) (*Report, error) { return LoadWith(dir, Options{}) }

// Options adjusts a report without rerunning anything.
type Options struct {
	// Targets sets the P@1 target per dataset for the time-to-target
	// table; the key "" applies to every dataset not named.
	Targets map[string]float64
	// Metrics chooses the metric columns of the tables ("P@1", "PSP@5");
	// empty keeps them all (the terminal then shows TermMetrics).
	Metrics []string
}

// target is the P@1 target of a dataset's groups.
func (r *Report) target(dataset string) float64 {
	if t, ok := r.Targets[dataset]; ok {
		return t
	}
	if t, ok := r.Targets[""]; ok {
		return t
	}
	return r.TargetP1
}

// LoadWith builds the report of a run folder with options.
func LoadWith(dir string, o Options) (*Report, error) {
	st, err := openRun(dir)
	if err != nil {
		return nil, err
	}
	man, err := st.ReadManifest()
	if err != nil {
		return nil, err
	}
	// Only finished cells count: a failed seed's partial curve would bias
	// its group.
	recs := map[string][]results.Record{}
	rep := &Report{Grid: man.GridName}
	if man.Grid != nil {
		rep.TargetP1, rep.BudgetMB = man.Grid.TargetP1, man.Grid.BudgetMB
	}
	if len(o.Targets) > 0 {
		rep.Targets = o.Targets
	}
	for _, c := range man.Cells {
		s, err := st.Cell(c.ID).Status()
		if err != nil {
			return nil, err
		}
		if s.State != results.StateDone {
			state := s.State
			if state == "" {
				state = "pending"
			}
			rep.Failures = append(rep.Failures, Failure{Cell: c.Name, State: state, Error: firstLine(s.Error)})
			continue
		}
		r, err := st.Cell(c.ID).Records()
		if err != nil {
			return nil, err
		}
		recs[c.ID] = r
	}
	build(rep, man.Cells, recs)
	rep.Meta = metaOf(man)
	rep.cells, rep.recs, rep.updated = man.Cells, recs, man.Updated
	if man.Grid != nil {
		rep.datasets = man.Grid.Datasets
	}
	if len(o.Metrics) > 0 {
		have := map[string]bool{}
		for _, m := range rep.Metrics {
			have[m] = true
		}
		for _, m := range o.Metrics {
			if !have[m] {
				return nil, fmt.Errorf("report: metric %q: %s has %s", m, dir, strings.Join(rep.Metrics, ", "))
			}
		}
		rep.Show = o.Metrics
	}
	return rep, nil
}

// openRun checks that dir is a run folder before anything reads it, and
// creates nothing (results.Open would create dir/cells).
func openRun(dir string) (*results.Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("report: %s is a file, not a run folder (the folder `xcbench run --out` wrote)", dir)
	}
	st := &results.Store{Dir: dir}
	if _, err := os.Stat(st.ManifestPath()); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("report: %s is not a run folder: it has no manifest.json (the folder `xcbench run --out` wrote)", dir)
		}
		return nil, fmt.Errorf("report: %w", err)
	}
	return st, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// build groups cells and computes every statistic; split from Load so tests
// can feed records directly.
func build(rep *Report, cells []grid.Cell, recs map[string][]results.Record) {
	axisSeen := map[string]bool{}
	byKey := map[string]*Group{}
	var order []string
	members := map[string][]grid.Cell{}
	for _, c := range cells {
		for _, a := range c.Group() {
			if !axisSeen[a.Key] {
				axisSeen[a.Key] = true
				rep.Axes = append(rep.Axes, a.Key)
			}
		}
		key := fmt.Sprint(c.Group())
		if byKey[key] == nil {
			byKey[key] = &Group{Axes: c.Group()}
			order = append(order, key)
		}
		members[key] = append(members[key], c)
	}
	metricSeen := map[string]bool{}
	phaseSeen := map[string]bool{}
	pluginSeen := map[string]bool{}
	for _, key := range order {
		g := byKey[key]
		final := map[string][]float64{}
		stage2 := map[string][]float64{}
		peak := map[string][]float64{}
		wall := map[string][]float64{}
		cpu := map[string][]float64{}
		var hard, rhard, toE, toS []float64
		curve := map[int][]CurvePoint{}
		target := rep.target(g.Value("dataset"))
		for _, c := range members[key] {
			rs := recs[c.ID]
			if len(rs) == 0 {
				continue
			}
			g.Cells = append(g.Cells, c.ID)
			g.Seeds++
			var last map[string]float64
			cellPeak := map[string]int64{}
			cellWall := map[string]float64{}
			cellCPU := map[string]float64{}
			m1 := 0
			reached := false
			for _, r := range rs {
				for kind, phases := range r.PeakRSS {
					pluginSeen[kind] = true
					for _, b := range phases {
						cellPeak[kind] = max(cellPeak[kind], b)
					}
				}
				if r.Stage == results.StageStage2 {
					for m, v := range r.Metrics {
						stage2[m] = append(stage2[m], v)
					}
					continue
				}
				m1++
				for p, s := range r.Wall {
					phaseSeen[p] = true
					cellWall[p] += s
				}
				for p, s := range r.CPU {
					cellCPU[p] += s
				}
				hard = append(hard, r.Hardness)
				if r.RefreshHardness != nil {
					rhard = append(rhard, *r.RefreshHardness)
				}
				if r.Metrics != nil {
					last = r.Metrics
					curve[r.Epoch] = append(curve[r.Epoch], CurvePoint{Epoch: r.Epoch, Elapsed: r.Elapsed, P1: r.Metrics["P@1"]})
					if !reached && target > 0 && r.Metrics["P@1"] >= target {
						reached = true
						toE = append(toE, float64(r.Epoch+1))
						toS = append(toS, r.Elapsed)
					}
				}
			}
			for m, v := range last {
				metricSeen[m] = true
				final[m] = append(final[m], v)
			}
			for kind, b := range cellPeak {
				peak[kind] = append(peak[kind], float64(b)/(1<<20))
			}
			if m1 > 0 {
				for p, s := range cellWall {
					wall[p] = append(wall[p], s/float64(m1))
				}
				for p, s := range cellCPU {
					cpu[p] = append(cpu[p], s/float64(m1))
				}
			}
		}
		g.Final, g.Stage2, g.PeakMiB, g.EpochWall = statMap(final), statMap(stage2), statMap(peak), statMap(wall)
		if len(cpu) > 0 {
			g.EpochCPU = statMap(cpu)
		}
		if len(g.Stage2) == 0 {
			g.Stage2 = nil
		}
		g.Hardness, g.RefreshHardness = stat(hard), stat(rhard)
		g.EpochsToTarget, g.SecondsToTarget, g.Reached = stat(toE), stat(toS), len(toE)
		epochs := make([]int, 0, len(curve))
		for e := range curve {
			epochs = append(epochs, e)
		}
		sort.Ints(epochs)
		for _, e := range epochs {
			var el, p1 []float64
			for _, p := range curve[e] {
				el, p1 = append(el, p.Elapsed), append(p1, p.P1)
			}
			se, sp := stat(el), stat(p1)
			g.Curve = append(g.Curve, CurvePoint{Epoch: e, Elapsed: se.Mean, P1: sp.Mean, P1Std: sp.Std, ElapsedStd: se.Std, N: sp.N})
		}
		rep.Groups = append(rep.Groups, *g)
	}
	rep.Metrics = orderMetrics(metricSeen)
	for _, p := range phaseOrder {
		if phaseSeen[p] {
			rep.Phases = append(rep.Phases, p)
		}
	}
	for _, k := range []string{"encoder", "sampler", "classifier", "stage2"} {
		if pluginSeen[k] {
			rep.Plugins = append(rep.Plugins, k)
		}
	}
}

func statMap(m map[string][]float64) map[string]Stat {
	out := make(map[string]Stat, len(m))
	for k, xs := range m {
		out[k] = stat(xs)
	}
	return out
}

// orderMetrics lists the paper's columns first (P, nDCG, PSP by k), then
// anything else the scorer produced is left out of the main table.
func orderMetrics(seen map[string]bool) []string {
	var ks []int
	kSeen := map[int]bool{}
	for m := range seen {
		var name string
		var k int
		if _, err := fmt.Sscanf(strings.Replace(m, "@", " ", 1), "%s %d", &name, &k); err == nil && !kSeen[k] {
			kSeen[k] = true
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	var out []string
	for _, name := range []string{"P", "nDCG", "PSP"} {
		for _, k := range ks {
			if m := fmt.Sprintf("%s@%d", name, k); seen[m] {
				out = append(out, m)
			}
		}
	}
	return out
}
