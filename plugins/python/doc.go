// Package python holds the Python plugin SDK (xcbench_sdk), its message
// classes generated from plugins/proto by protoc --python_out (committed,
// checked by plugins/proto_test.go), and example plugins (examples/: the
// pyrandom sampler, the pyhash encoder, the pyexact classifier). The Go
// tests here run the conformance kit against each over the real protocol,
// check pyexact ranks as the built-in knn does, and reattach to a plugin
// started by hand.
package python
