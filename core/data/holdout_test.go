package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// heldOutGolden pins the split rule: changing it silently would move every
// published validation number. The values come from the rule itself
// (splitmix64 of the document index against the fraction) and are checked
// against the Python SDK's implementation in TestHeldOutMatchesPython.
var heldOutGolden = []struct {
	n    int
	frac float64
	want []int32
}{
	{40, 0.2, []int32{3, 10, 18, 21, 33}},
	{5, 0, nil},
}

func TestHeldOutGolden(t *testing.T) {
	for _, c := range heldOutGolden {
		if got := HeldOut(c.n, c.frac); !slices.Equal(got, c.want) {
			t.Errorf("HeldOut(%d, %v) = %v, want %v", c.n, c.frac, got, c.want)
		}
	}
	// The fraction is a fraction: 100,000 documents at 0.1 hold out about
	// 10,000 (binomial std 95).
	if n := len(HeldOut(100000, 0.1)); n < 9600 || n > 10400 {
		t.Errorf("HeldOut(100000, 0.1) holds out %d", n)
	}
}

// TestHeldOutMatchesPython runs the Python SDK's held_out on the same
// sizes: a Python sampler must skip the same documents as the Go encoder.
func TestHeldOutMatchesPython(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("XCBENCH_REQUIRE_PYTHON") != "" {
			t.Fatal("python3 missing")
		}
		t.Skip("python3 missing")
	}
	sdk, err := filepath.Abs("../../plugins/python")
	if err != nil {
		t.Fatal(err)
	}
	// Load the SDK module's source without importing grpc: only the split
	// functions are exercised.
	script := fmt.Sprintf(`import ast, sys
src = open(%q).read()
tree = ast.parse(src)
keep = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in ("_splitmix64", "held_out")) or (isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "_MASK64" for t in n.targets))]
ns = {}
exec(compile(ast.Module(body=keep, type_ignores=[]), "sdk", "exec"), ns)
for n, f in ((1000, 0.1), (777, 0.37), (50, 0.5)):
    print(" ".join(str(i) for i in ns["held_out"](n, f)))
`, filepath.Join(sdk, "xcbench_sdk", "__init__.py"))
	out, err := exec.Command(py, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, c := range []struct {
		n int
		f float64
	}{{1000, 0.1}, {777, 0.37}, {50, 0.5}} {
		var want []string
		for _, j := range HeldOut(c.n, c.f) {
			want = append(want, fmt.Sprint(j))
		}
		if i >= len(lines) || lines[i] != strings.Join(want, " ") {
			t.Errorf("n=%d f=%v: python and Go disagree:\n go %v\n py %q", c.n, c.f, want, lines[min(i, len(lines)-1)])
		}
	}
}

// TestOpenValidation opens an LF set with a validation fraction: the held-out
// training documents become the test split with their labels, texts and
// filter pairs (re-indexed), the vocabulary never sees their words, and the
// real test split is not read.
func TestOpenValidation(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	var trn, trnY []string
	var filter []string
	for i := 0; i < n; i++ {
		trn = append(trn, fmt.Sprintf("shared w%d", i))
		trnY = append(trnY, fmt.Sprintf("%d:1", i%3))
		if i%2 == 1 {
			filter = append(filter, fmt.Sprintf("%d %d", i, (i+1)%3))
		}
	}
	files := map[string]string{
		"trn_X.txt":               strings.Join(trn, "\n") + "\n",
		"trn_X_Y.txt":             fmt.Sprintf("%d 3\n%s\n", n, strings.Join(trnY, "\n")),
		"tst_X.txt":               "real test doc\n",
		"tst_X_Y.txt":             "1 3\n0:1\n",
		"lbl_X.txt":               "zero\none\ntwo\n",
		"filter_labels_train.txt": strings.Join(filter, "\n") + "\n",
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := Open(dir, Options{CacheDir: "-", Validation: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	val := HeldOut(n, 0.2) // 3 10 18 21 33
	if ds.TestY.NRows != len(val) || ds.TrainY.NRows != n-len(val) || len(ds.TestText) != len(val) {
		t.Fatalf("split sizes: train %d test %d texts %d, want %d/%d", ds.TrainY.NRows, ds.TestY.NRows, len(ds.TestText), n-len(val), len(val))
	}
	if ds.Validation != 0.2 {
		t.Errorf("Validation = %v", ds.Validation)
	}
	for j, i := range val {
		if want := fmt.Sprintf("shared w%d", i); ds.TestText[j] != want {
			t.Errorf("test doc %d = %q, want %q", j, ds.TestText[j], want)
		}
		if cols, _ := ds.TestY.Row(j); len(cols) != 1 || int(cols[0]) != int(i)%3 {
			t.Errorf("test doc %d labels %v, want [%d]", j, cols, i%3)
		}
	}
	// Held-out words are not in the vocabulary; kept ones are.
	if slices.Contains(ds.Vocab, "w3") || !slices.Contains(ds.Vocab, "w4") {
		t.Errorf("vocabulary saw held-out text or lost training text: %v", ds.Vocab)
	}
	// Filter pairs: odd training documents; 3, 21 and 33 are held out (test
	// rows 0, 3 and 4), the rest re-indexed into the training split.
	wantTest := []Pair{{0, 1}, {3, 1}, {4, 1}}
	if !slices.Equal(ds.FilterTest, wantTest) {
		t.Errorf("FilterTest = %v, want %v", ds.FilterTest, wantTest)
	}
	if len(ds.FilterTrain) != n/2-3 || ds.FilterTrain[0] != (Pair{1, 2}) {
		t.Errorf("FilterTrain = %v", ds.FilterTrain)
	}
	for _, p := range ds.FilterTrain {
		if int(p.Row) >= ds.TrainY.NRows {
			t.Fatalf("train filter row %d out of range", p.Row)
		}
	}
	// Without the option the real test split comes back.
	full, err := Open(dir, Options{CacheDir: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if full.TestY.NRows != 1 || full.TrainY.NRows != n {
		t.Errorf("plain open: train %d test %d", full.TrainY.NRows, full.TestY.NRows)
	}
}

func TestValidationOptionRejected(t *testing.T) {
	for _, c := range []struct {
		raw, want string
	}{
		{`{"validation": -0.1}`, "validation -0.1"},
		{`{"validation": 0.8}`, "validation 0.8"},
		{`{"validaton": 0.1}`, "unknown field"},
	} {
		if _, err := DecodeOptions([]byte(c.raw)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.raw, err, c.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "trn_X.txt"), []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "trn_X_Y.txt"), []byte("1 1\n0:1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "tst_X.txt"), []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "tst_X_Y.txt"), []byte("1 1\n0:1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "lbl_X.txt"), []byte("a\n"), 0o644)
	// One training document: the fraction holds out none or all of it.
	if _, err := Open(dir, Options{CacheDir: "-", Validation: 0.5}); err == nil || !strings.Contains(err.Error(), "nothing would be left") {
		t.Errorf("one-document validation: %v", err)
	}
}
