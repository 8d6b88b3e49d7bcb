package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// TestGoSamplerModule builds docs/examples/go-sampler, a module of its own
// with a replace of github.com/xcbench/xcbench, runs its own tests, and
// runs the conformance kit against the built executable.
func TestGoSamplerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	env := append(os.Environ(), "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = "go-sampler"
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v in docs/examples/go-sampler: %v\n%s", args, err, out)
		}
	}
	run("test", "-count=1", "./...")
	bin := filepath.Join(t.TempDir(), "xcbench-plugin-firstlabel")
	run("build", "-o", bin, ".")

	ds, err := synth.Generate(synth.Config{Labels: 30, TrainDocs: 120, TestDocs: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	cfg := sdk.Config{Seed: 5, Dataset: sdk.Dataset{Dir: dir, Name: "synth"}}
	plugintest.TestSamplerBinary(t, bin, "firstlabel", cfg, plugintest.SamplerOptions{BatchSize: 16})
}
