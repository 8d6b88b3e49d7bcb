// Package sdk is the contract between the xcbench core and its components:
// the Encoder, Sampler and Classifier interfaces, the Matrix, Batch and TopK
// types that flow between them, the sentinel errors, the describe format of
// a plugin binary (Component, Described), .npy matrix helpers, and the one
// implementation of parameter decoding and config schemas (Schema,
// DecodeParams) that every component uses.
//
// It imports neither grpc nor go-plugin nor the generated protobuf code, so
// core and the components depend on the contract only (a test checks the
// transitive dependencies with go list -deps). The wire that carries the
// contract between processes (gRPC adapters, go-plugin glue, Serve) is
// package plugins/wire.
package sdk
