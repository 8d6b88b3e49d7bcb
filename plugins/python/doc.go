// Package python holds the Python plugin SDK (xcbench_sdk), its message
// classes generated from plugins/proto by protoc --python_out (committed,
// checked by plugins/proto_test.go), and example plugins (examples/). The
// Go test here runs the conformance kit against the examples over the real
// protocol.
package python
