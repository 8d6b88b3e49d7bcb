package data

import (
	"os"
	"path/filepath"
	"testing"
)

func sharedData(t testing.TB, name string) string {
	t.Helper()
	d, err := SharedDataDir()
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	return filepath.Join(d, name)
}

func TestOpenReal(t *testing.T) {
	cases := []struct {
		name                          string
		format                        string
		train, test, labels, minVocab int
		trainNNZ                      int
	}{
		{"cooking", "lf-text", 12404, 3000, 735, 3000, 0},
		{"bibtex", "bow", 4880, 2515, 159, 1836, 0},
		{"delicious", "bow", 12920, 3185, 983, 500, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := sharedData(t, c.name)
			ds, err := Open(dir, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != c.format || ds.Name != c.name || ds.NumLabels != c.labels {
				t.Fatalf("format %q name %q labels %d", ds.Format, ds.Name, ds.NumLabels)
			}
			if ds.TrainY.NRows != c.train || ds.TestY.NRows != c.test || ds.TrainX.NRows != c.train || ds.TestX.NRows != c.test || ds.LabelX.NRows != c.labels {
				t.Fatalf("rows: Y %d/%d X %d/%d/%d", ds.TrainY.NRows, ds.TestY.NRows, ds.TrainX.NRows, ds.TestX.NRows, ds.LabelX.NRows)
			}
			v := len(ds.Vocab)
			if v < c.minVocab || ds.TrainX.NCols != v || ds.TestX.NCols != v || ds.LabelX.NCols != v {
				t.Fatalf("vocab %d, X cols %d/%d/%d", v, ds.TrainX.NCols, ds.TestX.NCols, ds.LabelX.NCols)
			}
			if err := ds.TrainX.Validate(); err != nil {
				t.Fatal(err)
			}
			if ds.LabelX.NNZ() == 0 || len(ds.LabelText) != c.labels {
				t.Fatal("label features empty")
			}
			if ds.PropA != 0.55 || ds.PropB != 1.5 {
				t.Fatalf("propensity %v %v", ds.PropA, ds.PropB)
			}
			if c.format == "lf-text" {
				if len(ds.TrainTok) != c.train || len(ds.LabelTok) != c.labels || len(ds.TokVocab) != v {
					t.Fatal("token sequences missing")
				}
				for _, s := range ds.TrainTok {
					if len(s) > 32 {
						t.Fatalf("sequence of %d > MaxLen", len(s))
					}
				}
			}
		})
	}
}

func TestCacheInvalidation(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	cache := t.TempDir()
	ds1, err := Open(dir, Options{CacheDir: cache, MaxLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	files1, _ := filepath.Glob(filepath.Join(cache, "*.gob"))
	if len(files1) != 1 {
		t.Fatalf("cache files after first open: %v", files1)
	}
	// Same settings: served from the cache (same file, identical result).
	ds2, err := Open(dir, Options{CacheDir: cache, MaxLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds2.TrainTok[0]) != len(ds1.TrainTok[0]) {
		t.Fatal("cached result differs")
	}
	// Changed setting: new key, new file, new result.
	ds3, err := Open(dir, Options{CacheDir: cache, MaxLen: 2})
	if err != nil {
		t.Fatal(err)
	}
	files3, _ := filepath.Glob(filepath.Join(cache, "*.gob"))
	if len(files3) != 2 || len(ds3.TrainTok[0]) != 2 {
		t.Fatalf("after MaxLen change: %d files, seq len %d", len(files3), len(ds3.TrainTok[0]))
	}
	// A corrupt cache file is ignored and rewritten.
	if err := os.WriteFile(files1[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds4, err := Open(dir, Options{CacheDir: cache, MaxLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds4.TrainTok[0]) != len(ds1.TrainTok[0]) {
		t.Fatal("rebuild after corrupt cache differs")
	}
	// Editing an input file changes the key.
	p1, _ := CachePath(dir, Options{CacheDir: cache, MaxLen: 8}, []string{filepath.Join(dir, "trn_X.txt")})
	if err := os.WriteFile(filepath.Join(dir, "trn_X.txt"), []byte("changed text here\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, _ := CachePath(dir, Options{CacheDir: cache, MaxLen: 8}, []string{filepath.Join(dir, "trn_X.txt")})
	if p1 == p2 {
		t.Fatal("cache key ignores input file changes")
	}
}

func writeFixture(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"trn_X.txt":              "How to boil an egg quickly\nBest bread flour for sourdough\nCast iron seasoning tips\n",
		"tst_X.txt":              "Boil eggs for salad\nSourdough starter smells\n",
		"lbl_X.txt":              "eggs\nbread\ncast iron\n",
		"trn_X_Y.txt":            "3 3\n0:1\n1:1\n2:1\n",
		"tst_X_Y.txt":            "2 3\n0:1\n\n",
		"filter_labels_test.txt": "1 1\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenFixture(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	ds, err := Open(dir, Options{CacheDir: "-", Name: "LF-AmazonTitles-toy"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.PropA != 0.6 || ds.PropB != 2.6 {
		t.Errorf("amazon propensity: %v %v", ds.PropA, ds.PropB)
	}
	if len(ds.FilterTest) != 1 || ds.FilterTest[0] != (Pair{1, 1}) {
		t.Errorf("single-pair filter: %v", ds.FilterTest)
	}
	if ds.TestY.RowLen(1) != 0 {
		t.Error("empty label row not empty")
	}
	// "cast iron" label text shares words with train doc 2.
	cols, _ := ds.LabelX.Row(2)
	if len(cols) != 2 {
		t.Errorf("label 2 features %v", cols)
	}
	if ds.Vocab[0] != "<pad>" || ds.Vocab[1] != "<unk>" {
		t.Errorf("vocab head %v", ds.Vocab[:2])
	}
}

func TestCacheSkipsReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	p, ok := CachePath(dir, Options{}, nil)
	if !ok {
		t.Fatal("cache disabled")
	}
	if filepath.Dir(filepath.Dir(p)) == dir {
		t.Fatalf("cache %s placed inside read-only dataset dir", p)
	}
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".xcbench-cache")); err == nil {
		t.Fatal("cache folder created inside read-only dataset dir")
	}
}
