package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/plugins/host"
)

// TestMain lets the test binary be xcbench: with XCBENCH_TEST_MAIN set it
// runs main (the end-to-end tests run it as a real process, and the plugin
// host re-executes it to serve the built-ins); otherwise it still serves
// built-in components ("plugin serve <kind> <name>") for tests that run a
// grid through the command tree in this process.
func TestMain(m *testing.M) {
	if os.Getenv("XCBENCH_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	if len(os.Args) == 5 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		if err := host.ServeBuiltin(os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// xcbench runs this test binary as xcbench with args in dir and returns
// stdout, stderr and the exit status (-1 when killed by a signal).
func xcbench(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "XCBENCH_TEST_MAIN=1", "GOMLX_NO_AUTO_INSTALL=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
