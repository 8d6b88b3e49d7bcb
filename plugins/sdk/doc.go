// Package sdk is the contract between the xcbench core and its components:
// the Encoder, Sampler and Classifier interfaces, the Matrix and Batch types
// that flow between them, sentinel errors, and (for plugin authors) Serve,
// which turns an implementation into a go-plugin gRPC server. Core depends
// only on this package, never on grpc or the generated protobuf code; the
// gRPC adapters here map status codes to the sentinel errors.
package sdk
