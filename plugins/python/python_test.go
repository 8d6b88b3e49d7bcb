package python_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

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
