package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/xcbench/xcbench/core/buildinfo"
	"github.com/xcbench/xcbench/core/grid"
)

// Cell states.
const (
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Status is a cell's state file.
type Status struct {
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Epoch is the last epoch whose record and checkpoint are stored (-1 none).
	Epoch    int       `json:"epoch"`
	Attempts int       `json:"attempts"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Builds lists, in order, every build (buildinfo.Info.String) that ran
	// an attempt of this cell: one entry for a cell produced by one build.
	Builds []string `json:"builds,omitempty"`
	// Host is the machine of the latest attempt.
	Host string `json:"host,omitempty"`
	// EncoderFrom names the cell whose trained encoder (checkpoint and
	// per-epoch records) this cell took instead of training its own: the
	// cells differ only in their stage-2 classifier.
	EncoderFrom string `json:"encoder_from,omitempty"`
}

// Process is one xcbench process that worked in a run folder.
type Process struct {
	Build   buildinfo.Info `json:"build"`
	Host    string         `json:"host"`
	PID     int            `json:"pid"`
	Started time.Time      `json:"started"`
	// GridSHA256 hashes the grid file's text as this process read it.
	GridSHA256 string `json:"grid_sha256"`
	// Args are the command line's arguments after the program name.
	Args []string `json:"args,omitempty"`
}

// PluginInfo identifies a component binary a run used.
type PluginInfo struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// PluginLock records a plugin lock file as a run used it.
type PluginLock struct {
	File string `json:"file"`
	// SHA256 is the lock file's own checksum.
	SHA256  string       `json:"sha256"`
	Plugins []PluginInfo `json:"plugins"`
}

// HostInfo describes the machine.
type HostInfo struct {
	Hostname    string `json:"hostname"`
	CPUs        int    `json:"cpus"`
	MemoryBytes int64  `json:"memory_bytes"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
}

// Manifest describes a run folder.
type Manifest struct {
	GridName string      `json:"grid_name"`
	GridFile string      `json:"grid_file"`
	GridText string      `json:"grid_text"`
	Grid     *grid.Grid  `json:"grid"`
	Cells    []grid.Cell `json:"cells"`
	Seeds    []uint64    `json:"seeds"`
	// GitCommit is the build commit of the processes that ran the cells
	// ("mixed" when they differ; Processes has each), GitDirty whether
	// that build had uncommitted changes.
	GitCommit  string       `json:"git_commit,omitempty"`
	GitDirty   *bool        `json:"git_dirty,omitempty"`
	GridSHA256 string       `json:"grid_sha256,omitempty"`
	Processes  []Process    `json:"processes,omitempty"`
	Plugins    []PluginInfo `json:"plugins,omitempty"`
	Host       HostInfo     `json:"host"`
	Created    time.Time    `json:"created"`
	Updated    time.Time    `json:"updated"`

	// PluginLock is the lock file the run verified external plugins
	// against (nil when the grid uses built-ins only).
	PluginLock *PluginLock `json:"plugin_lock,omitempty"`
}

// Stage names.
const (
	StageM1     = "m1"
	StageStage2 = "stage2"
)

// Record is one line of epochs.jsonl.
type Record struct {
	Cell  string `json:"cell"`
	Stage string `json:"stage"`
	Epoch int    `json:"epoch"`
	Steps int    `json:"steps,omitempty"`
	// Loss is the mean training-step loss of the epoch.
	Loss float64 `json:"loss,omitempty"`
	// Hardness is the mean StepStats.Hardness of the epoch's steps.
	Hardness float64 `json:"hardness,omitempty"`
	// RefreshHardness is the sampler's RefreshStats.Hardness when the
	// epoch began with a refresh.
	RefreshHardness *float64 `json:"refresh_hardness,omitempty"`
	// Items counts texts/rows encoded: training steps plus refresh and
	// evaluation encodes.
	Items int `json:"items,omitempty"`
	// Metrics holds "P@1", "nDCG@3", "PSP@5", ... as fractions in [0,1];
	// empty when the epoch was not evaluated.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Wall is seconds by phase: train, encode, refresh, predict, eval.
	Wall map[string]float64 `json:"wall"`
	// CPU is CPU seconds (user + system) by phase, summed over the
	// runner's process and the cell's plugin processes: on a shared
	// machine wall time measures the neighbours too.
	CPU map[string]float64 `json:"cpu,omitempty"`
	// PeakRSS is bytes by plugin kind, then phase (VmHWM reset per phase).
	PeakRSS map[string]map[string]int64 `json:"peak_rss,omitempty"`
	// Elapsed is the cell's cumulative working seconds at the end of this
	// record, carried across resumed attempts.
	Elapsed float64   `json:"elapsed"`
	Time    time.Time `json:"time"`
}

// Store is a run folder.
type Store struct{ Dir string }

// Open creates or opens a run folder.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "cells"), 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return &Store{Dir: dir}, nil
}

