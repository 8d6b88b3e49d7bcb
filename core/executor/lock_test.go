package executor

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTryLockExcludesUntilRelease(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cells", "abc", "lock")
	a, err := Locker{}.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Locker{}).TryLock(p); !errors.Is(err, ErrHeld) {
		t.Fatalf("second TryLock: %v, want ErrHeld", err)
	}
	le, err := Peek(p)
	if err != nil || le == nil || le.PID != os.Getpid() {
		t.Fatalf("Peek = %+v, %v", le, err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if le, _ := Peek(p); le != nil {
		t.Fatalf("lease left after release: %+v", le)
	}
	b, err := Locker{}.TryLock(p)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
}

// TestExpiredLeaseIsTakenOver: a holder that stopped renewing (a dead node)
// loses the lock once its lease expires, and a still-running holder whose
// lease was taken over learns it through Lost.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	old := Locker{TTL: time.Hour}
	a, err := old.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	if _, err := (Locker{}).TryLock(p); !errors.Is(err, ErrHeld) {
		t.Fatalf("live lease: %v, want ErrHeld", err)
	}
	later := Locker{TTL: 20 * time.Millisecond, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	b, err := later.TryLock(p)
	if err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
	defer b.Release()
	// A holder whose lease was taken over must notice at its next
	// heartbeat: a short TTL makes that heartbeat come soon.
	c := Locker{TTL: 30 * time.Millisecond}
	q := filepath.Join(t.TempDir(), "lock")
	h, err := c.TryLock(q)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLease(q, Lease{Token: "someone-else", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("heartbeat did not notice the lease was taken over")
	}
	if err := h.Release(); err != nil {
		t.Fatal(err)
	}
	if le, _ := Peek(q); le == nil || le.Token != "someone-else" {
		t.Fatalf("Release removed another holder's lease: %+v", le)
	}
}

func TestLockMutualExclusion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	var inside, entries atomic.Int32
	var wg sync.WaitGroup
	l := Locker{TTL: 5 * time.Second, Poll: time.Millisecond}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				h, err := l.Lock(context.Background(), p)
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders at once")
				}
				entries.Add(1)
				inside.Add(-1)
				if err := h.Release(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if entries.Load() != 80 {
		t.Fatalf("%d entries, want 80", entries.Load())
	}
}

func TestLockHonoursContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	h, err := Locker{}.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Locker{Poll: time.Millisecond}).Lock(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with cancelled ctx: %v", err)
	}
}

// TestKilledHolderExpires: a process killed with SIGKILL (a node lost
// mid-cell) leaves its lease behind; it blocks others until it expires.
func TestKilledHolderExpires(t *testing.T) {
	if p := os.Getenv("XCBENCH_TEST_LOCK_HOLDER"); p != "" {
		if _, err := (Locker{}).TryLock(p); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		select {}
	}
	p := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderExpires$")
	cmd.Env = append(os.Environ(), "XCBENCH_TEST_LOCK_HOLDER="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("holder said %q", line)
	}
	if _, err := (Locker{}).TryLock(p); !errors.Is(err, ErrHeld) {
		t.Fatalf("while the holder lives: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := (Locker{}).TryLock(p); !errors.Is(err, ErrHeld) {
		t.Fatalf("killed holder's lease should live until it expires: %v", err)
	}
	after := Locker{Now: func() time.Time { return time.Now().Add(DefaultTTL + time.Second) }}
	h, err := after.TryLock(p)
	if err != nil {
		t.Fatalf("expired lease of a killed holder: %v", err)
	}
	h.Release()
}
