package host

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSweepStaleScratch pins that a new host removes the scratch folders
// of runs whose process is gone (a SIGKILLed run cannot) and keeps those
// of live processes and folders of other naming.
func TestSweepStaleScratch(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` binary:", err)
	}
	base := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(p, "sockets"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(fmt.Sprintf("%s%d-123", scratchPrefix, dead.Process.Pid))
	live := mk(fmt.Sprintf("%s%d-456", scratchPrefix, os.Getpid()))
	other := mk(scratchPrefix + "legacy789")
	sweepStale(base)
	for _, tc := range []struct {
		path string
		want bool
	}{{stale, false}, {live, true}, {other, true}} {
		if _, err := os.Stat(tc.path); (err == nil) != tc.want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(tc.path), err == nil, tc.want)
		}
	}
}
