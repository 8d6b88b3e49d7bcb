package plugintest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// Connect serves impl as kind over real gRPC inside this process, with the
// production server options (so the 256 MiB message limit is the real one),
// and returns the host-side client (an *sdk.EncoderGRPCClient,
// *sdk.SamplerGRPCClient or *sdk.ClassifierGRPCClient). The server stops at
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
