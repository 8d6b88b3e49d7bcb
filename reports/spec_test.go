package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCommittedReports regenerates every committed report folder's text
// files (tables and README) from its spec and records, and fails on any
// difference: no committed number can drift from its records. The HTML is
// not compared: it embeds data-set statistics read from ../shared/data.
func TestCommittedReports(t *testing.T) {
	specs, err := filepath.Glob(filepath.Join("results", "*", SpecFile))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no committed report specs: %v", err)
	}
	for _, path := range specs {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			s, dir, err := LoadSpec(path)
			if err != nil {
				t.Fatal(err)
			}
			files, rep, err := SpecOutputs(dir, s)
			if err != nil {
				t.Fatal(err)
			}
			// The figures are pure Go renderings with the run's date in
			// the PDFs: byte-identical too.
			plots, err := rep.Plots()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range plots {
				for _, f := range ImageFormats {
					b, err := p.Bytes(f)
					if err != nil {
						t.Fatal(err)
					}
					files[p.Name+"."+f] = b
				}
			}
			for name, got := range files {
				want, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v (regenerate with xcbench report --spec %s)", name, err, dir)
					continue
				}
				if !bytes.Equal(got, want) {
					if *update {
						if err := os.WriteFile(filepath.Join(dir, name), got, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					diff := "(binary)"
					if bytes.IndexByte(want, 0) < 0 && !bytes.HasPrefix(want, []byte("%PDF")) {
						diff = firstDiff(want, got)
					}
					t.Errorf("%s/%s differs from what its records give (regenerate with xcbench report --spec %s):\n%s", dir, name, dir, diff)
				}
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b []byte
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if !bytes.Equal(a, b) {
			return "line " + strconv.Itoa(i+1) + ":\n committed: " + string(a) + "\n  computed: " + string(b)
		}
	}
	return ""
}
