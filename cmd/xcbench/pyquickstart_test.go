package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/host"
)

// TestQuickstartPython runs experiments/quickstart-python.yaml (pyrandom,
// the Python example sampler, in place of random), shrunk to one small
// epoch, over real plugin processes: the committed lock file must pin the
// committed plugin, and every cell must finish.
func TestQuickstartPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a grid")
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import grpc, google.protobuf, numpy").CombinedOutput(); err != nil {
		msg := "Python plugin runtime missing (apt-get install -y python3-grpcio python3-protobuf python3-numpy): " + string(out)
		if os.Getenv("XCBENCH_REQUIRE_PYTHON") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Setenv(host.PathEnv, "")
	gridFile := filepath.Join("..", "..", "experiments", "quickstart-python.yaml")
	lockBefore, err := os.ReadFile(host.LockPath(gridFile))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := runRoot(t, "run", gridFile, "--out", out, "--epochs", "1",
		"--set", "datasets=[{name: synth, synth: {labels: 60, train_docs: 400, test_docs: 80, seed: 7}}]"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(host.LockPath(gridFile)); string(after) != string(lockBefore) {
		t.Fatalf("run rewrote the committed lock file %s", host.LockPath(gridFile))
	}
	st, _ := results.Open(out)
	man, err := st.ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Cells) != 3 {
		t.Fatalf("%d cells", len(man.Cells))
	}
	for _, c := range man.Cells {
		if cs, err := st.Cell(c.ID).Status(); err != nil || cs.State != results.StateDone {
			t.Fatalf("cell %s: %+v %v", c.Name, cs, err)
		}
	}
	used := false
	for _, p := range man.Plugins {
		if p.Name == "pyrandom" && filepath.Base(p.Path) == "xcbench-plugin-pyrandom" && len(p.SHA256) == 64 {
			used = true
		}
	}
	if !used || man.PluginLock == nil {
		t.Fatalf("manifest does not record pyrandom and its lock: %+v %+v", man.Plugins, man.PluginLock)
	}
}
