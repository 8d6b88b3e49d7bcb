package gomlxkit

import (
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// concurrentDots is the graph that deadlocks simplego's default worker pool:
// six independent DotGenerals (and their gradients) that the executor starts
// in parallel, each then waiting for pool slots.
func concurrentDots(x, y *Node) []*Node {
	var loss *Node
	for i := range 6 {
		z := DotGeneral(AddScalar(x, float32(i)), []int{1}, nil, y, []int{1}, nil) // [64,64]
		s := ReduceAllSum(Mul(z, z))
		if loss == nil {
			loss = s
		} else {
			loss = Add(loss, s)
		}
	}
	return append([]*Node{loss}, Gradient(loss, x, y)...)
}

// runConcurrentDots executes the graph n times on b; it returns false if
// that did not finish within limit (the goroutine is then left blocked).
func runConcurrentDots(t *testing.T, b backends.Backend, n int, limit time.Duration) bool {
	done := make(chan error, 1)
	go func() {
		done <- func() (err error) {
			defer Recover(&err, "concurrent dots")
			exec := MustNewExec(b, concurrentDots)
			x := tensors.FromFlatDataAndDimensions(make([]float32, 64*128), 64, 128)
			y := tensors.FromFlatDataAndDimensions(make([]float32, 64*128), 64, 128)
			for range n {
				if _, err := exec.Exec(x, y); err != nil {
					return err
				}
			}
			return nil
		}()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(limit):
		return false
	}
}

// TestDefaultPoolHangProbe shows the trap TestBackendNoHang guards against:
// the same graph on gomlx's default "go" config hangs. Opt-in because it
// leaves a deadlocked goroutine behind: XCBENCH_HANG_PROBE=1 go test -run
// HangProbe ./encoders/gomlxkit. Observed with gomlx v0.26.0 on 2 cores:
// 2 of 2 runs hung (200 executions; our config does them in about 1.5 s).
func TestDefaultPoolHangProbe(t *testing.T) {
	if os.Getenv("XCBENCH_HANG_PROBE") == "" {
		t.Skip("set XCBENCH_HANG_PROBE=1 to probe the default worker pool")
	}
	InstallFastMatmulGrads()
	b, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	if runConcurrentDots(t, b, 200, 30*time.Second) {
		t.Fatal("the default worker pool finished: the hang may be fixed upstream, reconsider parallelism=-1")
	}
}