// ManifestPath is where the manifest lives.
func (s *Store) ManifestPath() string { return filepath.Join(s.Dir, "manifest.json") }

// WriteManifest replaces the manifest atomically.
func (s *Store) WriteManifest(m Manifest) error {
	return WriteJSONAtomic(s.ManifestPath(), m)
}

// UpdateManifest replaces the manifest with fn's result, holding an
// exclusive lock on the run folder's manifest so processes sharing it
// (shards, array tasks) never lose each other's cells or processes; fn gets
// the current manifest and whether there was a readable one.
func (s *Store) UpdateManifest(fn func(cur Manifest, have bool) (Manifest, error)) error {
	path := filepath.Join(s.Dir, ".manifest.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("results: lock %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	cur, rerr := s.ReadManifest()
	m, err := fn(cur, rerr == nil)
	if err != nil {
		return err
	}
	return s.WriteManifest(m)
}

// ReadManifest reads the manifest.
func (s *Store) ReadManifest() (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(s.ManifestPath())
	if err != nil {
		return m, fmt.Errorf("results: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("results: %s: %w", s.ManifestPath(), err)
	}
	return m, nil
}

// Cell returns a cell's folder (created on first write).
func (s *Store) Cell(id string) *CellStore {
	return &CellStore{Dir: filepath.Join(s.Dir, "cells", id)}
}

// CellStore is one cell's folder.
type CellStore struct{ Dir string }

func (c *CellStore) statusPath() string  { return filepath.Join(c.Dir, "status.json") }
func (c *CellStore) recordsPath() string { return filepath.Join(c.Dir, "epochs.jsonl") }

// CheckpointDir holds the encoder checkpoint of the last stored epoch.
func (c *CellStore) CheckpointDir() string { return filepath.Join(c.Dir, "ckpt") }

// ScratchDir is handed to the cell's plugins.
func (c *CellStore) ScratchDir() string { return filepath.Join(c.Dir, "scratch") }

// Status reads status.json; a cell never started has State "" and Epoch -1.
func (c *CellStore) Status() (Status, error) {
	st := Status{Epoch: -1}
	b, err := os.ReadFile(c.statusPath())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("results: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return Status{Epoch: -1}, fmt.Errorf("results: %s: %w: %w", c.statusPath(), ErrCorrupt, err)
	}
	return st, nil
}

// ErrCorrupt marks a state file of the run folder that cannot be parsed.
var ErrCorrupt = errors.New("corrupt state file")

// QuarantineStatus moves an unreadable status.json aside (kept for
// inspection as status.json.corrupt) so the cell can start over from its
// checkpoint; the status is derived state, the records and checkpoints
// are the truth.
func (c *CellStore) QuarantineStatus() error {
	if err := os.Rename(c.statusPath(), c.statusPath()+".corrupt"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// SetStatus replaces status.json atomically.
func (c *CellStore) SetStatus(st Status) error {
	st.Updated = time.Now().UTC()
	return WriteJSONAtomic(c.statusPath(), st)
}

// Append adds one record with a single write and fsync.
func (c *CellStore) Append(r Record) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("results: encode record: %w", err)
	}
	f, err := os.OpenFile(c.recordsPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("results: append %s: %w", c.recordsPath(), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("results: fsync %s: %w", c.recordsPath(), err)
	}
	return f.Close()
}

// ErrDuplicate marks a records file holding one (stage, epoch) twice.
var ErrDuplicate = errors.New("duplicate epoch record")

// Records reads every complete record; a torn last line (crash mid-write)
// is skipped.
func (c *CellStore) Records() ([]Record, error) {
	recs, _, err := c.readRecords()
	return recs, err
}

func (c *CellStore) readRecords() ([]Record, int64, error) {
	f, err := os.Open(c.recordsPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	var (
		out  []Record
		good int64
		line int
		seen = map[[2]string]int{}
	)
	r := bufio.NewReader(f)
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			line++
			var rec Record
			if jerr := json.Unmarshal(bytes.TrimSpace(b), &rec); jerr != nil {
				return out, good, fmt.Errorf("results: %s:%d: %w", c.recordsPath(), line, jerr)
			}
			// Two writers of one cell would leave an epoch twice; a report
			// averaging them would be silently wrong.
			key := [2]string{rec.Stage, strconv.Itoa(rec.Epoch)}
			if first, dup := seen[key]; dup {
				return out, good, fmt.Errorf("results: %s:%d: %w: stage %s epoch %d already recorded on line %d", c.recordsPath(), line, ErrDuplicate, rec.Stage, rec.Epoch, first)
			}
			seen[key] = line
			out = append(out, rec)
			good += int64(len(b))
		}
		if err == io.EOF {
			return out, good, nil
		}
		if err != nil {
			return out, good, fmt.Errorf("results: %w", err)
		}
	}
}

// KeepThrough rewrites epochs.jsonl (temp + rename) keeping only complete
// records up to and including epoch of stage m1, dropping the rest: used on
// resume so records past the checkpoint are recomputed, not duplicated.
func (c *CellStore) KeepThrough(epoch int) ([]Record, error) {
	recs, _, err := c.readRecords()
	if err != nil {
		return nil, err
	}
	var kept []Record
	var buf bytes.Buffer
	for _, r := range recs {
		if r.Stage == StageM1 && r.Epoch <= epoch {
			kept = append(kept, r)
			b, _ := json.Marshal(r)
			buf.Write(append(b, '\n'))
		}
	}
	if len(recs) == 0 && epoch < 0 {
		return nil, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if err := writeAtomic(c.recordsPath(), buf.Bytes()); err != nil {
		return nil, err
	}
	return kept, nil
}

// WriteCell records the cell's definition in its folder (cell.json), so the
// folder describes itself whatever becomes of the grid file.
func (c *CellStore) WriteCell(cell grid.Cell) error {
	return WriteJSONAtomic(filepath.Join(c.Dir, "cell.json"), cell)
}

// Cells reads the definitions of every cell folder of the run that has
// one (folders of runs before cell.json existed are skipped).
func (s *Store) Cells() ([]grid.Cell, error) {
	ents, err := os.ReadDir(filepath.Join(s.Dir, "cells"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var out []grid.Cell
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.Dir, "cells", e.Name(), "cell.json"))
		if err != nil {
			continue
		}
		var c grid.Cell
		if json.Unmarshal(b, &c) == nil && c.ID == e.Name() {
			out = append(out, c)
		}
	}
	return out, nil
}

// ReplaceRecords rewrites epochs.jsonl (temp + rename) to hold exactly
// recs.
func (c *CellStore) ReplaceRecords(recs []Record) error {
	var buf bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("results: encode record: %w", err)
		}
		buf.Write(append(b, '\n'))
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return writeAtomic(c.recordsPath(), buf.Bytes())
}

// WriteJSONAtomic writes v indented to path via temp file, fsync, rename.
func WriteJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return writeAtomic(path, append(b, '\n'))
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	tmp := f.Name()
	// CreateTemp makes 0600 files; state files are as readable as the
	// records beside them.
	werr := f.Chmod(0o644)
	if werr == nil {
		_, werr = f.Write(b)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: write %s: %w", path, werr)
	}
	return nil
}
