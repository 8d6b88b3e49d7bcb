package main

import (
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/plugins/host"
)

func init() { commands = append(commands, newPluginCmd) }

// newPluginCmd is the child-process side of built-in components: the host
// re-executes xcbench as "xcbench plugin serve <kind> <name>". Hidden, since
// only go-plugin can talk to it (stdout carries the handshake).
func newPluginCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "plugin",
		Short:  "Serve a built-in component over the plugin protocol (used by xcbench itself)",
		Hidden: true,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "serve <kind> <name>",
		Short: "Serve the built-in <kind> <name> under go-plugin",
		Long: `Serve the built-in <kind> <name> under go-plugin. With
XCBENCH_PLUGIN_DEBUG=1 it serves until interrupted and prints the
XCBENCH_REATTACH_PLUGINS line that makes "xcbench run" attach to it
instead of starting the component (see docs/plugins.md, Debugging).`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return host.ServeBuiltin(args[0], args[1])
		},
	})
	return cmd
}
