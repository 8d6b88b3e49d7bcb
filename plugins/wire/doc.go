// Package wire carries the plugins/sdk contract between processes: the
// gRPC adapters of the generated plugins/pluginv1 services (status codes
// mapped to and from the sdk sentinel errors, matrices inline or as .npy
// paths), the go-plugin bindings and handshake, and Serve, the main of a
// plugin binary. Host code (plugins/host) and plugin binaries import it;
// core and the components never do.
package wire
