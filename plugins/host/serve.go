package host

import (
	"fmt"
	"strings"

	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// ServeBuiltin serves the registered built-in kind/name under go-plugin; it
// is what "xcbench plugin serve" runs in the child process and returns only
// on a usage error.
func ServeBuiltin(kind, name string) error {
	f, ok := registry.Lookup(sdk.Kind(kind), name)
	if !ok {
		return fmt.Errorf("no built-in %s %q (have: %s)", kind, name, strings.Join(registry.Names(sdk.Kind(kind)), ", "))
	}
	return wire.ServeComponent(sdk.Kind(kind), name, f())
}
