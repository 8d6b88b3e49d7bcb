// Package host discovers, launches and supervises xcbench components. Built-in
// components (plugins/registry) are served by re-executing the xcbench binary
// as "xcbench plugin serve <kind> <name>"; external ones are executables named
// xcbench-plugin-<anything> in the folders of Options.PluginPath (default
// $XCBENCH_PLUGIN_PATH; nothing else is searched) that answer "describe" with
// a JSON list of their components. An external component with a built-in's
// name is reported and never listed. Launch starts one process per component
// with hashicorp/go-plugin over gRPC (plugins/wire) and returns a Plugin whose
// Impl is a typed client (sdk.Encoder, sdk.Sampler or sdk.Classifier) that
// names the plugin and the call in every error; a call that finds the process
// gone returns an error wrapping sdk.ErrPluginCrashed and the process is
// reaped. External binaries can be pinned by sha256 (Options.Pins, from a
// Lock file beside the grid): go-plugin's SecureConfig refuses a mismatch,
// which Launch reports as ErrChecksumMismatch naming the lock file.
// Components in Options.Reattach ($XCBENCH_REATTACH_PLUGINS) are attached to
// instead of started (debugging). PeakRSS and ResetPeak read and restart the
// process's VmHWM. With Options.InProcess the registry's components run inside
// this process instead (for fast tests).
package host
