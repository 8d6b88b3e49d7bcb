package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalAndDataCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pred := write("pred.txt", "2 3\n0:0.9 1:0.1\n2:0.5\n")
	truth := write("truth.txt", "2 3\n0:1\n1:1\n")
	cases := []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{[]string{"eval", "--pred", pred, "--truth", truth, "--k", "1,2"}, []string{"P@", "50.00", "nDCG"}, ""},
		{[]string{"eval", "--pred", pred, "--truth", truth, "--train-y", truth}, []string{"PSP", "PSnDCG"}, ""},
		{[]string{"eval", "--pred", pred}, nil, "required"},
		{[]string{"eval", "--pred", pred, "--truth", truth, "--k", "0"}, nil, "bad --k"},
		{[]string{"data", "synth", "--out", filepath.Join(dir, "syn"), "--labels", "60", "--train", "200", "--test", "50"}, []string{"wrote"}, ""},
		{[]string{"data", "stats", "--cache-dir", "-", filepath.Join(dir, "syn")}, []string{"train points", "200", "labels with <= 1 train points"}, ""},
	}
	for _, c := range cases {
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetArgs(c.args)
		err := root.Execute()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), strings.TrimSuffix(w, "@")) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out.String())
			}
		}
	}
}
