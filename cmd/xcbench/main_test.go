package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/xcbench/xcbench/plugins/host"
)

// TestMain lets the test binary serve built-in components as xcbench does
// ("xcbench plugin serve <kind> <name>"): it is the host's own binary when
// a test runs a grid over plugin processes.
func TestMain(m *testing.M) {
	if len(os.Args) == 5 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		if err := host.ServeBuiltin(os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
