// Package examples checks that the example plugin modules under this
// folder build and pass the conformance kit the way docs/plugins.md tells
// an author to do it: as separate Go modules that require xcbench through
// a replace directive.
package examples
