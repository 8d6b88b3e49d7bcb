// Package registry lists the built-in components compiled into the xcbench
// binary. Component packages register a factory from init; the host serves
// them by re-executing xcbench ("xcbench plugin serve <kind> <name>") and
// tests may construct them in-process. Names are unique per kind.
package registry

import (
	"fmt"
	"sort"
	"sync"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// Factory makes a fresh, unconfigured component. The value implements
// sdk.Encoder, sdk.Sampler or sdk.Classifier according to its kind.
type Factory func() sdk.Plugin

// Entry is one registered component.
type Entry struct {
	Kind sdk.Kind
	Name string
	New  Factory
}

var (
	mu      sync.RWMutex
	entries = map[sdk.Kind]map[string]Factory{}
)

// Register adds a component; registering the same kind and name twice
// panics, since that is a programming error caught by any test run.
func Register(kind sdk.Kind, name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if entries[kind] == nil {
		entries[kind] = map[string]Factory{}
	}
	if _, dup := entries[kind][name]; dup {
		panic(fmt.Sprintf("registry: %s %q registered twice", kind, name))
	}
	entries[kind][name] = f
}

// Lookup finds a factory.
func Lookup(kind sdk.Kind, name string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := entries[kind][name]
	return f, ok
}

// Names lists the registered names of a kind, sorted.
func Names(kind sdk.Kind) []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for n := range entries[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All lists every entry sorted by kind then name.
func All() []Entry {
	mu.RLock()
	defer mu.RUnlock()
	var out []Entry
	for k, m := range entries {
		for n, f := range m {
			out = append(out, Entry{Kind: k, Name: n, New: f})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
