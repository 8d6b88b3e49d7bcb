package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const committedRun = "../../reports/results/ngame-vs-ance-vs-random/run"

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// report refuses bad arguments before it reads or creates anything.
func TestReportChecksFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", missing}, "no such file"},
		{[]string{"report", file}, "is a file, not a run folder"},
		{[]string{"report", dir}, "has no manifest.json"},
		{[]string{"report", committedRun, "--format", "pdf"}, `unknown format "pdf"`},
		{[]string{"report", committedRun, "--metrics", "P@1,Q@2"}, `metric "Q@2"`},
		{[]string{"report", committedRun, "--format", "md", "--out", file}, "is a file, not a folder"},
		{[]string{"report", "--spec", "../../reports/results/ngame-vs-ance-vs-random", "--format", "md"}, "--format comes from the spec"},
		{[]string{"report", "--spec", "../../reports/results/ngame-vs-ance-vs-random", committedRun}, "not both"},
	}
	for _, tc := range tests {
		_, err := execute(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(missing)); err == nil {
		t.Error("report created the missing folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "cells")); err == nil {
		t.Error("report created cells/ in a folder that is not a run folder")
	}
}

// run refuses an unknown --format before it loads the grid or runs a cell.
func TestRunChecksFormatFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	_, err := execute(t, "run", "../../experiments/quickstart.yaml", "--format", "pdf", "--out", out)
	if err == nil || !strings.Contains(err.Error(), `unknown format "pdf"`) {
		t.Fatalf("run --format pdf: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("run created its folder before refusing the format")
	}
}

// report writes every figure as PDF, SVG and PNG beside the tables.
func TestReportWritesFigures(t *testing.T) {
	out := t.TempDir()
	if _, err := execute(t, "report", committedRun, "--format", "tidy", "--out", out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.tidy.csv", "memory.pdf", "memory.svg", "memory.png", "p1-seconds-bibtex.pdf"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
