package runner

import (
	"context"
	"fmt"
	"os"

	"github.com/xcbench/xcbench/core/memory"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Component is one launched plugin as the runner sees it.
type Component struct {
	Kind   sdk.Kind
	Name   string
	Path   string
	SHA256 string
	Info   sdk.Info
	// Impl implements sdk.Encoder, sdk.Sampler or sdk.Classifier per Kind.
	Impl sdk.Plugin
	// ResetPeak and PeakRSS measure the component's process (VmHWM); for
	// in-process components that is the whole test process.
	ResetPeak func() error
	PeakRSS   func() (int64, error)
	// PID is the component's process (this process when in-process); the
	// runner reads its CPU time per phase.
	PID int
	// Kill stops the component; safe to call twice.
	Kill func()
}

// Launcher starts components by kind and name.
type Launcher interface {
	Launch(ctx context.Context, kind sdk.Kind, name string) (*Component, error)
}

// RegistryLauncher builds components from plugins/registry inside this
// process: fast, for tests and debugging; memory figures are the process's.
type RegistryLauncher struct{}

// Launch implements Launcher.
func (RegistryLauncher) Launch(ctx context.Context, kind sdk.Kind, name string) (*Component, error) {
	f, ok := registry.Lookup(kind, name)
	if !ok {
		return nil, fmt.Errorf("launch %s %q: not registered (have %v)", kind, name, registry.Names(kind))
	}
	impl := f()
	info, err := impl.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("launch %s %q: describe: %w", kind, name, err)
	}
	pid := os.Getpid()
	return &Component{
		Kind: kind, Name: name, Info: info, Impl: impl,
		PID:       pid,
		ResetPeak: func() error { return memory.ResetPeak(pid) },
		PeakRSS:   func() (int64, error) { return memory.PeakRSS(pid) },
		Kill:      func() {},
	}, nil
}
