package gomlxkit

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // registers "go"; XLA only with -tags xla
)

// DefaultBackend is the pure-Go backend with unlimited goroutines: the
// default worker pool (2×NumCPU slots) deadlocks when several DotGenerals
// wait for slots at once (simplego dotgeneral_small.go WaitToStart).
const DefaultBackend = "go:parallelism=-1"

// EnvBackend overrides the backend for every encoder in the process.
const EnvBackend = "XCBENCH_BACKEND"

var (
	backendMu    sync.Mutex
	backendCache = map[string]backends.Backend{}
)

// ResolveBackendSpec picks the backend configuration string: the explicit
// param first, then $XCBENCH_BACKEND, then $GOMLX_BACKEND only when it names
// an XLA plugin (so a stray GOMLX_BACKEND=go does not bring back the hanging
// worker pool), else DefaultBackend. A bare "go" gets parallelism=-1 added.
func ResolveBackendSpec(param string) string {
	spec := strings.TrimSpace(param)
	if spec == "" {
		spec = strings.TrimSpace(os.Getenv(EnvBackend))
	}
	if spec == "" {
		if g := strings.TrimSpace(os.Getenv("GOMLX_BACKEND")); strings.HasPrefix(g, "xla") {
			spec = g
		}
	}
	if spec == "" {
		return DefaultBackend
	}
	name, cfg, _ := strings.Cut(spec, ":")
	if name == "go" && !strings.Contains(cfg, "parallelism=") {
		if cfg == "" {
			cfg = "parallelism=-1"
		} else {
			cfg += ",parallelism=-1"
		}
		return name + ":" + cfg
	}
	return spec
}

// NewBackend returns the (process-wide, cached) backend for spec as resolved
// by ResolveBackendSpec, with FastMatmulGrads installed. Backends are cached
// because XLA clients are heavyweight and simplego's buffer pools are shared.
func NewBackend(param string) (b backends.Backend, err error) {
	InstallFastMatmulGrads()
	spec := ResolveBackendSpec(param)
	name, _, _ := strings.Cut(spec, ":")
	if _, ok := registered()[name]; !ok {
		return nil, fmt.Errorf("gomlx backend %q not compiled in (have %v; XLA needs the build tag xla and cgo)", name, keys(registered()))
	}
	// Never let GoMLX download PJRT plugins behind the user's back.
	if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
		_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	}
	backendMu.Lock()
	defer backendMu.Unlock()
	if b, ok := backendCache[spec]; ok {
		return b, nil
	}
	defer Recover(&err, "gomlx backend "+spec)
	// simplego prints its parallelism setting on stdout, which is the
	// go-plugin handshake channel in plugin processes: point it at stderr.
	saved := os.Stdout
	os.Stdout = os.Stderr
	b, err = backends.NewWithConfig(spec)
	os.Stdout = saved
	if err != nil {
		return nil, fmt.Errorf("gomlx backend %q: %w", spec, err)
	}
	backendCache[spec] = b
	return b, nil
}

func registered() map[string]bool {
	out := map[string]bool{}
	for _, n := range backends.List() {
		out[n] = true
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
