package grid

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary grid text through loading and expansion: no
// panic, no runaway expansion, and every error names the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(head))
	f.Add([]byte(head + "matrix:\n  batch_size: [8, 16]\ninclude: [{batch_size: 4, seed: 3}]\nexclude: [{batch_size: 8}]\n"))
	f.Add([]byte(head + "seeds: [1, -2]\n"))
	f.Add([]byte("name: x\nname: y\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		g, err := Parse("/f/grid.yaml", text, LoadOptions{Environ: []string{}})
		if err == nil {
			var cells []Cell
			cells, err = ExpandMax(g, 1000)
			if err == nil && (len(cells) == 0 || len(cells) > 1000) {
				t.Fatalf("%d cells", len(cells))
			}
		}
		if err != nil && !strings.Contains(err.Error(), "grid") {
			t.Fatalf("error names neither the file nor the grid: %v", err)
		}
	})
}
