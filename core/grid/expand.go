package grid

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// combo is one point of the grid: axis key -> value, plus key order.
type combo struct {
	keys []string
	vals map[string]any
	// extra holds settings an include entry added to existing
	// combinations: configuration, not coordinates, so they stay out of
	// names and report groups.
	extra map[string]any
}

func (c combo) clone() combo {
	v := make(map[string]any, len(c.vals))
	for k, x := range c.vals {
		v[k] = x
	}
	x := make(map[string]any, len(c.extra))
	for k, e := range c.extra {
		x[k] = e
	}
	return combo{keys: append([]string(nil), c.keys...), vals: v, extra: x}
}

func (c *combo) set(k string, v any) {
	if _, ok := c.vals[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.vals[k] = v
}

func same(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// DefaultMaxCells bounds a grid's expansion unless the caller allows more
// (xcbench run --max-cells): a few lines of matrix can multiply to millions
// of cells, which would take minutes and gigabytes to expand only to be a
// typo.
const DefaultMaxCells = 100_000

// Expand returns the grid's cells in run order: seeds outermost (so an
// interrupted grid has every variant of the first seed), then datasets,
// then the matrix with its last key (sorted) varying fastest. It refuses
// grids of more than DefaultMaxCells cells.
func Expand(g *Grid) ([]Cell, error) { return ExpandMax(g, DefaultMaxCells) }

// ExpandMax is Expand with a bound of maxCells cells (<= 0: none), checked
// on the sizes before anything is expanded.
func ExpandMax(g *Grid, maxCells int) ([]Cell, error) {
	where := g.File
	if where == "" {
		where = "grid"
	}
	if maxCells > 0 {
		n := float64(len(g.Seeds) * len(g.Datasets))
		for _, vs := range g.Matrix {
			n *= float64(len(vs))
		}
		n += float64(len(g.Include) * len(g.Seeds) * len(g.Datasets))
		if n > float64(maxCells) {
			return nil, fmt.Errorf("%s: %w: the grid expands to up to %.0f cells, over the limit of %d (raise it with --max-cells if that is meant)", where, ErrInvalid, n, maxCells)
		}
	}
	axes := make([]string, 0, len(g.Matrix))
	for k := range g.Matrix {
		axes = append(axes, k)
	}
	sort.Strings(axes)
	isAxis := map[string]bool{"dataset": true, "seed": true}
	for _, a := range axes {
		isAxis[a] = true
	}

	var combos []combo
	for _, seed := range g.Seeds {
		for _, ds := range g.Datasets {
			part := []combo{{vals: map[string]any{}}}
			part[0].set("dataset", ds.Name)
			for _, a := range axes {
				var next []combo
				for _, c := range part {
					for _, v := range g.Matrix[a] {
						n := c.clone()
						n.set(a, v)
						next = append(next, n)
					}
				}
				part = next
			}
			for i := range part {
				part[i].set("seed", seed)
			}
			combos = append(combos, part...)
		}
	}

	for i, ex := range g.Exclude {
		for k := range ex {
			if !isAxis[k] {
				return nil, fmt.Errorf("%s: %w: exclude[%d]: %q is not an axis (dataset, seed or a matrix key)", where, ErrInvalid, i, k)
			}
		}
		kept := combos[:0]
		for _, c := range combos {
			if !matches(c, ex) {
				kept = append(kept, c)
			}
		}
		combos = kept
	}

	original := len(combos)
	for i, inc := range g.Include {
		matched := false
		for j := 0; j < original; j++ {
			if !matchesAxes(combos[j], inc, isAxis) {
				continue
			}
			matched = true
			if combos[j].extra == nil {
				combos[j].extra = map[string]any{}
			}
			for _, k := range sortedKeys(inc) {
				if !isAxis[k] {
					combos[j].extra[k] = inc[k]
				}
			}
		}
		if matched {
			continue
		}
		added, err := newCombos(g, inc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: include[%d]: %w", where, ErrInvalid, i, err)
		}
		combos = append(combos, added...)
	}

	base, err := baseMap(g)
	if err != nil {
		return nil, err
	}
	cells := make([]Cell, 0, len(combos))
	seen := map[string]string{}
	for _, c := range combos {
		cell, err := buildCell(g, base, c, where)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[cell.ID]; dup {
			return nil, fmt.Errorf("%s: %w: cells %q and %q resolve to the same configuration", where, ErrInvalid, prev, cell.Name)
		}
		seen[cell.ID] = cell.Name
		cells = append(cells, cell)
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("%s: %w: the grid expands to no cells", where, ErrInvalid)
	}
	return cells, nil
}

func matches(c combo, ex map[string]any) bool {
	for k, v := range ex {
		if !same(c.vals[k], v) {
			return false
		}
	}
	return true
}

// matchesAxes: an include entry joins a combination when it overwrites none
// of the combination's original axis values.
func matchesAxes(c combo, inc map[string]any, isAxis map[string]bool) bool {
	for k, v := range inc {
		if isAxis[k] && !same(c.vals[k], v) {
			return false
		}
	}
	return true
}

// newCombos makes the combinations an unmatched include entry adds: one per
// seed and dataset unless it names them.
func newCombos(g *Grid, inc map[string]any) ([]combo, error) {
	seeds := []any{}
	if v, ok := inc["seed"]; ok {
		seeds = append(seeds, v)
	} else {
		for _, s := range g.Seeds {
			seeds = append(seeds, s)
		}
	}
	dss := []any{}
	if v, ok := inc["dataset"]; ok {
		if dataset(g, fmt.Sprint(v)) == nil {
			return nil, fmt.Errorf("dataset %q is not in datasets", v)
		}
		dss = append(dss, v)
	} else {
		for _, d := range g.Datasets {
			dss = append(dss, d.Name)
		}
	}
	var out []combo
	for _, s := range seeds {
		for _, d := range dss {
			c := combo{vals: map[string]any{}}
			c.set("dataset", d)
			for _, k := range sortedKeys(inc) {
				if k != "dataset" && k != "seed" {
					c.set(k, inc[k])
				}
			}
			c.set("seed", s)
			out = append(out, c)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func dataset(g *Grid, name string) *Dataset {
	for i := range g.Datasets {
		if g.Datasets[i].Name == name {
			return &g.Datasets[i]
		}
	}
	return nil
}

// baseMap is the part of the grid every cell shares, as a generic map in
// koanf key spelling.
func baseMap(g *Grid) (map[string]any, error) {
	s := Spec{
		Epochs: g.Epochs, BatchSize: g.BatchSize, Eval: g.Eval,
		Encoder: g.Encoder, Sampler: g.Sampler, Classifier: g.Classifier, Stage2: g.Stage2,
		TargetP1: g.TargetP1, BudgetMB: g.BudgetMB, Timeout: g.Timeout,
	}
	return toMap(s)
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// setPath sets a dotted key, creating maps on the way; a non-map in the
// way is replaced, as the override says so.
func setPath(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = deepCopy(v)
}

func buildCell(g *Grid, base map[string]any, c combo, where string) (Cell, error) {
	m := deepCopy(base).(map[string]any)
	ds := dataset(g, fmt.Sprint(c.vals["dataset"]))
	if ds == nil {
		return Cell{}, fmt.Errorf("%s: %w: dataset %q is not in datasets", where, ErrInvalid, c.vals["dataset"])
	}
	dm, err := toMap(*ds)
	if err != nil {
		return Cell{}, err
	}
	delete(dm, "path") // not a config key; restored below
	m["dataset"] = dm
	m["seed"] = c.vals["seed"]
	for _, k := range c.keys {
		if k == "dataset" || k == "seed" {
			continue
		}
		setPath(m, k, c.vals[k])
	}
	for _, k := range sortedKeys(c.extra) {
		setPath(m, k, c.extra[k])
	}
	var s Spec
	if err := decodeStrict(m, &s); err != nil {
		return Cell{}, fmt.Errorf("%s: %w: matrix/include keys %s: %w", where, ErrInvalid, strings.Join(c.keys, ", "), err)
	}
	s.Dataset.Path = ds.Path
	cell := Cell{Spec: s}
	for _, k := range c.keys {
		cell.Axes = append(cell.Axes, Axis{Key: k, Value: c.vals[k]})
	}
	if err := s.validate(fmt.Sprintf("%s: cell %s", where, cellName(cell.Axes))); err != nil {
		return Cell{}, err
	}
	if cell.ID, err = specID(s); err != nil {
		return Cell{}, err
	}
	cell.Name = cellName(cell.Axes)
	return cell, nil
}

// AxisLabel shortens a dotted axis key for names and table headers:
// "sampler.name" -> "sampler", "encoder.params.lr" -> "lr".
func AxisLabel(key string) string {
	parts := strings.Split(key, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "name" {
		return parts[len(parts)-2]
	}
	return parts[len(parts)-1]
}

func cellName(axes []Axis) string {
	var parts []string
	for _, a := range axes {
		if a.Key == "dataset" {
			parts = append(parts, AxisValue(a.Value))
			continue
		}
		parts = append(parts, AxisLabel(a.Key)+"="+AxisValue(a.Value))
	}
	return strings.Join(parts, " ")
}
