package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// A lock file pins the external plugins a grid uses, as go.sum pins
// modules: "xcbench plugins lock" (or the first run) writes one entry per
// external component with the sha256 of its binary, and run refuses a
// binary whose checksum differs (go-plugin's SecureConfig checks it right
// before executing) unless told to update the lock.

// LockVersion is the lock file format version.
const LockVersion = 1

// Lock is a lock file.
type Lock struct {
	Version int         `json:"version"`
	Plugins []LockEntry `json:"plugins"`
}

// LockEntry pins one external component.
type LockEntry struct {
	Kind    sdk.Kind `json:"kind"`
	Name    string   `json:"name"`
	Path    string   `json:"path"`
	Version string   `json:"version"`
	SHA256  string   `json:"sha256"`
}

// LockPath is the lock file beside a grid: grid.yaml -> grid.lock.json.
func LockPath(gridFile string) string {
	return strings.TrimSuffix(gridFile, filepath.Ext(gridFile)) + ".lock.json"
}

// ReadLock reads a lock file; a missing file is an error wrapping
// os.ErrNotExist.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	var l Lock
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("lock file %s: version %d, this xcbench reads %d", path, l.Version, LockVersion)
	}
	for i, e := range l.Plugins {
		if e.Kind == "" || e.Name == "" || len(e.SHA256) != 64 {
			return nil, fmt.Errorf("lock file %s: entry %d (%s %s) needs kind, name and a 64-digit sha256", path, i, e.Kind, e.Name)
		}
		if e.Path != "" && !filepath.IsAbs(e.Path) {
			l.Plugins[i].Path = filepath.Join(filepath.Dir(path), e.Path)
		}
	}
	return &l, nil
}

// Write stores l at path (sorted, atomically).
func (l *Lock) Write(path string) error {
	l.Version = LockVersion
	sort.Slice(l.Plugins, func(i, j int) bool {
		return Key(l.Plugins[i].Kind, l.Plugins[i].Name) < Key(l.Plugins[j].Kind, l.Plugins[j].Name)
	})
	// Paths near the lock file are stored relative to it, so a lock
	// committed beside a grid does not name one checkout's folders.
	out := *l
	out.Plugins = append([]LockEntry(nil), l.Plugins...)
	for i, e := range out.Plugins {
		if rel, err := filepath.Rel(filepath.Dir(path), e.Path); err == nil && filepath.IsAbs(e.Path) && !strings.HasPrefix(rel, "../..") {
			out.Plugins[i].Path = rel
		}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	return nil
}

// Pins returns the lock's "kind/name" -> sha256 map for Options.Pins.
func (l *Lock) Pins() map[string]string {
	out := map[string]string{}
	for _, e := range l.Plugins {
		out[Key(e.Kind, e.Name)] = e.SHA256
	}
	return out
}

// Ref names a component a grid uses.
type Ref struct {
	Kind sdk.Kind
	Name string
}

// LockEntries resolves the external components among refs (built-ins are
// part of the xcbench binary and need no pin) to entries with their
// binaries' current checksums. Components listed in Options.Reattach are
// skipped: a process started by hand has no binary to pin.
func (h *Host) LockEntries(ctx context.Context, refs []Ref) ([]LockEntry, error) {
	var out []LockEntry
	seen := map[string]bool{}
	for _, r := range refs {
		k := Key(r.Kind, r.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, builtin := registry.Lookup(r.Kind, r.Name); builtin {
			continue
		}
		if _, ok := h.opts.Reattach[k]; ok {
			continue
		}
		path, _, err := h.resolve(ctx, r.Kind, r.Name)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		e := LockEntry{Kind: r.Kind, Name: r.Name, Path: path}
		if e.SHA256, err = h.sum(path); err != nil {
			return nil, err
		}
		h.mu.Lock()
		for _, a := range h.external {
			if a.Kind == r.Kind && a.Name == r.Name {
				e.Version = a.Info.Version
			}
		}
		h.mu.Unlock()
		out = append(out, e)
	}
	return out, nil
}

// CheckLock compares the current entries with lock (nil = no lock file
// yet). It returns the lock to use (lock plus the entries it lacked) and
// whether that differs from lock; a changed checksum is an error naming
// file, unless update is set, when the new checksum replaces the pin.
func CheckLock(lock *Lock, file string, cur []LockEntry, update bool) (*Lock, bool, error) {
	out := &Lock{Version: LockVersion}
	have := map[string]int{}
	if lock != nil {
		out.Plugins = append(out.Plugins, lock.Plugins...)
		for i, e := range lock.Plugins {
			have[Key(e.Kind, e.Name)] = i
		}
	}
	changed := false
	var bad []error
	for _, e := range cur {
		i, ok := have[Key(e.Kind, e.Name)]
		switch {
		case !ok:
			out.Plugins = append(out.Plugins, e)
			changed = true
		case out.Plugins[i].SHA256 != e.SHA256:
			if !update {
				bad = append(bad, fmt.Errorf("%s %s: %w: binary %s has sha256 %s, lock file %s pins %s (built from %s, version %s); if the change is intended: xcbench run --update-lock",
					e.Kind, e.Name, ErrChecksumMismatch, e.Path, e.SHA256, file, out.Plugins[i].SHA256, out.Plugins[i].Path, out.Plugins[i].Version))
				continue
			}
			out.Plugins[i] = e
			changed = true
		case out.Plugins[i].Path != e.Path || out.Plugins[i].Version != e.Version:
			if update {
				out.Plugins[i] = e
				changed = true
			}
		}
	}
	if len(bad) > 0 {
		return nil, false, errors.Join(bad...)
	}
	return out, changed, nil
}
