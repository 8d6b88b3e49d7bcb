package reports

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWelch(t *testing.T) {
	tests := []struct {
		name     string
		a, b     Stat
		lo, hi   float64
		decided  bool
		positive bool
	}{
		// se = sqrt(1/3+1/3), df = 4, t(0.975, 4) = 2.7764451.
		{"wide", Stat{10, 1, 3}, Stat{8, 1, 3}, 2 - 2.7764451*math.Sqrt(2.0/3), 2 + 2.7764451*math.Sqrt(2.0/3), false, false},
		{"clear", Stat{10, 0.5, 3}, Stat{8, 0.5, 3}, 2 - 2.7764451*math.Sqrt(0.5/3), 2 + 2.7764451*math.Sqrt(0.5/3), true, true},
		{"clearly lower", Stat{8, 0.5, 3}, Stat{10, 0.5, 3}, -2 - 2.7764451*math.Sqrt(0.5/3), -2 + 2.7764451*math.Sqrt(0.5/3), true, false},
		{"one seed", Stat{10, 0, 1}, Stat{8, 0, 3}, math.Inf(-1), math.Inf(1), false, false},
	}
	for _, tc := range tests {
		c := welch(tc.a, tc.b)
		if math.Abs(c.Lo-tc.lo) > 1e-6 && !(math.IsInf(c.Lo, -1) && math.IsInf(tc.lo, -1)) ||
			math.Abs(c.Hi-tc.hi) > 1e-6 && !(math.IsInf(c.Hi, 1) && math.IsInf(tc.hi, 1)) {
			t.Errorf("%s: interval [%v, %v], want [%v, %v]", tc.name, c.Lo, c.Hi, tc.lo, tc.hi)
		}
		if c.Decided != tc.decided || c.Positive != tc.positive {
			t.Errorf("%s: decided %v positive %v", tc.name, c.Decided, c.Positive)
		}
	}
	if s, _ := span(1, []float64{2.25, 1.49, 3.06}); s != "1.5–3.1" {
		t.Errorf("span %q", s)
	}
	if s, _ := span(0, []float64{54.2, 53.9}); s != "54" {
		t.Errorf("span of equal roundings %q", s)
	}
}

// A template computes its numbers from the run, and a claim the records
// cannot back fails the render instead of printing a blank.
func TestReadmeTemplate(t *testing.T) {
	run := fixtureRun(t)
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(dir, "README.tmpl.md"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := Spec{Run: rel, Formats: []string{"md"}, Readme: "README.tmpl.md"}
	write(`{{with tally "final:P@1" "sampler.name" "ngame" "random" "batch_size=8"}}ngame/random {{span 2 .Ratios}}, higher in {{.AHigher}} of {{.N}}{{end}}; ` +
		`{{ci 100 1 (cmp "final:P@1" (group "batch_size=8" "sampler.name=ngame") (group "batch_size=8" "sampler.name=random"))}}`)
	files, _, err := SpecOutputs(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	// ngame final P@1: 0.3+0.2+0.01*seed+0.11 over seeds 1, 2: 0.625, random 0.515.
	got := string(files["README.md"])
	if !strings.HasPrefix(got, "ngame/random 1.21, higher in 1 of 1; +11.0 [95% CI ") {
		t.Errorf("rendered %q", got)
	}
	// curve:<epoch>: ngame's P@1 at epoch 1 is 0.3+0.1+0.11+0.01*seed.
	write(`{{pct (stat "curve:1" "batch_size=8" "sampler.name=ngame")}}`)
	if files, _, err := SpecOutputs(dir, spec); err != nil || string(files["README.md"]) != "52.50 ± 0.71" {
		t.Errorf("curve:1 rendered %q, %v", files["README.md"], err)
	}
	// reach: both fixture seeds reach the report's default target at
	// their second epoch, after 25 s of work.
	write(`{{reach "batch_size=8" "sampler.name=ngame"}}`)
	if files, _, err := SpecOutputs(dir, spec); err != nil || string(files["README.md"]) != "2.0 ep / 25 s" {
		t.Errorf("reach rendered %q, %v", files["README.md"], err)
	}
	// numOr: the fixture has no P@7, and has P@1 (0.625 for ngame).
	write(`{{numOr 1 "final:P@7" "–" "batch_size=8" "sampler.name=ngame"}} {{numOr 3 "final:P@1" "–" "batch_size=8" "sampler.name=ngame"}}`)
	if files, _, err := SpecOutputs(dir, spec); err != nil || string(files["README.md"]) != "– 0.625" {
		t.Errorf("numOr rendered %q, %v", files["README.md"], err)
	}
	// cpu:<phase>: the fixture's training CPU is half its wall, 10/8*8/2.
	write(`{{numm 2 (stat "cpu:train" "batch_size=8" "sampler.name=ngame")}} {{numOr 1 "cpu:refresh" "–" "batch_size=8" "sampler.name=ngame"}}`)
	if files, _, err := SpecOutputs(dir, spec); err != nil || string(files["README.md"]) != "5.00 –" {
		t.Errorf("cpu rendered %q, %v", files["README.md"], err)
	}
	write(`{{has "final:P@1" "batch_size=8" "sampler.name=ngame"}} {{has "final:P@7" "batch_size=8" "sampler.name=ngame"}}`)
	if files, _, err := SpecOutputs(dir, spec); err != nil || string(files["README.md"]) != "true false" {
		t.Errorf("has rendered %q, %v", files["README.md"], err)
	}
	write(`{{stat "curve:x" "batch_size=8" "sampler.name=ngame"}}`)
	if _, _, err := SpecOutputs(dir, spec); err == nil || !strings.Contains(err.Error(), "want curve:<epoch>") {
		t.Errorf("bad curve epoch: %v", err)
	}
	write(`{{stat "final:P@1" "sampler.name=ance"}}`)
	if _, _, err := SpecOutputs(dir, spec); err == nil || !strings.Contains(err.Error(), "0 groups match") {
		t.Errorf("missing group: %v", err)
	}
	write(`{{stat "final:P@7" "batch_size=8" "sampler.name=ngame"}}`)
	if _, _, err := SpecOutputs(dir, spec); err == nil || !strings.Contains(err.Error(), "has no final:P@7") {
		t.Errorf("missing metric: %v", err)
	}
}
