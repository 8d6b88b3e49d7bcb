package reports

import (
	"fmt"
	"github.com/xcbench/xcbench/core/grid"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// The claims layer: a report's README is a text/template whose numbers,
// ranges, ratios and verdicts are computed from the run's records (and the
// other records its spec names), so prose cannot drift from the data. The
// functions below are what a template may call; each returns a value or a
// formatted string and fails the render (never a silent blank) when the
// records lack what it asks for.

// Claims is the data a README template sees.
type Claims struct {
	R *Report
	// Records are the spec's other records by name (bench JSON, anchors),
	// decoded as generic JSON.
	Records map[string]any
	// Spec is the spec file's path relative to the repository root, for
	// the command lines the README quotes.
	Spec string
}

// Datasets lists the report's data sets in grid order.
func (c Claims) Datasets() []string { return c.R.axisValues("dataset") }

// Batches lists the batch sizes in grid order.
func (c Claims) Batches() []string { return c.R.axisValues("batch_size") }

func (r *Report) axisValues(key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range r.Groups {
		v := g.Value(key)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// find returns the group whose coordinates match every "key=value" pair
// (keys as the grid writes them: dataset, batch_size, sampler.name).
func (r *Report) find(pairs ...string) (Group, error) {
	var hit []Group
	for _, g := range r.Groups {
		if g.matches(pairs) {
			hit = append(hit, g)
		}
	}
	if len(hit) != 1 {
		return Group{}, fmt.Errorf("claims: %d groups match %v, want exactly one", len(hit), pairs)
	}
	return hit[0], nil
}

// value reads a group's statistic by name:
//
//	final:<metric>  encoder-only metric at the last evaluation (fraction)
//	stage2:<metric> the same after the stage-2 classifier
//	peak:<plugin>   peak RSS in MiB
//	wall:<phase>    seconds per epoch in that phase
//	cpu:<phase>     CPU seconds per epoch in that phase (all processes)
//	to_seconds, to_epochs  time to the P@1 target
//	hardness, refresh_hardness
//	curve:<epoch>   P@1 of the learning curve at that epoch (0-based)
func (g Group) value(name string) (Stat, error) {
	kind, arg, _ := strings.Cut(name, ":")
	var s Stat
	var ok bool
	switch kind {
	case "final":
		s, ok = g.Final[arg]
	case "stage2":
		s, ok = g.Stage2[arg]
	case "peak":
		s, ok = g.PeakMiB[arg]
	case "wall":
		s, ok = g.EpochWall[arg]
	case "cpu":
		s, ok = g.EpochCPU[arg]
	case "to_seconds":
		s, ok = g.SecondsToTarget, g.SecondsToTarget.N > 0
	case "to_epochs":
		s, ok = g.EpochsToTarget, g.EpochsToTarget.N > 0
	case "hardness":
		s, ok = g.Hardness, g.Hardness.N > 0
	case "refresh_hardness":
		s, ok = g.RefreshHardness, g.RefreshHardness.N > 0
	case "curve":
		e, err := strconv.Atoi(arg)
		if err != nil {
			return Stat{}, fmt.Errorf("claims: %q: want curve:<epoch>", name)
		}
		for _, p := range g.Curve {
			if p.Epoch == e {
				s, ok = Stat{Mean: p.P1, Std: p.P1Std, N: p.N}, p.N > 0
			}
		}
	default:
		return Stat{}, fmt.Errorf("claims: unknown statistic %q", name)
	}
	if !ok || s.N == 0 {
		return Stat{}, fmt.Errorf("claims: group %s has no %s", g.Label(), name)
	}
	return s, nil
}

// lookup is the statistic name of the one group pairs select; ok is false
// when the group lacks it (a cell that did not finish, random's refresh),
// and err is set only when no single group matches.
func (r *Report) lookup(name string, pairs []string) (s Stat, ok bool, err error) {
	g, err := r.find(pairs...)
	if err != nil {
		return Stat{}, false, err
	}
	s, err = g.value(name)
	return s, err == nil, nil
}

// Comparison is Welch's two-sample t interval on the difference of two
// groups' means (A − B), over their seeds.
type Comparison struct {
	A, B     Stat
	Diff     float64
	Lo, Hi   float64 // 95% confidence interval of Diff
	DF       float64
	Ratio    float64 // A.Mean / B.Mean
	Decided  bool    // the interval excludes 0
	Positive bool    // and A > B
	// Where names the setting a tally compared at ("cooking, 512").
	Where string
}

// welch compares a and b; with fewer than two seeds on either side there
// is no interval and nothing is decided.
func welch(a, b Stat) Comparison {
	c := Comparison{A: a, B: b, Diff: a.Mean - b.Mean, Lo: math.Inf(-1), Hi: math.Inf(1)}
	if b.Mean != 0 {
		c.Ratio = a.Mean / b.Mean
	}
	if a.N < 2 || b.N < 2 {
		return c
	}
	va, vb := a.Std*a.Std/float64(a.N), b.Std*b.Std/float64(b.N)
	se := math.Sqrt(va + vb)
	if se == 0 {
		c.Lo, c.Hi, c.DF = c.Diff, c.Diff, math.Inf(1)
	} else {
		c.DF = (va + vb) * (va + vb) / (va*va/float64(a.N-1) + vb*vb/float64(b.N-1))
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: c.DF}.Quantile(0.975)
		c.Lo, c.Hi = c.Diff-t*se, c.Diff+t*se
	}
	c.Decided = c.Lo > 0 || c.Hi < 0
	c.Positive = c.Decided && c.Diff > 0
	return c
}

// Tally sums comparisons of two samplers over every other coordinate.
type Tally struct {
	N, AHigher, ALower, Undecided int
	Ratios                        []float64
	Rows                          []Comparison
}

// TemplateFuncs are the functions a README template can call.
func (c Claims) TemplateFuncs() template.FuncMap {
	r := c.R
	return template.FuncMap{
		// stat "final:P@1" "dataset=bibtex" "batch_size=512" "sampler.name=ance"
		"stat": func(name string, pairs ...string) (Stat, error) {
			g, err := r.find(pairs...)
			if err != nil {
				return Stat{}, err
			}
			return g.value(name)
		},
		// best "final:P@1" "dataset=bibtex" "sampler.name=ance": the group
		// with the highest mean among those matching (e.g. over batch sizes).
		"best": func(name string, pairs ...string) (Group, error) { return r.bestGroup(name, true, pairs...) },
		// cmp "final:P@1" groupA groupB
		"cmp": func(name string, a, b Group) (Comparison, error) {
			sa, err := a.value(name)
			if err != nil {
				return Comparison{}, err
			}
			sb, err := b.value(name)
			if err != nil {
				return Comparison{}, err
			}
			return welch(sa, sb), nil
		},
		"group": func(pairs ...string) (Group, error) { return r.find(pairs...) },
		// tally "wall:train" "sampler.name" "ance" "ngame": A vs B at every
		// setting of the other coordinates.
		// tally "wall:train" "sampler.name" "ance" "ngame" ["batch_size=512"...]
		"tally": func(name, key, a, b string, pairs ...string) (Tally, error) {
			return r.tally(name, key, a, b, pairs...)
		},
		// cmp2 "stage2:P@1" groupA "final:P@1" groupB: two statistics.
		"cmp2": func(na string, a Group, nb string, b Group) (Comparison, error) {
			sa, err := a.value(na)
			if err != nil {
				return Comparison{}, err
			}
			sb, err := b.value(nb)
			if err != nil {
				return Comparison{}, err
			}
			return welch(sa, sb), nil
		},
		// values "peak:sampler" "sampler.name=ngame": the means of every
		// matching group, for span.
		"values": func(name string, pairs ...string) ([]float64, error) {
			var out []float64
			for _, g := range r.Groups {
				if !g.matches(pairs) {
					continue
				}
				s, err := g.value(name)
				if err != nil {
					return nil, err
				}
				out = append(out, s.Mean)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("claims: no group matches %v", pairs)
			}
			return out, nil
		},
		"scale": func(k float64, xs []float64) []float64 {
			out := make([]float64, len(xs))
			for i, x := range xs {
				out[i] = k * x
			}
			return out
		},
		"minutes": func(from, to string) (float64, error) {
			a, err := time.Parse(time.RFC3339Nano, from)
			if err != nil {
				return 0, fmt.Errorf("claims: %w", err)
			}
			b, err := time.Parse(time.RFC3339Nano, to)
			if err != nil {
				return 0, fmt.Errorf("claims: %w", err)
			}
			return b.Sub(a).Minutes(), nil
		},
		"hhmm": func(ts string) (string, error) {
			a, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				return "", fmt.Errorf("claims: %w", err)
			}
			return a.UTC().Format("15:04"), nil
		},
		"pct":  func(s Stat) string { return fmtStat(s, 100, 2) },
		"pctm": func(s Stat) string { return strconv.FormatFloat(s.Mean*100, 'f', 2, 64) },
		"num":  func(prec int, s Stat) string { return fmtStat(s, 1, prec) },
		"numm": func(prec int, s Stat) string { return strconv.FormatFloat(s.Mean, 'f', prec, 64) },
		"f":    func(prec int, x float64) string { return strconv.FormatFloat(x, 'f', prec, 64) },
		"span": span,
		"ci":   ciText,
		"verdict": func(c Comparison, higher, lower, undecided string) string {
			switch {
			case !c.Decided:
				return undecided
			case c.Positive:
				return higher
			default:
				return lower
			}
		},
		"record": func(path ...string) (any, error) { return c.record(path...) },
		"recnum": func(path ...string) (float64, error) {
			v, err := c.record(path...)
			if err != nil {
				return 0, err
			}
			f, ok := v.(float64)
			if !ok {
				return 0, fmt.Errorf("claims: record %v is %T, not a number", path, v)
			}
			return f, nil
		},
		// bench "bench" "ngame" 2048 "encoder_peak_mib": a field of the
		// result for that sampler and batch size in a bench record.
		"bench": func(rec, sampler string, batch int, field string) (float64, error) {
			return c.benchValue(rec, sampler, batch, field)
		},
		// interval "cmp-x" "documents": a paired interval that `xcbench
		// compare --json` recorded (documents: bootstrap over test
		// documents; seeds: paired t over seeds), in points.
		"interval": func(rec, which string) (string, error) {
			iv, err := c.interval(rec, which)
			if err != nil {
				return "", err
			}
			return ciText(100, 2, iv), nil
		},
		// method "cmp-x" "documents": how that interval was made.
		"method": func(rec, which string) (string, error) {
			iv, err := c.interval(rec, which)
			return iv.Where, err
		},
		// supported "cmp-x" "documents" "A better" "B better" "no difference shown"
		"supported": func(rec, which, higher, lower, undecided string) (string, error) {
			iv, err := c.interval(rec, which)
			if err != nil {
				return "", err
			}
			switch {
			case !iv.Decided:
				return undecided, nil
			case iv.Positive:
				return higher, nil
			}
			return lower, nil
		},
		"target": func(ds string) string { return fmt.Sprintf("%.4g", r.target(ds)*100) },
		"upper":  strings.ToUpper,
		"abs":    math.Abs,
		"sqrt":   math.Sqrt,
		// has "peak:encoder" "sampler.name=ance": whether the group has
		// the statistic (a cell that did not finish has none); a group that
		// does not exist is still an error.
		"has": func(name string, pairs ...string) (bool, error) {
			_, ok, err := r.lookup(name, pairs)
			return ok, err
		},
		// numOr 1 "wall:refresh" "–" "sampler.name=random": the group's mean
		// of a statistic it may not have (random never refreshes), else the
		// placeholder; a group that does not exist is still an error.
		"numOr": func(prec int, name, placeholder string, pairs ...string) (string, error) {
			s, ok, err := r.lookup(name, pairs)
			if err != nil || !ok {
				return placeholder, err
			}
			return strconv.FormatFloat(s.Mean, 'f', prec, 64), nil
		},
		// reach "sampler.name=ngame" "batch_size=512": time to the P@1
		// target as "E ep / S s", saying how many seeds reached it when
		// not all did, and "not reached" when none did.
		"reach": func(pairs ...string) (string, error) {
			g, err := r.find(pairs...)
			if err != nil {
				return "", err
			}
			if g.Reached == 0 {
				return "not reached", nil
			}
			out := strconv.FormatFloat(g.EpochsToTarget.Mean, 'f', 1, 64) + " ep / " + strconv.FormatFloat(g.SecondsToTarget.Mean, 'f', 0, 64) + " s"
			if g.Reached < g.Seeds {
				out += fmt.Sprintf(" (%d of %d seeds)", g.Reached, g.Seeds)
			}
			return out, nil
		},
		"div":  func(a, b float64) float64 { return a / b },
		"mul":  func(a, b float64) float64 { return a * b },
		"sub":  func(a, b float64) float64 { return a - b },
		"add":  func(a, b int) int { return a + b },
		"list": func(xs ...string) []string { return xs },
		"name": samplerName,
	}
}

// samplerName is a sampler's name in prose.
func samplerName(s string) string {
	switch s {
	case "ngame":
		return "NGAME"
	case "ance":
		return "ANCE"
	case "tasb":
		return "TAS-B"
	}
	return s
}

func fmtStat(s Stat, scale float64, prec int) string {
	c := Cell{Stat: &s, Scale: scale, Prec: prec}
	return c.Format(" ± ")
}

// span formats the range of xs with prec decimals ("1.5–3.1"), one number
// when they round alike.
func span(prec int, xs []float64) (string, error) {
	if len(xs) == 0 {
		return "", fmt.Errorf("claims: empty range")
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	a, b := strconv.FormatFloat(lo, 'f', prec, 64), strconv.FormatFloat(hi, 'f', prec, 64)
	if a == b {
		return a, nil
	}
	return a + "–" + b, nil
}

// ciText is "+0.32 [95% CI −0.41, +1.05]" with the values scaled.
func ciText(scale float64, prec int, c Comparison) string {
	sg := func(x float64) string {
		s := strconv.FormatFloat(x*scale, 'f', prec, 64)
		if x*scale >= 0 {
			return "+" + s
		}
		return "−" + s[1:]
	}
	if math.IsInf(c.Lo, 0) {
		return sg(c.Diff) + " (no interval: fewer than 2 seeds)"
	}
	return fmt.Sprintf("%s [95%% CI %s, %s]", sg(c.Diff), sg(c.Lo), sg(c.Hi))
}

func (r *Report) bestGroup(name string, higher bool, pairs ...string) (Group, error) {
	var best Group
	found := false
	bestMean := 0.0
	for _, g := range r.Groups {
		if !g.matches(pairs) {
			continue
		}
		s, err := g.value(name)
		if err != nil {
			continue
		}
		if !found || (higher && s.Mean > bestMean) || (!higher && s.Mean < bestMean) {
			best, bestMean, found = g, s.Mean, true
		}
	}
	if !found {
		return Group{}, fmt.Errorf("claims: no group matching %v has %s", pairs, name)
	}
	return best, nil
}

// tally compares value name of groups with key=a against key=b that agree
// on every other coordinate.
func (r *Report) tally(name, key, a, b string, pairs ...string) (Tally, error) {
	var t Tally
	rest := func(g Group) string {
		var parts []string
		for _, ax := range g.Axes {
			if ax.Key != key {
				parts = append(parts, fmt.Sprintf("%s=%v", ax.Key, ax.Value))
			}
		}
		return strings.Join(parts, " ")
	}
	bs := map[string]Group{}
	for _, g := range r.Groups {
		if g.Value(key) == b {
			bs[rest(g)] = g
		}
	}
	for _, g := range r.Groups {
		if g.Value(key) != a || !g.matches(pairs) {
			continue
		}
		h, ok := bs[rest(g)]
		if !ok {
			continue
		}
		sa, err := g.value(name)
		if err != nil {
			return t, err
		}
		sb, err := h.value(name)
		if err != nil {
			return t, err
		}
		c := welch(sa, sb)
		var where []string
		for _, ax := range g.Axes {
			if ax.Key != key {
				where = append(where, grid.AxisValue(ax.Value))
			}
		}
		c.Where = strings.Join(where, ", ")
		t.N++
		t.Rows = append(t.Rows, c)
		t.Ratios = append(t.Ratios, c.Ratio)
		switch {
		case !c.Decided:
			t.Undecided++
		case c.Positive:
			t.AHigher++
		default:
			t.ALower++
		}
	}
	if t.N == 0 {
		return t, fmt.Errorf("claims: no setting has both %s=%s and %s=%s", key, a, key, b)
	}
	sort.Float64s(t.Ratios)
	return t, nil
}

// interval reads one interval of a compare record as a Comparison (Where
// holds its method).
func (c Claims) interval(rec, which string) (Comparison, error) {
	v, err := c.record(rec, which)
	if err != nil {
		return Comparison{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Comparison{}, fmt.Errorf("claims: record %s %s is not an interval", rec, which)
	}
	num := func(k string) (float64, error) {
		f, ok := m[k].(float64)
		if !ok {
			return 0, fmt.Errorf("claims: record %s %s has no number %s", rec, which, k)
		}
		return f, nil
	}
	var cmp Comparison
	for k, dst := range map[string]*float64{"Diff": &cmp.Diff, "Lo": &cmp.Lo, "Hi": &cmp.Hi} {
		if *dst, err = num(k); err != nil {
			return Comparison{}, err
		}
	}
	if lvl, _ := num("Level"); lvl != 0.95 {
		return Comparison{}, fmt.Errorf("claims: record %s %s is a %v interval; the text says 95%%", rec, which, lvl)
	}
	cmp.Where, _ = m["Method"].(string)
	cmp.Decided = cmp.Lo > 0 || cmp.Hi < 0
	cmp.Positive = cmp.Decided && cmp.Diff > 0
	return cmp, nil
}

// record walks a decoded JSON record: record "bench" "results" "3"
// "encoder_peak_mib".
func (c Claims) record(path ...string) (any, error) {
	if len(path) == 0 {
		return nil, fmt.Errorf("claims: record needs a name")
	}
	v, ok := c.Records[path[0]]
	if !ok {
		return nil, fmt.Errorf("claims: no record %q", path[0])
	}
	for _, p := range path[1:] {
		switch x := v.(type) {
		case map[string]any:
			if v, ok = x[p]; !ok {
				return nil, fmt.Errorf("claims: record %v: no key %q", path, p)
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("claims: record %v: bad index %q", path, p)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("claims: record %v: %q is inside a %T", path, p, v)
		}
	}
	return v, nil
}

// benchValue finds a `xcbench bench` result by sampler and batch size.
func (c Claims) benchValue(rec, sampler string, batch int, field string) (float64, error) {
	v, err := c.record(rec, "results")
	if err != nil {
		return 0, err
	}
	rows, ok := v.([]any)
	if !ok {
		return 0, fmt.Errorf("claims: record %s: results is %T", rec, v)
	}
	for _, row := range rows {
		m, ok := row.(map[string]any)
		if !ok || m["sampler"] != sampler || m["batch_size"] != float64(batch) {
			continue
		}
		f, ok := m[field].(float64)
		if !ok {
			return 0, fmt.Errorf("claims: record %s: %s at batch %d has no number %q", rec, sampler, batch, field)
		}
		return f, nil
	}
	return 0, fmt.Errorf("claims: record %s has no %s result at batch %d", rec, sampler, batch)
}

// matches says whether the group has every "key=value" coordinate.
func (g Group) matches(pairs []string) bool {
	for _, p := range pairs {
		// "key!=value" excludes, "key=value" requires.
		if k, v, ok := strings.Cut(p, "!="); ok {
			if g.Value(k) == v {
				return false
			}
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if g.Value(k) != v {
			return false
		}
	}
	return true
}
