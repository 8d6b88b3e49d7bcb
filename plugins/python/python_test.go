package python_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
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
