package bow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/memory"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

// memDataset has long documents (64 distinct features each), so a batch's
// token activations [B, S, D] dominate an uncached step's memory.
func memDataset() *data.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	const docs, labels, vocab = 2048, 512, 8192
	rows := func(n, per int) *sparse.CSR {
		out := make([][]int32, n)
		for i := range out {
			seen := map[int32]bool{}
			for len(out[i]) < per {
				f := int32(r.IntN(vocab))
				if !seen[f] {
					seen[f] = true
					out[i] = append(out[i], f)
				}
			}
		}
		m, err := sparse.FromRows(vocab, out)
		if err != nil {
			panic(err)
		}
		return m
	}
	y := make([][]int32, docs)
	for i := range y {
		y[i] = []int32{int32(r.IntN(labels))}
	}
	ty, err := sparse.FromRows(labels, y)
	if err != nil {
		panic(err)
	}
	return &data.Dataset{Name: "mem", Format: "synthetic", NumLabels: labels, TrainY: ty,
		TrainX: rows(docs, 64), TestX: rows(8, 64), LabelX: rows(labels, 8)}
}

const memChildEnv = "XCBENCH_GRADCACHE_MEM_CHILD"

// TestGradCacheMemoryChild is the child process of
// TestGradCacheLowersPeakMemory: one training step of batch 1024 with the
// grad_cache given in the environment; it prints the growth of its peak
// RSS over the step.
func TestGradCacheMemoryChild(t *testing.T) {
	gc := os.Getenv(memChildEnv)
	if gc == "" {
		t.Skip("child of TestGradCacheLowersPeakMemory")
	}
	ds := memDataset()
	enc := configured(t, ds, 1, `{"dim": 256, "batch_size": 1024, "max_tokens": 64, "loss": "infonce", "engine": "graph", "grad_cache": `+gc+`}`)
	b := siamesetest.Batches(ds.TrainY, 1024, 1, 0)[0]
	debug.FreeOSMemory()
	pid := os.Getpid()
	if err := memory.ResetPeak(pid); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	base, err := memory.PeakRSS(pid)
	if err != nil {
		t.Skip(err)
	}
	if _, err := enc.TrainStep(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	peak, err := memory.PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("STEP_PEAK_GROWTH %d\n", peak-base)
}

// TestGradCacheLowersPeakMemory runs one batch-1024 step uncached and with
// grad_cache 128, each in a fresh child process (a process's peak RSS
// only grows and GoMLX keeps buffer pools), and checks that caching at
// least halves the step's peak RSS growth. Linux only (/proc).
func TestGradCacheLowersPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two child processes")
	}
	if os.Getenv(memChildEnv) != "" {
		return
	}
	if _, err := memory.PeakRSS(os.Getpid()); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	growth := map[string]int64{}
	for _, gc := range []string{"0", "128"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGradCacheMemoryChild$", "-test.v")
		cmd.Env = append(os.Environ(), memChildEnv+"="+gc, "GOGC=50")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child grad_cache=%s: %v\n%s", gc, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "STEP_PEAK_GROWTH "); ok {
				growth[gc], _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		if _, ok := growth[gc]; !ok {
			if strings.Contains(string(out), "SKIP") {
				t.Skipf("child skipped:\n%s", out)
			}
			t.Fatalf("child grad_cache=%s printed no measurement:\n%s", gc, out)
		}
	}
	t.Logf("peak RSS growth over one batch-1024 step: uncached %.1f MiB, grad_cache 128 %.1f MiB",
		float64(growth["0"])/(1<<20), float64(growth["128"])/(1<<20))
	if growth["128"]*2 > growth["0"] {
		t.Fatalf("grad_cache 128 grew the peak by %d bytes, uncached by %d: not at most half", growth["128"], growth["0"])
	}
}
