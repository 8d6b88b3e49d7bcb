package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

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
			rev := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = s.Value
					}
				}
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "xcbench %s (plugin API v%d, commit %s, %s)\n", Version, sdk.APIVersion, rev, runtime.Version())
			return err
		},
	}
}
