package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// ExitInterrupted is xcbench's exit status when a signal (SIGINT, SIGTERM,
// SIGUSR1) stopped it and every interrupted cell was left resumable (128 +
// SIGINT, the shell's status for a Ctrl-C'd program): the batch script
// requeues the task on it after a SIGUSR1 warning.
const ExitInterrupted = 130

// DefaultMaxAttempts bounds how many times one submission lets a cell
// start (first run, requeues after preemption or a lost node) before its
// task gives up and marks it failed.
const DefaultMaxAttempts = 3

// Cell states as `xcbench status` shows them: results' done, failed and
// running (with a live lease), plus pending (never started) and
// interrupted (status running but nobody holds its lease: killed, preempted
// or lost with its node; the next run resumes it from its checkpoint).
const (
	StatePending     = "pending"
	StateRunning     = results.StateRunning
	StateInterrupted = "interrupted"
	StateDone        = results.StateDone
	StateFailed      = results.StateFailed
)

// CellState is one cell of a run folder as the cluster sees it.
type CellState struct {
	Index    int
	Cell     grid.Cell
	State    string
	Attempts int
	// Epoch is the last stored epoch (-1 none).
	Epoch int
	Error string
	// Host and Job ran (or run) the cell's last task, from its task.json.
	Host, Job string
	Updated   time.Time
	// Queue is the scheduler's state of the cell's task ("PENDING",
	// "RUNNING", ...; "" when unknown or gone), filled by the caller.
	Queue string
}

// TaskInfo is cells/<id>/task.json: where the cell's last task ran.
type TaskInfo struct {
	Host    string    `json:"host"`
	Job     string    `json:"job,omitempty"`
	PID     int       `json:"pid"`
	Attempt int       `json:"attempt"`
	Started time.Time `json:"started"`
}

func lockPath(s *results.Store, id string) string {
	return filepath.Join(s.Cell(id).Dir, "executor.lock")
}

func taskPath(s *results.Store, id string) string {
	return filepath.Join(s.Cell(id).Dir, "task.json")
}

// Survey reads every cell's state. A status.json that cannot be read
// fails only its cell (state failed, the error says why), so one damaged
// file does not hide the rest of the run.
func Survey(s *results.Store, cells []grid.Cell, now time.Time) []CellState {
	out := make([]CellState, len(cells))
	for i, c := range cells {
		cs := CellState{Index: i, Cell: c, Epoch: -1}
		st, err := s.Cell(c.ID).Status()
		switch {
		case err != nil:
			cs.State, cs.Error = StateFailed, err.Error()
		case st.State == "":
			cs.State = StatePending
		default:
			cs.State, cs.Attempts, cs.Epoch, cs.Error, cs.Updated = st.State, st.Attempts, st.Epoch, st.Error, st.Updated
		}
		if b, err := os.ReadFile(taskPath(s, c.ID)); err == nil {
			var ti TaskInfo
			if json.Unmarshal(b, &ti) == nil {
				cs.Host, cs.Job = ti.Host, ti.Job
			}
		}
		if cs.State == StateRunning {
			le, err := Peek(lockPath(s, c.ID))
			if err != nil || le == nil || !now.Before(le.Expires) {
				cs.State = StateInterrupted
			} else {
				cs.Host, cs.Job = le.Host, le.Job
			}
		}
		out[i] = cs
	}
	return out
}

// ToSubmit returns the indices of the cells a (re)submission must run:
// every cell not done, not held by a live task and not waiting in the
// scheduler's queue. Done cells are never run again.
func ToSubmit(states []CellState) []int {
	var out []int
	for _, c := range states {
		if c.State == StateDone || c.State == StateRunning || c.Queue != "" {
			continue
		}
		out = append(out, c.Index)
	}
	return out
}

