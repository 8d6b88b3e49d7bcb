package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestOpenFor(t *testing.T) {
	dir := t.TempDir()
	if err := WriteLines(filepath.Join(dir, "trn_X.txt"), []string{"a b", "b c"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trn_X_Y.txt"), []byte("2 3\n0:1\n1:1 2:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteLines(filepath.Join(dir, "lbl_X.txt"), []string{"x", "y", "z"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteLines(filepath.Join(dir, "tst_X.txt"), []string{"a c"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tst_X_Y.txt"), []byte("1 3\n2:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		d          sdk.Dataset
		wantErr    string
		wantConfig bool
	}{
		{"ok, name from the spec", sdk.Dataset{Dir: dir, Name: "tiny"}, "", false},
		{"empty dir", sdk.Dataset{}, "dataset dir is empty", true},
		{"bad options", sdk.Dataset{Dir: dir, Options: []byte(`{"max_lenn": 3}`)}, "max_lenn", true},
		{"missing folder named", sdk.Dataset{Dir: filepath.Join(dir, "nope")}, filepath.Join(dir, "nope"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := OpenFor(tc.d)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if ds.Name != "tiny" || ds.TrainY.NRows != 2 {
					t.Fatalf("dataset %s with %d train rows", ds.Name, ds.TrainY.NRows)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, sdk.ErrInvalidConfig) != tc.wantConfig {
				t.Fatalf("err %v, want %q (invalid config: %v)", err, tc.wantErr, tc.wantConfig)
			}
		})
	}
}
