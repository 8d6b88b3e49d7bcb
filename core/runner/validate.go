package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// ErrInvalidCells marks a grid whose cells cannot run as written: a
// component that does not exist, a param its schema does not declare or of
// the wrong type, a data folder that is missing or unreadable.
var ErrInvalidCells = errors.New("invalid cells")

// Validate checks every cell before anything trains, so a typo fails the
// run at once instead of after other cells have trained: each component is
// launched once to read its schema, each cell's params are checked against
// it (name and type, with the grid file's line where the key is written),
// each data folder's files and headers are read, and the grid's
// call_timeouts name known calls. All problems are reported together.
func Validate(ctx context.Context, l Launcher, g *grid.Grid, cells []grid.Cell) error {
	var problems []string
	add := func(format string, a ...any) {
		p := fmt.Sprintf(format, a...)
		for _, q := range problems {
			if q == p {
				return
			}
		}
		problems = append(problems, p)
	}
	where := g.File
	if where == "" {
		where = "grid"
	}
	lines := grid.KeyLines([]byte(g.Source))
	for call := range g.CallTimeouts {
		if _, ok := DefaultCallTimeouts[call]; !ok {
			add("%s: call_timeouts.%s: unknown call (known: %s)", at(where, lines, "call_timeouts."+call), call, strings.Join(sortedCalls(), ", "))
		}
	}
	schemas := map[string]map[string]paramSchema{}
	capsOf := map[string][]string{}
	missing := map[string]bool{}
	schemaOf := func(kind sdk.Kind, name string) (map[string]paramSchema, bool) {
		key := string(kind) + "/" + name
		if s, ok := schemas[key]; ok {
			return s, true
		}
		if missing[key] {
			return nil, false
		}
		comp, err := l.Launch(ctx, kind, name)
		if err != nil {
			missing[key] = true
			add("%s: %s %q: %v", where, kind, name, err)
			return nil, false
		}
		comp.Kill()
		if kind == sdk.KindClassifier {
			capsOf[name] = comp.Info.Capabilities
		}
		s := map[string]paramSchema{}
		if len(comp.Info.ConfigSchema) > 0 {
			if err := json.Unmarshal(comp.Info.ConfigSchema, &s); err != nil {
				add("%s: %s %q: unreadable config schema: %v", where, kind, name, err)
			}
		}
		schemas[key] = s
		return s, true
	}
	checked := map[string]bool{}
	for _, c := range cells {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := c.Spec
		comps := []struct {
			kind sdk.Kind
			key  string
			comp grid.Component
		}{{sdk.KindEncoder, "encoder", s.Encoder}, {sdk.KindSampler, "sampler", s.Sampler}, {sdk.KindClassifier, "classifier", s.Classifier}}
		if s.Stage2 != nil {
			comps = append(comps, struct {
				kind sdk.Kind
				key  string
				comp grid.Component
			}{sdk.KindClassifier, "stage2", *s.Stage2})
		}
		for _, cp := range comps {
			if cp.comp.Name == grid.None {
				continue
			}
			schema, ok := schemaOf(cp.kind, cp.comp.Name)
			if s.Baseline() && cp.key == "classifier" {
				if caps, known := capsOf[cp.comp.Name]; known && !slices.Contains(caps, "raw_features") {
					add("%s: classifier %s cannot run without an encoder (it does not declare the raw_features capability); a classifier-only cell needs one that reads the data set's own features, such as tfidf-knn", at(where, lines, "classifier.name"), cp.comp.Name)
				}
			}
			if !ok || len(schema) == 0 {
				continue
			}
			for _, k := range sortedParamKeys(cp.comp.Params) {
				ps, declared := schema[k]
				path := cp.key + ".params." + k
				if !declared {
					add("%s: %s: unknown param of %s %s (known: %s)", at(where, lines, path), path, cp.kind, cp.comp.Name, strings.Join(sortedSchemaKeys(schema), ", "))
					continue
				}
				if msg := ps.check(cp.comp.Params[k]); msg != "" {
					add("%s: %s: %s", at(where, lines, path), path, msg)
				}
			}
		}
		if s.Dataset.Synth != nil && !checked["synth:"+s.Dataset.Name] {
			checked["synth:"+s.Dataset.Name] = true
			if _, err := SynthConfig(s.Dataset.Synth); err != nil {
				add("%s: dataset %s: %v", at(where, lines, "datasets"), s.Dataset.Name, err)
			}
		}
		if len(s.Dataset.Options) > 0 && !checked["options:"+s.Dataset.Name] {
			checked["options:"+s.Dataset.Name] = true
			raw, err := json.Marshal(s.Dataset.Options)
			if err == nil {
				_, err = data.DecodeOptions(raw)
			}
			if err != nil {
				add("%s: dataset %s: options: %v", at(where, lines, "datasets"), s.Dataset.Name, err)
			}
		}
		if dir := s.Dataset.Path; dir != "" && !checked[dir] {
			checked[dir] = true
			if err := data.Check(dir); err != nil {
				add("%s: dataset %s: %v", at(where, lines, "datasets"), s.Dataset.Name, err)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrInvalidCells, strings.Join(problems, "\n  "))
}

// paramSchema is one entry of a component's ConfigSchema.
type paramSchema struct {
	Type string `json:"type"`
}

// check reports why v does not fit the declared type ("" when it does, or
// when the type is not one this check knows).
func (p paramSchema) check(v any) string {
	isInt := func(x any) bool {
		switch n := x.(type) {
		case int, int64, uint64:
			return true
		case float64:
			return n == math.Trunc(n) && !math.IsInf(n, 0)
		}
		return false
	}
	isNum := func(x any) bool {
		switch n := x.(type) {
		case int, int64, uint64:
			return true
		case float64:
			return !math.IsNaN(n) && !math.IsInf(n, 0)
		}
		return false
	}
	list := func(elem func(any) bool) bool {
		xs, ok := v.([]any)
		if !ok {
			return false
		}
		for _, x := range xs {
			if !elem(x) {
				return false
			}
		}
		return true
	}
	ok := true
	switch p.Type {
	case "int":
		ok = isInt(v)
	case "float":
		ok = isNum(v)
	case "bool":
		_, ok = v.(bool)
	case "string":
		_, ok = v.(string)
	case "[]int":
		ok = list(isInt)
	case "[]float":
		ok = list(isNum)
	case "[]string":
		ok = list(func(x any) bool { _, s := x.(string); return s })
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("want %s, got %v (%T)", p.Type, v, v)
}

// at is "file:line" for the first place path is written in the grid file
// (directly, as a matrix key, or in an include entry), else the file.
func at(file string, lines map[string]int, path string) string {
	best := 0
	for k, ln := range lines {
		hit := k == path || k == "matrix."+path
		if rest, ok := strings.CutPrefix(k, "include["); ok {
			if _, p, ok := strings.Cut(rest, "]."); ok && p == path {
				hit = true
			}
		}
		if hit && (best == 0 || ln < best) {
			best = ln
		}
	}
	if best == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, best)
}

func sortedCalls() []string {
	out := make([]string, 0, len(DefaultCallTimeouts))
	for k := range DefaultCallTimeouts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedParamKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedSchemaKeys(m map[string]paramSchema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