// Counts tallies states in display order.
func Counts(states []CellState) string {
	n := map[string]int{}
	for _, c := range states {
		n[c.State]++
	}
	var parts []string
	for _, s := range []string{StatePending, StateRunning, StateInterrupted, StateDone, StateFailed} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// SelectCell returns the cell at index of the expanded grid. When id is
// set it must be that cell's id: a task submitted for one cell must not
// run another because the grid file changed in between.
func SelectCell(cells []grid.Cell, index int, id string) (grid.Cell, error) {
	if index < 0 || index >= len(cells) {
		return grid.Cell{}, fmt.Errorf("--cell %d: the grid has %d cells (0..%d)", index, len(cells), len(cells)-1)
	}
	c := cells[index]
	if id != "" && c.ID != id {
		return grid.Cell{}, fmt.Errorf("--cell %d is %s (id %s), but the task was submitted for id %s: the grid file changed since submission; resubmit", index, c.Name, c.ID, id)
	}
	return c, nil
}

// BeginCell prepares one cluster task's cell: it takes the cell's leased
// lock (waiting while another live task holds it), gives up on a cell that
// already started maxAttempts times (marking it failed, so requeues end),
// and records where the task runs. The returned context is cancelled if
// the lock is lost; end releases the lock. maxAttempts <= 0 means no limit.
func BeginCell(ctx context.Context, s *results.Store, cell grid.Cell, maxAttempts int, l Locker) (context.Context, func(), error) {
	h, err := l.Lock(ctx, lockPath(s, cell.ID))
	if err != nil {
		return nil, nil, err
	}
	cs := s.Cell(cell.ID)
	st, err := cs.Status()
	if err != nil {
		h.Release()
		return nil, nil, err
	}
	if st.State != results.StateDone && maxAttempts > 0 && st.Attempts >= maxAttempts {
		last := st.Error
		if st.State == results.StateRunning || last == "" {
			last = "its last attempt never finished (node lost, killed or preempted)"
		}
		err := fmt.Errorf("cell %s: gave up after %d attempts: %s", cell.Name, st.Attempts, last)
		if st.State != results.StateFailed {
			st.State, st.Error = results.StateFailed, err.Error()
			if serr := cs.SetStatus(st); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		h.Release()
		return nil, nil, err
	}
	host, _ := os.Hostname()
	if err := results.WriteJSONAtomic(taskPath(s, cell.ID), TaskInfo{
		Host: host, Job: jobName(), PID: os.Getpid(), Attempt: st.Attempts + 1, Started: time.Now().UTC(),
	}); err != nil {
		h.Release()
		return nil, nil, err
	}
	cctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-h.Lost():
			cancel(fmt.Errorf("cell %s: lock lease lost (another task took it over)", cell.Name))
		case <-cctx.Done():
		}
	}()
	return cctx, func() { cancel(nil); h.Release() }, nil
}

// Submission is one line of RUN/executor/submissions.jsonl.
type Submission struct {
	Executor string `json:"executor"`
	JobID    string `json:"job_id,omitempty"`
	Script   string `json:"script"`
	Command  string `json:"command,omitempty"`
	// Cells are the submitted cells' indices in the expanded grid (the
	// array task ids) and IDs their cell ids, in the same order.
	Cells []int     `json:"cells"`
	IDs   []string  `json:"ids"`
	Time  time.Time `json:"time"`
}

// cellID is the id of the cell submitted as task index ("" if none).
func (s Submission) cellID(index int) string {
	for i, c := range s.Cells {
		if c == index && i < len(s.IDs) {
			return s.IDs[i]
		}
	}
	return ""
}

func cellIDs(t Task, idx []int) []string {
	out := make([]string, len(idx))
	for i, k := range idx {
		out[i] = t.Cells[k].ID
	}
	return out
}

func submissionsPath(run string) string { return filepath.Join(run, "executor", "submissions.jsonl") }

// Submissions reads the run folder's submission log (empty when none).
func Submissions(run string) ([]Submission, error) {
	b, err := os.ReadFile(submissionsPath(run))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	var out []Submission
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var s Submission
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return nil, fmt.Errorf("executor: %s:%d: %w", submissionsPath(run), i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func appendSubmission(run string, s Submission) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	f, err := os.OpenFile(submissionsPath(run), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("executor: %w", err)
	}
	return f.Close()
}

// nextScript names the next generated file RUN/executor/<prefix>-<n>.<ext>.
func nextScript(run, prefix, ext string) (string, error) {
	dir := filepath.Join(run, "executor")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return "", fmt.Errorf("executor: %w", err)
	}
	subs, err := Submissions(run)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, fmt.Sprintf("%s-%d.%s", prefix, len(subs)+1, ext)), nil
}

// ranges writes sorted indices compactly: 0-3,7,9-10.
func ranges(idx []int) string {
	s := append([]int(nil), idx...)
	sort.Ints(s)
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(s[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
