package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// gridRefs lists the components the cells use.
func gridRefs(cells []grid.Cell) []host.Ref {
	var out []host.Ref
	add := func(kind sdk.Kind, name string) {
		if name != grid.None { // a classifier-only cell's encoder and sampler
			out = append(out, host.Ref{Kind: kind, Name: name})
		}
	}
	for _, c := range cells {
		s := c.Spec
		add(sdk.KindEncoder, s.Encoder.Name)
		add(sdk.KindSampler, s.Sampler.Name)
		add(sdk.KindClassifier, s.Classifier.Name)
		if s.Stage2 != nil {
			add(sdk.KindClassifier, s.Stage2.Name)
		}
	}
	return out
}

// gridPluginPath is where a grid's external plugins are searched: the
// grid's own plugin_path, then $XCBENCH_PLUGIN_PATH, then extra.
func gridPluginPath(g *grid.Grid, extra []string) []string {
	out := g.PluginDirs()
	for _, d := range filepath.SplitList(os.Getenv(host.PathEnv)) {
		if d != "" {
			out = append(out, d)
		}
	}
	return append(out, extra...)
}

// newRunHost builds the host a grid runs on and verifies the grid's
// external plugins against the lock file beside the grid: entries it lacks
// are added (the first run pins what it finds, as go.sum does), a changed
// checksum is refused naming the file unless update is set. Launch then
// repeats the check through go-plugin's SecureConfig right before running
// each binary. The returned record goes into the manifest (nil when the
// grid uses no external plugin).
func newRunHost(ctx context.Context, g *grid.Grid, cells []grid.Cell, inProcess, update bool, stderr io.Writer) (*host.Host, *results.PluginLock, error) {
	h, err := host.New(host.Options{InProcess: inProcess, PluginPath: gridPluginPath(g, nil)})
	if err != nil {
		return nil, nil, err
	}
	if inProcess {
		return h, nil, nil
	}
	rec, err := syncLock(ctx, h, g, cells, update, stderr)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, rec, nil
}

// syncLock checks (and, for new entries or with update, rewrites) the
// grid's lock file and pins h to it.
func syncLock(ctx context.Context, h *host.Host, g *grid.Grid, cells []grid.Cell, update bool, stderr io.Writer) (*results.PluginLock, error) {
	cur, err := h.LockEntries(ctx, gridRefs(cells))
	if err != nil {
		return nil, err
	}
	file := host.LockPath(g.File)
	old, err := host.ReadLock(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if len(cur) == 0 && old == nil {
		return nil, nil // built-ins only: nothing to pin
	}
	lock, changed, err := host.CheckLock(old, file, cur, update)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := lock.Write(file); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "xcbench: pinned %d external plugin(s) in %s\n", len(cur), file)
	}
	h.SetPins(file, lock.Pins())
	sum, err := host.FileSHA256(file)
	if err != nil {
		return nil, err
	}
	rec := &results.PluginLock{File: file, SHA256: sum}
	for _, e := range lock.Plugins {
		rec.Plugins = append(rec.Plugins, results.PluginInfo{Kind: string(e.Kind), Name: e.Name, Version: e.Version, Path: e.Path, SHA256: e.SHA256})
	}
	return rec, nil
}
