package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func init() { commands = append(commands, newPluginsCmd) }

// PluginsOptions holds the flags of "xcbench plugins".
type PluginsOptions struct {
	PluginPath []string
	JSON       bool
}

func newPluginsCmd() *cobra.Command {
	o := &PluginsOptions{}
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List and describe built-in and external components",
	}
	cmd.PersistentFlags().StringSliceVar(&o.PluginPath, "plugin-dir", nil,
		"folders searched for xcbench-plugin-* binaries (default $"+host.PathEnv+", then ./plugins.d)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List every component with kind, name, version and source",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pluginsList(cmd, o)
		},
	}
	list.Flags().BoolVar(&o.JSON, "json", false, "print JSON instead of a table")
	cmd.AddCommand(list, &cobra.Command{
		Use:   "describe <kind> <name>",
		Short: "Print a component's Describe info, including its config schema, as JSON",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginsDescribe(cmd, o, sdk.Kind(args[0]), args[1])
		},
	})
	return cmd
}

func newListHost(o *PluginsOptions) (*host.Host, error) {
	opts := host.Options{}
	if len(o.PluginPath) > 0 {
		opts.PluginPath = o.PluginPath
	}
	return host.New(opts)
}

func pluginsList(cmd *cobra.Command, o *PluginsOptions) error {
	h, err := newListHost(o)
	if err != nil {
		return err
	}
	defer h.Close()
	list, broken := h.List(cmd.Context())
	if broken != nil {
		// Broken binaries are a warning: the rest of the list is usable.
		fmt.Fprintln(cmd.ErrOrStderr(), "xcbench: warning:", broken)
	}
	if o.JSON {
		return pluginsWriteJSON(cmd.OutOrStdout(), list)
	}
	return writePluginTable(cmd.OutOrStdout(), list)
}

func writePluginTable(w io.Writer, list []host.Available) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("kind", "name", "version", "capabilities", "source")
	for _, a := range list {
		src := a.Source
		if a.Source != "builtin" {
			src = a.Path
		}
		caps := ""
		for i, c := range a.Info.Capabilities {
			if i > 0 {
				caps += ","
			}
			caps += c
		}
		if err := t.Append(string(a.Kind), a.Name, a.Info.Version, caps, src); err != nil {
			return err
		}
	}
	return t.Render()
}

func pluginsDescribe(cmd *cobra.Command, o *PluginsOptions, kind sdk.Kind, name string) error {
	h, err := newListHost(o)
	if err != nil {
		return err
	}
	defer h.Close()
	list, broken := h.List(cmd.Context())
	for _, a := range list {
		if a.Kind == kind && a.Name == name {
			return pluginsWriteJSON(cmd.OutOrStdout(), a)
		}
	}
	var names []string
	for _, a := range list {
		if a.Kind == kind {
			names = append(names, a.Name)
		}
	}
	err = fmt.Errorf("unknown %s %q (known: %v)", kind, name, names)
	if broken != nil {
		err = fmt.Errorf("%w; %v", err, broken)
	}
	return err
}

func pluginsWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
