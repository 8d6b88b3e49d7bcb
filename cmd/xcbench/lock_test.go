package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/host"
)

const lockGrid = `
name: locked
datasets: [{name: synth, synth: {labels: 30, train_docs: 200, test_docs: 40, seed: 3}}]
seeds: [0]
epochs: 1
batch_size: 32
eval: {every: 1, k: [1]}
plugin_path: [plugins]
encoder: {name: bow, params: {dim: 8, lr: 0.01, warmup_steps: 0}}
sampler: {name: extrandom}
classifier: {name: knn}
`

// TestRunPinsExternalPlugins runs a grid whose sampler is an external
// plugin found through the grid's plugin_path: the first run pins it in
// the lock file beside the grid and records the lock in the manifest; a
// tampered binary is refused naming the lock file; --update-lock accepts
// it; plugins lock rewrites the pin.
func TestRunPinsExternalPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs a grid")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "plugins", "xcbench-plugin-extrandom")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/extrandom").CombinedOutput(); err != nil {
		t.Fatalf("build plugin: %v\n%s", err, out)
	}
	gridFile := filepath.Join(dir, "grid.yaml")
	if err := os.WriteFile(gridFile, []byte(lockGrid), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(host.PathEnv, "")
	lockFile := filepath.Join(dir, "grid.lock.json")

	if _, err := runRoot(t, "run", gridFile, "--out", filepath.Join(dir, "run1")); err != nil {
		t.Fatal(err)
	}
	lock, err := host.ReadLock(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := host.FileSHA256(bin)
	if len(lock.Plugins) != 1 || lock.Plugins[0].Name != "extrandom" || lock.Plugins[0].SHA256 != sum || lock.Plugins[0].Path != bin {
		t.Fatalf("lock %+v, want extrandom pinned at %s", lock, sum)
	}
	st, _ := results.Open(filepath.Join(dir, "run1"))
	man, err := st.ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if man.PluginLock == nil || man.PluginLock.File != lockFile || len(man.PluginLock.Plugins) != 1 || man.PluginLock.Plugins[0].SHA256 != sum {
		b, _ := json.Marshal(man.PluginLock)
		t.Fatalf("manifest plugin_lock %s", b)
	}
	for _, c := range man.Cells {
		if cs, err := st.Cell(c.ID).Status(); err != nil || cs.State != results.StateDone {
			t.Fatalf("cell %s: %+v %v", c.Name, cs, err)
		}
	}

	// Tamper: the binary still runs, but is not the one pinned.
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	_, err = runRoot(t, "run", gridFile, "--out", filepath.Join(dir, "run2"))
	if err == nil || !strings.Contains(err.Error(), "lock file "+lockFile) || !strings.Contains(err.Error(), "sampler extrandom") {
		t.Fatalf("tampered plugin not refused: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run2", "manifest.json")); err == nil {
		t.Fatal("refused run still started")
	}

	if _, err := runRoot(t, "run", gridFile, "--out", filepath.Join(dir, "run2"), "--update-lock"); err != nil {
		t.Fatal(err)
	}
	lock, _ = host.ReadLock(lockFile)
	newSum, _ := host.FileSHA256(bin)
	if lock.Plugins[0].SHA256 != newSum {
		t.Fatalf("--update-lock kept %s, binary is %s", lock.Plugins[0].SHA256, newSum)
	}

	// plugins lock rewrites the file from scratch.
	os.Remove(lockFile)
	out, err := runRoot(t, "plugins", "lock", gridFile)
	if err != nil || !strings.Contains(out, "sampler extrandom") || !strings.Contains(out, newSum) {
		t.Fatalf("plugins lock: %v\n%s", err, out)
	}
	// The listing marks it external with path and checksum.
	out, err = runRoot(t, "plugins", "list", "--plugin-dir", filepath.Join(dir, "plugins"))
	if err != nil || !strings.Contains(out, "external") || !strings.Contains(out, bin) || !strings.Contains(out, newSum[:12]) {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
}
