package sdk_test

import (
	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// A plugin binary's whole main: "describe" lists the components, and
// "serve <kind> <name>" serves one of them to the xcbench host.
func ExampleServe() {
	sdk.Serve(
		sdk.Component{Kind: sdk.KindSampler, Name: "toy", New: toy.NewSampler},
		sdk.Component{Kind: sdk.KindClassifier, Name: "toy", New: toy.NewClassifier},
	)
}
