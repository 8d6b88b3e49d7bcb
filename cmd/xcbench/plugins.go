package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/grid"
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
		"more folders searched for xcbench-plugin-* binaries, after a grid's plugin_path and $"+host.PathEnv+" (nothing else is searched)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List every component with kind, name, version and source",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pluginsList(cmd, o)
		},
	}
	list.Flags().BoolVar(&o.JSON, "json", false, "print JSON instead of a table")
	lock := &cobra.Command{
		Use:   "lock <grid.yaml>",
		Short: "Pin the grid's external plugins (path, version, sha256) in <grid>.lock.json beside it",
		Long: `Lock resolves every external component the grid names (searching the
grid's plugin_path, then $` + host.PathEnv + `, then --plugin-dir) and writes
their binaries' sha256 to the lock file beside the grid, replacing what was
there. xcbench run refuses a binary whose checksum differs from its pin.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginsLock(cmd, o, args[0])
		},
	}
	cmd.AddCommand(list, lock, &cobra.Command{
		Use:   "describe <kind> <name>",
		Short: "Print a component's Describe info, including its config schema, as JSON",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginsDescribe(cmd, o, sdk.Kind(args[0]), args[1])
		},
	})
	return cmd
}

// newListHost searches $XCBENCH_PLUGIN_PATH, then --plugin-dir.
func newListHost(o *PluginsOptions) (*host.Host, error) {
	return host.New(host.Options{PluginPath: gridPluginPath(&grid.Grid{}, o.PluginPath)})
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
	t.Header("kind", "name", "version", "capabilities", "source", "path", "sha256")
	for _, a := range list {
		sum := "-"
		if a.SHA256 != "" {
			sum = a.SHA256[:12]
		}
		caps := ""
		for i, c := range a.Info.Capabilities {
			if i > 0 {
				caps += ","
			}
			caps += c
		}
		if err := t.Append(string(a.Kind), a.Name, a.Info.Version, caps, a.Source, a.Path, sum); err != nil {
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

func pluginsLock(cmd *cobra.Command, o *PluginsOptions, gridFile string) error {
	g, err := grid.Load(gridFile, grid.LoadOptions{})
	if err != nil {
		return err
	}
	cells, err := grid.Expand(g)
	if err != nil {
		return err
	}
	h, err := host.New(host.Options{PluginPath: gridPluginPath(g, o.PluginPath)})
	if err != nil {
		return err
	}
	defer h.Close()
	cur, err := h.LockEntries(cmd.Context(), gridRefs(cells))
	if err != nil {
		return err
	}
	file := host.LockPath(g.File)
	if err := (&host.Lock{Plugins: cur}).Write(file); err != nil {
		return err
	}
	for _, e := range cur {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %s %s\n", e.Kind, e.Name, e.Version, e.SHA256, e.Path)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "xcbench: %d external plugin(s) pinned in %s\n", len(cur), file)
	return nil
}
