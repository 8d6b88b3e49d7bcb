// Package host discovers, launches and supervises xcbench components. Built-in
// components (plugins/registry) are served by re-executing the xcbench binary
// as "xcbench plugin serve <kind> <name>"; external ones are executables named
// xcbench-plugin-<anything> on the plugin path that answer "describe" with a
// JSON list of their components. Launch starts one process per component with
// hashicorp/go-plugin over gRPC and returns a Plugin whose Impl is a typed
// client (sdk.Encoder, sdk.Sampler or sdk.Classifier) that names the plugin
// and the call in every error; a call that finds the process gone returns an
// error wrapping sdk.ErrPluginCrashed and the process is reaped. PeakRSS and
// ResetPeak read and restart the process's VmHWM. With Options.InProcess the
// registry's components run inside this process instead (for fast tests).
package host
