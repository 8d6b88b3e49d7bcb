package buildinfo

import "testing"

func TestResolve(t *testing.T) {
	vcs := func() (string, string) { return "abc123", "true" }
	none := func() (string, string) { return "", "" }
	tests := []struct {
		name, ldCommit, ldDirty string
		vcs                     func() (string, string)
		want                    string
		source                  string
	}{
		{"ldflags win over the vcs stamp", "deadbeef", "false", vcs, "deadbeef", "ldflags"},
		{"ldflags dirty", "deadbeef", "true", none, "deadbeef-dirty", "ldflags"},
		{"ldflags without dirty flag", "deadbeef", "", none, "deadbeef (dirty unknown)", "ldflags"},
		{"vcs stamp", "", "", vcs, "abc123-dirty", "vcs"},
		{"nothing known", "", "", none, "unknown (dirty unknown)", "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.ldCommit, tc.ldDirty, tc.vcs)
			if got.String() != tc.want || got.Source != tc.source {
				t.Fatalf("got %q from %s, want %q from %s", got.String(), got.Source, tc.want, tc.source)
			}
		})
	}
}
