package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/buildinfo"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Version is the xcbench release; -ldflags "-X main.Version=..." overrides it.
var Version = "0.1.0"

func init() { commands = append(commands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the xcbench version, plugin API version and build info",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := buildinfo.Get()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "xcbench %s (plugin API v%d, commit %s, from %s, %s)\n", Version, sdk.APIVersion, b, b.Source, runtime.Version())
			return err
		},
	}
}
