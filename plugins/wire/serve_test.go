package wire

import (
	"context"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/plugins/sdk"
)

type nopPlugin struct{}

func (nopPlugin) Describe(context.Context) (sdk.Info, error)  { return sdk.Info{Name: "nop"}, nil }
func (nopPlugin) Configure(context.Context, sdk.Config) error { return nil }

func TestServeArgsErrors(t *testing.T) {
	comps := []sdk.Component{{Kind: sdk.KindSampler, Name: "a", New: func() sdk.Plugin { return nopPlugin{} }}}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "this is an xcbench plugin"},
		{"unknown command", []string{"run"}, `unknown command "run"`},
		{"serve needs kind and name", []string{"serve", "sampler"}, "usage"},
		{"unknown component", []string{"serve", "sampler", "b"}, `no sampler named "b" here (have: a)`},
		{"wrong interface", []string{"serve", "sampler", "a"}, "does not implement the sampler interface"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := serveArgs(tc.args, comps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := GRPCPluginFor("widget", nopPlugin{}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
