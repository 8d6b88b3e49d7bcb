package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// Debugging a plugin (Terraform's TF_REATTACH_PROVIDERS, for xcbench):
//
//	XCBENCH_PLUGIN_DEBUG=1 ./xcbench-plugin-mine serve sampler mine   # e.g. under dlv
//	export XCBENCH_REATTACH_PLUGINS='...'                             # the line it prints
//	xcbench run grid.yaml                                             # attaches instead of starting it
//
// The plugin keeps running between runs until it is interrupted.

// DebugEnv, when set to a non-empty value, makes ServeComponent serve in
// go-plugin's test mode and print the reattach line instead of the
// handshake.
const DebugEnv = "XCBENCH_PLUGIN_DEBUG"

// ReattachEnv holds a JSON object mapping "kind/name" to a ReattachInfo.
const ReattachEnv = "XCBENCH_REATTACH_PLUGINS"

// ReattachInfo is go-plugin's ReattachConfig in a JSON-friendly form.
type ReattachInfo struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            ReattachAddr
}

// ReattachAddr is a net.Addr as JSON.
type ReattachAddr struct {
	Network string
	String  string
}

// ParseReattach parses the value of ReattachEnv; empty means none.
func ParseReattach(s string) (map[string]ReattachInfo, error) {
	out := map[string]ReattachInfo{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf(`want {"kind/name": {"Protocol": "grpc", "Pid": ..., "Addr": {"Network": "unix", "String": "/tmp/..."}}}: %w`, err)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind, name, ok := strings.Cut(k, "/")
		if !ok || name == "" || (sdk.Kind(kind) != sdk.KindEncoder && sdk.Kind(kind) != sdk.KindSampler && sdk.Kind(kind) != sdk.KindClassifier) {
			return nil, fmt.Errorf("key %q: want kind/name (kind encoder, sampler or classifier)", k)
		}
		if _, err := out[k].Config(); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return out, nil
}

// Config converts r for go-plugin's ClientConfig.Reattach.
func (r ReattachInfo) Config() (*plugin.ReattachConfig, error) {
	if r.Protocol != string(plugin.ProtocolGRPC) {
		return nil, fmt.Errorf("protocol %q: xcbench plugins speak grpc", r.Protocol)
	}
	var addr net.Addr
	var err error
	switch r.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", r.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", r.Addr.String)
	default:
		err = fmt.Errorf("address network %q: want unix or tcp", r.Addr.Network)
	}
	if err != nil {
		return nil, err
	}
	v := r.ProtocolVersion
	if v == 0 {
		v = sdk.APIVersion
	}
	return &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC, ProtocolVersion: v, Addr: addr, Pid: r.Pid, Test: r.Test}, nil
}

// ReattachLine is the shell line that points xcbench at a plugin serving
// kind/name under rc.
func ReattachLine(kind sdk.Kind, name string, rc *plugin.ReattachConfig) string {
	m := map[string]ReattachInfo{string(kind) + "/" + name: {
		Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid, Test: rc.Test,
		Addr: ReattachAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}}
	b, _ := json.Marshal(m) // plain strings and ints
	return ReattachEnv + "='" + string(b) + "'"
}

// serveDebug serves cfg in go-plugin's test mode: no magic cookie, no
// parent to watch, and the reattach line on stdout once listening. It
// returns when interrupted.
func serveDebug(kind sdk.Kind, name string, cfg *plugin.ServeConfig) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ch := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: ch, CloseCh: closed}
	go func() {
		select {
		case rc := <-ch:
			fmt.Printf("xcbench plugin %s/%s (pid %d) is waiting; point xcbench at it with:\n", kind, name, rc.Pid)
			fmt.Printf("export %s\n", ReattachLine(kind, name, rc))
		case <-closed:
		}
	}()
	plugin.Serve(cfg)
}
