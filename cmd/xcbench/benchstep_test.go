package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestStepData(t *testing.T) {
	ds, err := StepData(50, 8, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if !ds.TrainY.Has(i, int32(i)) || ds.TrainY.RowLen(i) != 1 {
			t.Fatalf("doc %d: want label %d only", i, i)
		}
		for _, m := range []struct {
			name string
			row  func(int) ([]int32, []float32)
		}{{"doc", ds.TrainX.Row}, {"label", ds.LabelX.Row}} {
			cols, vals := m.row(i)
			var sum float32
			for j, c := range cols {
				if c < 1 || c >= 50 {
					t.Fatalf("%s %d: token %d outside [1,50)", m.name, i, c)
				}
				sum += vals[j]
			}
			if sum != 8 {
				t.Fatalf("%s %d: %v tokens, want 8", m.name, i, sum)
			}
		}
		if len(ds.TrainTok[i]) != 8 || len(ds.LabelTok[i]) != 8 {
			t.Fatalf("token sequences of %d: %d, %d", i, len(ds.TrainTok[i]), len(ds.LabelTok[i]))
		}
	}
	if _, err := StepData(1, 8, 10, 1); err == nil {
		t.Fatal("vocab 1 accepted")
	}
}

func TestBenchStepWritesJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "step.json")
	cmd := newBenchStepCmd()
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--batch-size", "16", "--vocab", "300", "--seq", "8", "--dim", "8", "--steps", "2", "--warmup", "1", "--out", out})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep StepReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.PairsPerS <= 0 || rep.MsPerStep <= 0 || rep.PeakRSSMiB <= 0 || rep.Steps != 2 || rep.BatchSize != 16 || rep.Build.GoVersion == "" {
		t.Fatalf("report %+v", rep)
	}
	cmd = newBenchStepCmd()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--encoder", "nope", "--out", out})
	if err := cmd.ExecuteContext(context.Background()); err == nil {
		t.Fatal("unknown encoder accepted")
	}
}

func TestBenchHasStepSubcommand(t *testing.T) {
	cmd := newBenchCmd()
	sub, _, err := cmd.Find([]string{"step"})
	if err != nil || sub.Name() != "step" {
		t.Fatalf("bench step not found: %v", err)
	}
	if f := cmd.Flags().Lookup("samplers"); f == nil {
		t.Fatal("bench lost its own flags")
	}
}
