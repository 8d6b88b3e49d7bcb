package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrLocked reports a cell that another process is running.
var ErrLocked = errors.New("cell is locked by another process")

// TryLock takes the cell's advisory lock (flock on cells/<id>/.lock)
// without waiting, so processes sharing a run folder (xcbench run --shard,
// Slurm array tasks) never run one cell twice. It returns ErrLocked when
// another process holds it. The kernel drops the lock when the holder
// dies, SIGKILL included, so a crashed run never leaves a stale lock; the
// holder's pid is written into the file only to name it in messages.
func (c *CellStore) TryLock() (unlock func(), err error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	path := filepath.Join(c.Dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil && len(b) > 0 {
			holder = " (pid " + string(b) + ")"
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s%s: %w", c.Dir, holder, ErrLocked)
		}
		return nil, fmt.Errorf("results: lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
