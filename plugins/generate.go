// Package plugins holds the plugin protocol's sources and generation step;
// the Go packages live in its sub-folders (sdk: the contract; wire: gRPC and
// go-plugin; host, registry, pluginv1, plugintest).
package plugins

// Regenerate plugins/pluginv1 from plugins/proto with Debian's protoc and the
// Go generators pinned as tool dependencies in go.mod.
//go:generate sh -c "protoc -I proto --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=module=github.com/xcbench/xcbench/plugins --go-grpc_out=. --go-grpc_opt=module=github.com/xcbench/xcbench/plugins proto/xcbench/plugin/v1/plugin.proto"

// The Python SDK's message classes (plugins/python), with the same protoc.
//go:generate protoc -I proto --python_out=python proto/xcbench/plugin/v1/plugin.proto
