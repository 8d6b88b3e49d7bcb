package synth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/data"
)

func small() Config {
	return Config{Labels: 200, TrainDocs: 800, TestDocs: 200, Topics: 8, Seed: 7, Options: data.Options{CacheDir: "-"}}
}

func TestGenerateDeterministic(t *testing.T) {
	a, err := Generate(small())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(small())
	if !reflect.DeepEqual(a.TrainText, b.TrainText) || !reflect.DeepEqual(a.TrainY, b.TrainY) || !reflect.DeepEqual(a.Vocab, b.Vocab) {
		t.Fatal("same seed gave different datasets")
	}
	c2 := small()
	c2.Seed = 8
	c, _ := Generate(c2)
	if reflect.DeepEqual(a.TrainText, c.TrainText) {
		t.Fatal("different seeds gave the same dataset")
	}
}

func TestGenerateStructure(t *testing.T) {
	ds, err := Generate(small())
	if err != nil {
		t.Fatal(err)
	}
	if ds.TrainY.NRows != 800 || ds.TestY.NRows != 200 || ds.NumLabels != 200 || ds.LabelX.NRows != 200 {
		t.Fatalf("shape: %d %d %d", ds.TrainY.NRows, ds.TestY.NRows, ds.NumLabels)
	}
	for i := 0; i < ds.TrainY.NRows; i++ {
		if n := ds.TrainY.RowLen(i); n < 1 || n > 5 {
			t.Fatalf("doc %d has %d labels", i, n)
		}
	}
	counts := ds.TrainY.ColCounts()
	s := slices.Clone(counts)
	slices.Sort(s)
	if top, med := s[len(s)-1], s[len(s)/2]; top < 8*max(med, 1) {
		t.Errorf("label frequencies not heavy-tailed: top %d median %d", top, med)
	}
	// Label texts are distinct and every label word or its synonym shows up
	// in training text for the most frequent label.
	seen := map[string]bool{}
	for _, l := range ds.LabelText {
		if seen[l] {
			t.Fatalf("duplicate label text %q", l)
		}
		seen[l] = true
	}
	g := newGenerator(small().withDefaults())
	hot := slices.Index(counts, s[len(s)-1])
	syn, orig := 0, 0
	words := map[string]int{}
	for i := 0; i < ds.TrainY.NRows; i++ {
		if ds.TrainY.Has(i, int32(hot)) {
			for _, w := range bytes.Fields([]byte(ds.TrainText[i])) {
				words[string(w)]++
			}
		}
	}
	for j := 0; j < 3; j++ {
		syn += words[g.synonym(hot, j)]
		orig += words[Word(g.wordBase.label+hot*3+j)]
	}
	if syn == 0 || orig == 0 {
		t.Errorf("label %d: %d synonym and %d original word uses", hot, syn, orig)
	}
}

func TestWriteOpenRoundTrip(t *testing.T) {
	ds, err := Generate(small())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	back, err := data.Open(dir, data.Options{CacheDir: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.TrainText, ds.TrainText) || !reflect.DeepEqual(back.TestY, ds.TestY) ||
		!reflect.DeepEqual(back.LabelText, ds.LabelText) || !reflect.DeepEqual(back.TrainTok, ds.TrainTok) {
		t.Fatal("round trip through LF text files changed the dataset")
	}
	// Stream writes the same files without building the dataset.
	dir2 := t.TempDir()
	if err := Stream(context.Background(), dir2, small()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trn_X.txt", "tst_X.txt", "lbl_X.txt", "trn_X_Y.txt", "tst_X_Y.txt"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dir2, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between Write and Stream", f)
		}
	}
}

func TestWordUnique(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < 20000; i++ {
		w := Word(i)
		if j, dup := seen[w]; dup {
			t.Fatalf("Word(%d) = Word(%d) = %q", i, j, w)
		}
		seen[w] = i
	}
}
