// Package buildinfo says which build of xcbench is running: the commit and
// whether the tree it was built from had uncommitted changes. Results
// record it, so every number can be traced to the code that produced it.
//
// The values come, in order, from the linker (-ldflags "-X
// github.com/xcbench/xcbench/core/buildinfo.commit=<sha> -X
// github.com/xcbench/xcbench/core/buildinfo.dirty=true|false", which the
// project's scripts pass), then from Go's VCS stamp (absent when built with
// -buildvcs=false, as these machines' Go environment does), else
// "unknown". It never asks git at run time: the checkout a binary runs
// from need not be the one it was built from.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the linker; see the package comment.
var (
	commit string
	dirty  string
)

// Info identifies a build.
type Info struct {
	// Commit is the full git commit, or "unknown".
	Commit string `json:"commit"`
	// Dirty reports uncommitted changes in the tree at build time; nil
	// when unknown.
	Dirty *bool `json:"dirty,omitempty"`
	// Source says where Commit came from: "ldflags", "vcs" or "none".
	Source    string `json:"source"`
	GoVersion string `json:"go_version"`
}

// Get returns the running binary's build identity.
func Get() Info {
	return resolve(commit, dirty, readVCS)
}

// String is "<commit>" or "<commit>-dirty", with "unknown" for either part
// not known.
func (i Info) String() string {
	switch {
	case i.Dirty == nil:
		return i.Commit + " (dirty unknown)"
	case *i.Dirty:
		return i.Commit + "-dirty"
	}
	return i.Commit
}

func readVCS() (rev, modified string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	return rev, modified
}

func resolve(ldCommit, ldDirty string, vcs func() (string, string)) Info {
	info := Info{Commit: "unknown", Source: "none", GoVersion: runtime.Version()}
	parse := func(s string) *bool {
		switch s {
		case "true":
			b := true
			return &b
		case "false":
			b := false
			return &b
		}
		return nil
	}
	if ldCommit != "" {
		info.Commit, info.Dirty, info.Source = ldCommit, parse(ldDirty), "ldflags"
		return info
	}
	if rev, mod := vcs(); rev != "" {
		info.Commit, info.Dirty, info.Source = rev, parse(mod), "vcs"
	}
	return info
}
