package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// Connect serves impl as kind over real gRPC inside this process, with the
// production server options (so the 256 MiB message limit is the real one),
// and returns the host-side client (a *wire.EncoderGRPCClient,
// *wire.SamplerGRPCClient or *wire.ClassifierGRPCClient). The server stops at
// test cleanup.
func Connect(t testing.TB, kind sdk.Kind, impl sdk.Plugin) sdk.Plugin {
	t.Helper()
	p, stop, err := serveInProcess(kind, impl)
	if err != nil {
		t.Fatalf("plugintest: connect %s: %v", kind, err)
	}
	t.Cleanup(stop)
	return p
}

func serveInProcess(kind sdk.Kind, impl sdk.Plugin) (sdk.Plugin, func(), error) {
	cfg, err := wire.NewServeConfig(kind, impl, hclog.NewNullLogger())
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(10 * time.Second):
		cancel()
		return nil, nil, fmt.Errorf("plugin server did not start within 10s")
	}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: wire.Handshake,
		// Reattach skips version negotiation, so name the set directly.
		Plugins:          wire.ClientPlugins()[sdk.APIVersion],
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	stop := func() {
		c.Kill()
		cancel()
		<-closed
	}
	rpc, err := c.Client()
	if err != nil {
		stop()
		return nil, nil, err
	}
	raw, err := rpc.Dispense(string(kind))
	if err != nil {
		stop()
		return nil, nil, err
	}
	return raw.(sdk.Plugin), stop, nil
}

// ConnectBinary starts the plugin executable at path as the host does
// ("<path> serve <kind> <name>" under go-plugin, handshake cookie and all)
// and returns the host-side client. The process is killed at test cleanup;
// its stderr is logged when the test failed.
func ConnectBinary(t testing.TB, path string, kind sdk.Kind, name string) sdk.Plugin {
	t.Helper()
	stderr := &lockedBuffer{}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.ClientPlugins(),
		Cmd:              exec.Command(path, "serve", string(kind), name),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     30 * time.Second,
		Logger:           hclog.NewNullLogger(),
		Stderr:           stderr,
	})
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("plugintest: stderr of %s:\n%s", path, stderr.String())
		}
	})
	rpc, err := c.Client()
	if err != nil {
		t.Fatalf("plugintest: start %s serve %s %s: %v\n%s", path, kind, name, err, stderr.String())
	}
	raw, err := rpc.Dispense(string(kind))
	if err != nil {
		t.Fatalf("plugintest: dispense %s from %s: %v", kind, path, err)
	}
	return raw.(sdk.Plugin)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Len() }

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
