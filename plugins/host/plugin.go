package host

import (
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/core/memory"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Plugin is one launched component.
type Plugin struct {
	Name   string
	Kind   sdk.Kind
	Path   string // binary serving it
	SHA256 string // of Path
	Info   sdk.Info
	PID    int
	// Impl implements sdk.Encoder, sdk.Sampler or sdk.Classifier by Kind
	// (encoders over gRPC also sdk.MemoryBanker).
	Impl sdk.Plugin

	host     *Host
	raw      sdk.Plugin
	client   *plugin.Client
	stderr   *tail
	killOnce sync.Once
}

// ResetPeak restarts the process's VmHWM from its current RSS.
func (p *Plugin) ResetPeak() error { return memory.ResetPeak(p.PID) }

// PeakRSS is the process's VmHWM in bytes since start or ResetPeak. In
// InProcess mode it is the host's own.
func (p *Plugin) PeakRSS() (int64, error) { return memory.PeakRSS(p.PID) }

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client != nil && p.client.Exited() }

// Kill stops the process (no-op in InProcess mode); it returns within the
// host's KillTimeout, SIGKILLing a process that go-plugin could not stop.
func (p *Plugin) Kill() {
	if p.client == nil {
		return
	}
	p.killOnce.Do(func() {
		done := make(chan struct{})
		go func() { p.client.Kill(); close(done) }()
		select {
		case <-done:
		case <-time.After(p.host.opts.KillTimeout):
			p.host.log.Warn("plugin kill timed out; sending SIGKILL", "plugin", p.Name, "pid", p.PID)
			if p.PID > 0 {
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		p.host.forget(p)
	})
}

// StderrTail returns the last lines the process wrote to stderr.
func (p *Plugin) StderrTail() []string {
	if p.stderr == nil {
		return nil
	}
	return p.stderr.lines()
}

// tail keeps the last n lines written to it.
type tail struct {
	mu      sync.Mutex
	n       int
	buf     []string
	partial string
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.partial + string(b)
	parts := strings.Split(s, "\n")
	t.partial = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		if l = strings.TrimRight(l, "\r"); l != "" {
			t.buf = append(t.buf, l)
		}
	}
	if len(t.buf) > t.n {
		t.buf = append([]string(nil), t.buf[len(t.buf)-t.n:]...)
	}
	return len(b), nil
}

func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.buf...)
	if t.partial != "" {
		out = append(out, t.partial)
	}
	return out
}
