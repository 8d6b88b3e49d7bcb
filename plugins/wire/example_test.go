package wire_test

import (
	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// A plugin binary's whole main: "describe" lists the components, and
// "serve <kind> <name>" serves one of them to the xcbench host.
func ExampleServe() {
	wire.Serve(
		sdk.Component{Kind: sdk.KindSampler, Name: "toy", New: toy.NewSampler},
		sdk.Component{Kind: sdk.KindClassifier, Name: "toy", New: toy.NewClassifier},
	)
}
