package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrHeld is returned by TryLock when another live holder has the lock.
var ErrHeld = errors.New("lock held")

// Lease is the content of a lock's lease file: who holds it and until when.
// The holder rewrites it every TTL/3 (the heartbeat); a lease whose Expires
// has passed belongs to a dead holder and may be taken over.
type Lease struct {
	Token   string    `json:"token"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Job     string    `json:"job,omitempty"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// Locker takes leased locks. The zero value uses DefaultTTL and real time.
//
// A lock at path is two files: path+".lease" (the JSON Lease, replaced by
// temp file + rename, the authority on who holds the lock) and path itself,
// flock'ed only around each read-modify-write of the lease, so two
// contenders on a filesystem with working flock (local, NFS via lockd,
// GPFS, BeeGFS, Lustre mounted with -o flock) never both take a free or
// expired lease. Holding the flock only for milliseconds, not for the whole
// cell, is what lets a dead node's lock expire: its flock dies with its
// kernel or its NFS lease, and its lease file simply stops being renewed.
// Expiry compares the lease's wall-clock Expires with the reader's clock,
// so the nodes' clocks must agree to well within the TTL (munge, which
// Slurm needs, already refuses clocks more than five minutes apart).
type Locker struct {
	// TTL is how long a lease lives without a heartbeat (DefaultTTL if 0).
	TTL time.Duration
	// Poll is how often Lock retries a held lock (TTL/10 if 0).
	Poll time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// DefaultTTL is long enough to ride out a loaded NFS server, short enough
// that a requeued task does not wait long for a dead node's cell.
const DefaultTTL = 90 * time.Second

func (l Locker) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultTTL
}

func (l Locker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Held is a lock this process holds; its heartbeat runs until Release.
type Held struct {
	l     Locker
	path  string
	token string
	lost  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

// Lost is closed when the heartbeat finds the lease taken over or cannot
// renew it before it expires; the holder should then stop writing.
func (h *Held) Lost() <-chan struct{} { return h.lost }

// Release stops the heartbeat and removes the lease if it is still ours.
func (h *Held) Release() error {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		h.err = h.l.withGuard(h.path, func() error {
			cur, err := readLease(h.path)
			if err != nil || cur == nil || cur.Token != h.token {
				return err
			}
			if err := os.Remove(leasePath(h.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("executor: release %s: %w", h.path, err)
			}
			return nil
		})
	})
	return h.err
}

// Lock waits until the lock at path is free (or its lease expired) and
// takes it; release stops the heartbeat and frees the lock.
func Lock(ctx context.Context, path string) (release func() error, err error) {
	h, err := Locker{}.Lock(ctx, path)
	if err != nil {
		return nil, err
	}
	return h.Release, nil
}

// Lock waits, polling every Poll, until it takes the lock or ctx ends.
func (l Locker) Lock(ctx context.Context, path string) (*Held, error) {
	poll := l.Poll
	if poll <= 0 {
		poll = l.ttl() / 10
	}
	for {
		h, err := l.TryLock(path)
		if !errors.Is(err, ErrHeld) {
			return h, err
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("executor: waiting for %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

// TryLock takes the lock if it is free or its lease has expired, else
// returns an error wrapping ErrHeld that names the holder.
func (l Locker) TryLock(path string) (*Held, error) {
	tok := make([]byte, 8)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	host, _ := os.Hostname()
	now := l.now().UTC()
	mine := Lease{Token: hex.EncodeToString(tok), Host: host, PID: os.Getpid(), Job: jobName(), Since: now, Expires: now.Add(l.ttl())}
	err := l.withGuard(path, func() error {
		cur, err := readLease(path)
		if err != nil {
			return err
		}
		if cur != nil && now.Before(cur.Expires) {
			return fmt.Errorf("%s: %w by %s pid %d until %s", path, ErrHeld, cur.Host, cur.PID, cur.Expires.Format(time.RFC3339))
		}
		return writeLease(path, mine)
	})
	if err != nil {
		return nil, err
	}
	h := &Held{l: l, path: path, token: mine.Token, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go h.heartbeat(mine)
	return h, nil
}

// heartbeat renews the lease every TTL/3 until Release; it gives the lock
// up (closes lost) when another holder took it over or when renewing kept
// failing until the lease ran out.
func (h *Held) heartbeat(mine Lease) {
	defer close(h.done)
	tick := time.NewTicker(h.l.ttl() / 3)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		now := h.l.now().UTC()
		err := h.l.withGuard(h.path, func() error {
			cur, err := readLease(h.path)
			if err != nil {
				return err
			}
			if cur == nil || cur.Token != mine.Token {
				return errStolen
			}
			mine.Expires = now.Add(h.l.ttl())
			return writeLease(h.path, mine)
		})
		if errors.Is(err, errStolen) || (err != nil && !now.Before(mine.Expires)) {
			close(h.lost)
			return
		}
	}
}

var errStolen = errors.New("lease taken over")

// Peek reads the lease at path without locking: nil when free. Its
// Expires tells whether the holder is alive.
func Peek(path string) (*Lease, error) { return readLease(path) }

// withGuard runs f holding an exclusive flock on path. Filesystems without
// flock (ENOSYS, EOPNOTSUPP, ENOLCK: e.g. Lustre without -o flock) run f
// unguarded, leaving the lease alone to arbitrate.
func (l Locker) withGuard(path string, f func() error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	fd, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	defer fd.Close()
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err == nil:
		defer syscall.Flock(int(fd.Fd()), syscall.LOCK_UN)
	case errors.Is(err, syscall.ENOSYS), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOLCK):
	default:
		return fmt.Errorf("executor: flock %s: %w", path, err)
	}
	return f()
}

func leasePath(path string) string { return path + ".lease" }

func readLease(path string) (*Lease, error) {
	b, err := os.ReadFile(leasePath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	var le Lease
	if err := json.Unmarshal(b, &le); err != nil {
		return nil, fmt.Errorf("executor: lease %s: %w", leasePath(path), err)
	}
	return &le, nil
}

func writeLease(path string, le Lease) error {
	b, err := json.Marshal(le)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	p := leasePath(path)
	tmp := fmt.Sprintf("%s.tmp%d", p, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("executor: %w", err)
	}
	return nil
}

// jobName identifies the batch task holding a lease, for `xcbench status`.
func jobName() string {
	if id := os.Getenv("SLURM_ARRAY_JOB_ID"); id != "" {
		return id + "_" + os.Getenv("SLURM_ARRAY_TASK_ID")
	}
	if id := os.Getenv("SLURM_JOB_ID"); id != "" {
		return id
	}
	if pod := os.Getenv("HOSTNAME"); pod != "" && os.Getenv("JOB_COMPLETION_INDEX") != "" {
		return pod
	}
	return ""
}
