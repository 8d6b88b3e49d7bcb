package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestPluginsCommands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"list json", []string{"plugins", "list", "--json", "--plugin-dir", dir}, []string{`"source": "builtin"`, `"name": "random"`}, ""},
		{"list table", []string{"plugins", "list", "--plugin-dir", dir}, []string{"kind", "sampler", "random", "builtin"}, ""},
		{"describe", []string{"plugins", "describe", "sampler", "random", "--plugin-dir", dir}, []string{`"config_schema"`, `"api_versions"`}, ""},
		{"list successors", []string{"plugins", "list", "--plugin-dir", dir}, []string{"tasb", "docknn"}, ""},
		{"describe bow losses", []string{"plugins", "describe", "encoder", "bow", "--plugin-dir", dir}, []string{"dsoftmax", "infonce", "triplet"}, ""},
		{"describe unknown", []string{"plugins", "describe", "sampler", "nope", "--plugin-dir", dir}, nil, `unknown sampler "nope"`},
		{"serve unknown builtin", []string{"plugin", "serve", "sampler", "nope"}, nil, `no built-in sampler "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runRoot(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.HasPrefix(strings.TrimSpace(out), "{") || strings.HasPrefix(strings.TrimSpace(out), "[") {
				if !json.Valid([]byte(out)) {
					t.Errorf("invalid JSON:\n%s", out)
				}
			}
		})
	}
}
