package host_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

func quietHost(t *testing.T, o host.Options) *host.Host {
	t.Helper()
	o.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard})
	h, err := host.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func copyExec(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestDiscoveryPath: only $XCBENCH_PLUGIN_PATH (or Options.PluginPath) is
// searched; a plugin lying in ./plugins.d is never executed unless named.
func TestDiscoveryPath(t *testing.T) {
	ctx := context.Background()
	cwd := t.TempDir()
	copyExec(t, filepath.Join(pluginDir, "xcbench-plugin-ext"), filepath.Join(cwd, "plugins.d", "xcbench-plugin-ext"))
	t.Chdir(cwd)
	t.Setenv(host.PathEnv, "")
	h := quietHost(t, host.Options{})
	if _, err := h.Launch(ctx, sdk.KindSampler, "crashy"); err == nil || !strings.Contains(err.Error(), `unknown sampler "crashy"`) {
		t.Fatalf("./plugins.d searched without being named: %v", err)
	}
	t.Setenv(host.PathEnv, "/nonexistent:"+filepath.Join(cwd, "plugins.d"))
	h = quietHost(t, host.Options{})
	list, err := h.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range list {
		if a.Kind == sdk.KindSampler && a.Name == "crashy" {
			found = true
			want, _ := host.FileSHA256(filepath.Join(cwd, "plugins.d", "xcbench-plugin-ext"))
			if a.Source != "external" || a.Path != filepath.Join(cwd, "plugins.d", "xcbench-plugin-ext") || a.SHA256 != want {
				t.Errorf("listed as %+v", a)
			}
		}
		if a.Source == "builtin" && a.SHA256 != "" {
			t.Errorf("built-in %s has a checksum", a.Name)
		}
	}
	if !found {
		t.Fatalf("$%s not searched: %v", host.PathEnv, list)
	}
}

// TestBuiltinNameClash: an external component named like a built-in is
// reported and not listed.
func TestBuiltinNameClash(t *testing.T) {
	h := newHost(t, false)
	list, err := h.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "xcbench-plugin-shadow") || !strings.Contains(err.Error(), `sampler "toy" has the name of a built-in`) {
		t.Fatalf("clash not reported: %v", err)
	}
	for _, a := range list {
		if a.Name == "toy" && a.Source != "builtin" {
			t.Fatalf("shadowing plugin listed: %+v", a)
		}
	}
}

