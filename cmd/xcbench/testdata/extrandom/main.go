// Command extrandom is an external plugin for the run tests: the built-in
// random sampler served from its own binary under the name "extrandom".
package main

import (
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
	"github.com/xcbench/xcbench/samplers/random"
)

func main() {
	wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "extrandom", New: func() sdk.Plugin { return random.New() }})
}
