package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// Handshake is fixed forever: a changed cookie would make every existing
// plugin unusable. The cookie only stops people running plugins by hand.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  sdk.APIVersion,
	MagicCookieKey:   "XCBENCH_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6d7bcdd0a4e62acaf765280e7a5965cb",
}

// MaxMessageSize is the gRPC message limit on both ends. go-plugin raises
// only the client's; without this the plugin side would refuse host
// messages over gRPC's 4 MiB default.
const MaxMessageSize = 256 << 20

// EncoderPlugin, SamplerPlugin and ClassifierPlugin are the go-plugin
// GRPCPlugin bindings of the three kinds; Impl is set on the serving side.
type EncoderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl sdk.Encoder
}

func (p *EncoderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := &EncoderGRPCServer{Impl: p.Impl}
	registerPlugin(s, srv)
	registerEncoder(s, srv)
	return nil
}

func (p *EncoderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return NewEncoderGRPCClient(cc), nil
}

type SamplerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl sdk.Sampler
}

func (p *SamplerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := &SamplerGRPCServer{Impl: p.Impl}
	registerPlugin(s, srv)
	registerSampler(s, srv)
	return nil
}

func (p *SamplerPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return NewSamplerGRPCClient(cc), nil
}

type ClassifierPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl sdk.Classifier
}

func (p *ClassifierPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := &ClassifierGRPCServer{Impl: p.Impl}
	registerPlugin(s, srv)
	registerClassifier(s, srv)
	return nil
}

func (p *ClassifierPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return NewClassifierGRPCClient(cc), nil
}

// ClientPlugins is the host's plugin set: Dispense(string(kind)) returns an
// *EncoderGRPCClient, *SamplerGRPCClient or *ClassifierGRPCClient.
func ClientPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{sdk.APIVersion: {
		string(sdk.KindEncoder):    &EncoderPlugin{},
		string(sdk.KindSampler):    &SamplerPlugin{},
		string(sdk.KindClassifier): &ClassifierPlugin{},
	}}
}

// GRPCPluginFor binds impl to the go-plugin binding of kind, checking that
// it implements that kind's interface.
func GRPCPluginFor(kind sdk.Kind, impl sdk.Plugin) (plugin.Plugin, error) {
	switch kind {
	case sdk.KindEncoder:
		if e, ok := impl.(sdk.Encoder); ok {
			return &EncoderPlugin{Impl: e}, nil
		}
	case sdk.KindSampler:
		if s, ok := impl.(sdk.Sampler); ok {
			return &SamplerPlugin{Impl: s}, nil
		}
	case sdk.KindClassifier:
		if c, ok := impl.(sdk.Classifier); ok {
			return &ClassifierPlugin{Impl: c}, nil
		}
	default:
		return nil, fmt.Errorf("wire: unknown kind %q (want encoder, sampler or classifier)", kind)
	}
	return nil, fmt.Errorf("wire: %T does not implement the %s interface", impl, kind)
}

// GRPCServerFactory is the production gRPC server: go-plugin's options plus
// the raised message limits. Tests use it too, so they meet the real limit.
func GRPCServerFactory(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))...)
}

// NewServeConfig builds the go-plugin ServeConfig that serves impl as kind.
// Set its Test field to serve in-process (plugintest does).
func NewServeConfig(kind sdk.Kind, impl sdk.Plugin, logger hclog.Logger) (*plugin.ServeConfig, error) {
	p, err := GRPCPluginFor(kind, impl)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.APIVersion: {string(kind): p}},
		GRPCServer:       GRPCServerFactory,
		Logger:           logger,
	}, nil
}

// Serve is the main of a plugin binary. It answers
//
//	<bin> describe              JSON array of the components' Info on stdout
//	<bin> serve <kind> <name>   go-plugin server for that component
//
// and exits the process with status 2 on a usage error.
func Serve(comps ...sdk.Component) {
	if err := serveArgs(os.Args[1:], comps); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		os.Exit(2)
	}
}

func serveArgs(args []string, comps []sdk.Component) error {
	usage := "usage: describe | serve <kind> <name>"
	if len(args) == 0 {
		return fmt.Errorf("%s (this is an xcbench plugin; xcbench starts it)", usage)
	}
	switch args[0] {
	case "describe":
		out := make([]sdk.Described, 0, len(comps))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, c := range comps {
			info, err := c.New().Describe(ctx)
			if err != nil {
				return fmt.Errorf("describe %s %s: %w", c.Kind, c.Name, err)
			}
			out = append(out, sdk.Described{Kind: c.Kind, Name: c.Name, Info: info})
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "serve":
		if len(args) != 3 {
			return fmt.Errorf("%s", usage)
		}
		kind, name := sdk.Kind(args[1]), args[2]
		var names []string
		for _, c := range comps {
			if c.Kind == kind && c.Name == name {
				return ServeComponent(kind, name, c.New())
			}
			if c.Kind == kind {
				names = append(names, c.Name)
			}
		}
		return fmt.Errorf("no %s named %q here (have: %s)", kind, name, strings.Join(names, ", "))
	default:
		return fmt.Errorf("unknown command %q; %s", args[0], usage)
	}
}

// ServeComponent serves impl under go-plugin until the host kills the
// process. It logs hclog JSON to stderr (which go-plugin parses) and exits
// when the parent process dies, since go-plugin leaves orphans otherwise.
// With $XCBENCH_PLUGIN_DEBUG set it serves in go-plugin's test mode instead
// and prints the reattach line (see reattach.go).
func ServeComponent(kind sdk.Kind, name string, impl sdk.Plugin) error {
	level := hclog.LevelFromString(os.Getenv("XCBENCH_PLUGIN_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: string(kind) + "." + name, JSONFormat: true, Output: os.Stderr, Level: level})
	cfg, err := NewServeConfig(kind, impl, logger)
	if err != nil {
		return err
	}
	serverLog = logger
	if os.Getenv(DebugEnv) != "" {
		serveDebug(kind, name, cfg)
		return nil
	}
	go exitWhenOrphaned(os.Getppid(), time.Second, logger)
	plugin.Serve(cfg)
	return nil
}

// exitWhenOrphaned polls the parent pid: when the host dies (even by
// SIGKILL) the kernel reparents us and Getppid changes.
func exitWhenOrphaned(ppid int, every time.Duration, logger hclog.Logger) {
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			logger.Error("host process exited; shutting down", "old_ppid", ppid)
			os.Exit(3)
		}
	}
}
