package python_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/xcbench/xcbench/classifiers/knn"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// RequireEnv makes a missing Python runtime a failure instead of a skip;
// the project's test command sets it after installing the Debian packages.
const RequireEnv = "XCBENCH_REQUIRE_PYTHON"

// interpreter is the examples' shebang interpreter: Debian's python3 with
// python3-grpcio, python3-protobuf and python3-numpy.
const interpreter = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	out, err := exec.Command(interpreter, "-c", "import grpc, google.protobuf, numpy").CombinedOutput()
	if err == nil {
		return
	}
	msg := "Python plugin runtime missing (apt-get install -y python3-grpcio python3-protobuf python3-numpy): " + string(out) + err.Error()
	if os.Getenv(RequireEnv) != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func synthDataset(t *testing.T) string {
	t.Helper()
	ds, err := synth.Generate(synth.Config{Labels: 30, TrainDocs: 120, TestDocs: 20, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPyRandomConformance runs the conformance kit against the Python
// example sampler, process by process.
func TestPyRandomConformance(t *testing.T) {
	needPython(t)
	bin, err := filepath.Abs("examples/xcbench-plugin-pyrandom")
	if err != nil {
		t.Fatal(err)
	}
	dir := synthDataset(t)
	for _, params := range []string{`{}`, `{"shuffle": false}`} {
		t.Run(params, func(t *testing.T) {
			cfg := sdk.Config{Seed: 9, Params: json.RawMessage(params), Dataset: sdk.Dataset{Dir: dir, Name: "synth"}}
			plugintest.TestSamplerBinary(t, bin, "pyrandom", cfg, plugintest.SamplerOptions{BatchSize: 16})
		})
	}
	// With a validation split the Python SDK must leave out the same
	// held-out documents as core/data (the kit loads the data set through
	// core/data and checks every batch against its training split).
	t.Run("validation", func(t *testing.T) {
		cfg := sdk.Config{Seed: 9, Params: json.RawMessage(`{}`), Dataset: sdk.Dataset{Dir: dir, Name: "synth",
			Options: json.RawMessage(`{"validation": 0.3, "cache_dir": "-"}`)}}
		plugintest.TestSamplerBinary(t, bin, "pyrandom", cfg, plugintest.SamplerOptions{BatchSize: 16})
	})
}

// TestPyRandomReattach starts the Python plugin by hand in debug mode and
// has the host attach to it through the line it prints.
func TestPyRandomReattach(t *testing.T) {
	needPython(t)
	ctx := context.Background()
	cmd := exec.Command("examples/xcbench-plugin-pyrandom", "serve", "sampler", "pyrandom")
	cmd.Env = append(os.Environ(), wire.DebugEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := <-exited; err != nil {
			t.Errorf("debug plugin did not exit cleanly on SIGINT: %v", err)
		}
	}()
	sc := bufio.NewScanner(out)
	line := ""
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export "+wire.ReattachEnv+"="); ok {
			line = strings.Trim(v, "'")
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out); exited <- cmd.Wait() }()
	ra, err := wire.ParseReattach(line)
	if err != nil {
		t.Fatalf("reattach line %q: %v", line, err)
	}
	h, err := host.New(host.Options{PluginPath: []string{}, Reattach: ra,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard})})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, err := h.Launch(ctx, sdk.KindSampler, "pyrandom")
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != cmd.Process.Pid {
		t.Fatalf("attached to pid %d, started %d", p.PID, cmd.Process.Pid)
	}
	cfg := sdk.Config{Seed: 1, Dataset: sdk.Dataset{Dir: synthDataset(t)}, ScratchDir: h.ScratchDir()}
	if err := p.Impl.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range p.Impl.(sdk.Sampler).Batches(ctx, 0, 50) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no batches")
	}
}

// TestPyExactConformance runs the conformance kit against the Python
// example classifier, with label embeddings large enough (1500 x 256
// floats) to cross as a .npy file, and checks it ranks exactly as the
// built-in knn classifier (index: exact) on the same embeddings.
func TestPyExactConformance(t *testing.T) {
	needPython(t)
	bin, err := filepath.Abs("examples/xcbench-plugin-pyexact")
	if err != nil {
		t.Fatal(err)
	}
	o := plugintest.ClassifierOptions{NumTrain: 50, NumTest: 300, NumLabels: 1500, Dim: 256, K: 10}
	plugintest.TestClassifierBinary(t, bin, "pyexact", sdk.Config{Seed: 2, Params: json.RawMessage(`{"block": 128}`)}, o)

	ctx := context.Background()
	labels, test := plugintest.RandomUnit(o.NumLabels, o.Dim, 21), plugintest.RandomUnit(o.NumTest, o.Dim, 22)
	predict := func(c sdk.Classifier, params string) sdk.TopK {
		t.Helper()
		if err := c.Configure(ctx, sdk.Config{Seed: 2, Params: json.RawMessage(params), ScratchDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Train(ctx, sdk.TrainInput{Labels: labels, TrainDocs: plugintest.RandomUnit(o.NumTrain, o.Dim, 23)}); err != nil {
			t.Fatal(err)
		}
		top, err := c.Predict(ctx, sdk.SplitTest, test, o.K)
		if err != nil {
			t.Fatal(err)
		}
		return top
	}
	py := predict(plugintest.ConnectBinary(t, bin, sdk.KindClassifier, "pyexact").(sdk.Classifier), `{}`)
	goTop := predict(knn.New(), `{"index": "exact"}`)
	for i := range goTop.Labels {
		if py.Labels[i] != goTop.Labels[i] || math.Abs(float64(py.Scores[i]-goTop.Scores[i])) > 1e-4 {
			t.Fatalf("entry %d (row %d): python %d %.6f, knn %d %.6f", i, i/o.K, py.Labels[i], py.Scores[i], goTop.Labels[i], goTop.Scores[i])
		}
	}
}

// TestPyHashConformance runs the conformance kit against the Python
// example encoder on a synthetic LF text set.
func TestPyHashConformance(t *testing.T) {
	needPython(t)
	bin, err := filepath.Abs("examples/xcbench-plugin-pyhash")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sdk.Config{Seed: 6, Params: json.RawMessage(`{"dim": 32}`), Dataset: sdk.Dataset{Dir: synthDataset(t), Name: "synth"}}
	plugintest.TestEncoderBinary(t, bin, "pyhash", cfg)
}