// TestPinnedChecksum: go-plugin's SecureConfig refuses a binary whose
// sha256 is not the pinned one, naming the lock file.
func TestPinnedChecksum(t *testing.T) {
	ctx := context.Background()
	good, err := host.FileSHA256(filepath.Join(pluginDir, "xcbench-plugin-ext"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Repeat("0", 64)
	tests := []struct {
		name string
		pins map[string]string
		want string
	}{
		{"matching pin", map[string]string{"sampler/crashy": good}, ""},
		{"changed binary", map[string]string{"sampler/crashy": bad}, "does not match its lock file: binary " + filepath.Join(pluginDir, "xcbench-plugin-ext") + " has sha256 " + good + ", lock file /g/grid.lock.json pins " + bad},
		{"not pinned", map[string]string{}, "not in lock file /g/grid.lock.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, false)
			h.SetPins("/g/grid.lock.json", tc.pins)
			p, err := h.Launch(ctx, sdk.KindSampler, "crashy")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Kill()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if tc.name == "changed binary" && !errors.Is(err, host.ErrChecksumMismatch) {
				t.Fatalf("err %v does not wrap ErrChecksumMismatch", err)
			}
		})
	}
	// Built-ins are part of xcbench itself and need no pin.
	h := newHost(t, false)
	h.SetPins("/g/grid.lock.json", map[string]string{})
	p, err := h.Launch(ctx, sdk.KindSampler, "toy")
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
}

// TestReattach starts a plugin by hand in debug mode, reads the line it
// prints and has the host attach to it instead of starting a process.
func TestReattach(t *testing.T) {
	ctx := context.Background()
	cmd := exec.Command(filepath.Join(pluginDir, "xcbench-plugin-ext"), "serve", "sampler", "crashy")
	cmd.Env = append(os.Environ(), wire.DebugEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := <-exited; err != nil {
			t.Errorf("debug plugin did not exit cleanly on SIGINT: %v", err)
		}
	}()
	sc := bufio.NewScanner(out)
	var line string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export "+wire.ReattachEnv+"="); ok {
			line = strings.Trim(v, "'")
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out); exited <- cmd.Wait() }()
	if line == "" {
		t.Fatal("no reattach line printed")
	}
	ra, err := wire.ParseReattach(line)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the process outlives a host: attach twice
		h := quietHost(t, host.Options{PluginPath: []string{}, Reattach: ra})
		p, err := h.Launch(ctx, sdk.KindSampler, "crashy")
		if err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
		if p.PID != cmd.Process.Pid || !strings.Contains(p.Path, "reattached") {
			t.Fatalf("attached to %+v, want pid %d", p, cmd.Process.Pid)
		}
		if err := p.Impl.Configure(ctx, cfgFor(h, `{}`)); err != nil {
			t.Fatal(err)
		}
		if n, err := runSampler(ctx, p.Impl.(sdk.Sampler)); err != nil || n != 12 {
			t.Fatalf("%d batches, %v", n, err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wire.ParseReattach(`{"sampler": {"Protocol": "grpc"}}`); err == nil {
		t.Error("key without a name accepted")
	}
	if _, err := wire.ParseReattach(`{"sampler/x": {"Protocol": "netrpc", "Addr": {"Network": "unix", "String": "/x"}}}`); err == nil {
		t.Error("netrpc accepted")
	}
}

func TestCheckLock(t *testing.T) {
	a := host.LockEntry{Kind: sdk.KindSampler, Name: "a", Path: "/p/a", Version: "1", SHA256: strings.Repeat("a", 64)}
	a2 := a
	a2.SHA256 = strings.Repeat("b", 64)
	b := host.LockEntry{Kind: sdk.KindEncoder, Name: "b", Path: "/p/b", Version: "1", SHA256: strings.Repeat("c", 64)}
	tests := []struct {
		name        string
		lock        *host.Lock
		cur         []host.LockEntry
		update      bool
		wantChanged bool
		wantPins    map[string]string
		wantErr     string
	}{
		{"first run pins", nil, []host.LockEntry{a}, false, true, map[string]string{"sampler/a": a.SHA256}, ""},
		{"unchanged", &host.Lock{Plugins: []host.LockEntry{a}}, []host.LockEntry{a}, false, false, map[string]string{"sampler/a": a.SHA256}, ""},
		{"new component added", &host.Lock{Plugins: []host.LockEntry{a}}, []host.LockEntry{a, b}, false, true, map[string]string{"sampler/a": a.SHA256, "encoder/b": b.SHA256}, ""},
		{"changed binary refused", &host.Lock{Plugins: []host.LockEntry{a}}, []host.LockEntry{a2}, false, false, nil, "sampler a: plugin binary does not match its lock file: binary /p/a has sha256 bbbb"},
		{"changed binary updated", &host.Lock{Plugins: []host.LockEntry{a}}, []host.LockEntry{a2}, true, true, map[string]string{"sampler/a": a2.SHA256}, ""},
		{"unused pins kept", &host.Lock{Plugins: []host.LockEntry{a, b}}, []host.LockEntry{a}, false, false, map[string]string{"sampler/a": a.SHA256, "encoder/b": b.SHA256}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := host.CheckLock(tc.lock, "/g/x.lock.json", tc.cur, tc.update)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "/g/x.lock.json") || !errors.Is(err, host.ErrChecksumMismatch) {
					t.Fatalf("err %v, want %q naming the file", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed %v, want %v", changed, tc.wantChanged)
			}
			pins := got.Pins()
			if len(pins) != len(tc.wantPins) {
				t.Fatalf("pins %v, want %v", pins, tc.wantPins)
			}
			for k, v := range tc.wantPins {
				if pins[k] != v {
					t.Errorf("pin %s = %s, want %s", k, pins[k], v)
				}
			}
		})
	}
}

func TestLockFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := host.LockPath(filepath.Join(dir, "grid.yaml"))
	if file != filepath.Join(dir, "grid.lock.json") {
		t.Fatalf("LockPath = %s", file)
	}
	if _, err := host.ReadLock(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing lock: %v", err)
	}
	near, far := filepath.Join(dir, "plugins", "xcbench-plugin-z"), "/opt/far/away/xcbench-plugin-a"
	l := &host.Lock{Plugins: []host.LockEntry{{Kind: sdk.KindSampler, Name: "z", Path: near, SHA256: strings.Repeat("1", 64)}, {Kind: sdk.KindEncoder, Name: "a", Path: far, SHA256: strings.Repeat("2", 64)}}}
	if err := l.Write(file); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), `"path": "plugins/xcbench-plugin-z"`) || !strings.Contains(string(b), far) {
		t.Fatalf("lock file paths: want the near one relative, the far one absolute:\n%s", b)
	}
	got, err := host.ReadLock(file)
	if err != nil || len(got.Plugins) != 2 || got.Plugins[0].Name != "a" || got.Plugins[1].Path != near || got.Plugins[0].Path != far {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for _, bad := range []string{`{"version": 2, "plugins": []}`, `{"version": 1, "plugins": [{"kind": "sampler", "name": "x", "sha256": "12"}]}`, `{"version": 1, "extra": 1}`} {
		if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := host.ReadLock(file); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("%s: err %v, want one naming the file", bad, err)
		}
	}
}
