package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func init() {
	registry.Register(sdk.KindSampler, "toy", toy.NewSampler)
	registry.Register(sdk.KindEncoder, "toy", toy.NewEncoder)
	registry.Register(sdk.KindClassifier, "toy", toy.NewClassifier)
}

// pluginDir holds the built external plugins; set by TestMain.
var pluginDir string

// TestMain doubles as the built-in plugin server (the test binary is the
// host's Self, as xcbench is in production) and builds the external test
// plugin once.
func TestMain(m *testing.M) {
	if len(os.Args) == 5 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		if err := host.ServeBuiltin(os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "xcbench-host-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	{
		bin := filepath.Join(dir, "xcbench-plugin-ext")
		cmd := exec.Command("go", "build", "-o", bin, "./testdata/extplugin")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build test plugin:", err)
			return 1
		}
		for _, alias := range []string{"stdout", "badversion", "shadow"} {
			if err := os.Link(bin, filepath.Join(dir, "xcbench-plugin-"+alias)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		for src, dst := range map[string]string{"notaplugin.sh": "xcbench-plugin-notaplugin", "fakeplugin.sh": "xcbench-plugin-fake"} {
			b, err := os.ReadFile(filepath.Join("testdata", src))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, dst), b, 0o755)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		// Not executable: discovery must skip it.
		if err := os.WriteFile(filepath.Join(dir, "xcbench-plugin-noexec"), []byte("x"), 0o644); err != nil {
			return 1
		}
	}
	pluginDir = dir
	return m.Run()
}

func newHost(t *testing.T, inProcess bool) *host.Host {
	t.Helper()
	h, err := host.New(host.Options{
		PluginPath: []string{pluginDir}, InProcess: inProcess,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// reaped waits until pid is neither running nor a zombie.
func reaped(pid int) bool {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			time.Sleep(20 * time.Millisecond) // zombie: not reaped yet
			continue
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func cfgFor(h *host.Host, params string) sdk.Config {
	return sdk.Config{Seed: 5, Params: json.RawMessage(params), ScratchDir: h.ScratchDir()}
}

func runSampler(ctx context.Context, s sdk.Sampler) (int, error) {
	plan, err := s.Plan(ctx, 0)
	if err != nil {
		return 0, err
	}
	if plan.Refresh {
		if _, err := s.Refresh(ctx, 0, plugintest.RandomUnit(60, 4, 1), plugintest.RandomUnit(24, 4, 2)); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, err := range s.Batches(ctx, 0, 4) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func TestLaunch(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, false)
	tests := []struct {
		name, comp string
		kind       sdk.Kind
		builtin    bool
	}{
		{"builtin sampler", "toy", sdk.KindSampler, true},
		{"external sampler", "crashy", sdk.KindSampler, false},
		{"external classifier", "ext", sdk.KindClassifier, false},
		{"external encoder", "ext", sdk.KindEncoder, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := h.Launch(ctx, tc.kind, tc.comp)
			if err != nil {
				t.Fatal(err)
			}
			if p.PID <= 0 || p.PID == os.Getpid() || len(p.SHA256) != 64 || p.Info.Kind != tc.kind {
				t.Fatalf("plugin %+v", p)
			}
			if isSelf := p.Path == mustExe(t); isSelf != tc.builtin {
				t.Fatalf("path %s, builtin %v", p.Path, tc.builtin)
			}
			if err := p.Impl.Configure(ctx, cfgFor(h, `{}`)); err != nil {
				t.Fatal(err)
			}
			switch tc.kind {
			case sdk.KindSampler:
				n, err := runSampler(ctx, p.Impl.(sdk.Sampler))
				if err != nil || n != 12 { // 48 labelled docs / 4
					t.Fatalf("%d batches, %v", n, err)
				}
			case sdk.KindEncoder:
				m, err := p.Impl.(sdk.Encoder).Encode(ctx, sdk.SplitLabels, nil)
				if err != nil || m.Rows != 24 {
					t.Fatalf("encode: %v %dx%d", err, m.Rows, m.Cols)
				}
			}
			if err := p.ResetPeak(); err != nil {
				t.Fatal(err)
			}
			if peak, err := p.PeakRSS(); err != nil || peak < 1<<20 {
				t.Fatalf("PeakRSS %d, %v", peak, err)
			}
			p.Kill()
			if !reaped(p.PID) {
				t.Fatalf("pid %d still present after Kill", p.PID)
			}
		})
	}
}

func mustExe(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestLaunchErrors(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, false)
	tests := []struct {
		name, comp string
		kind       sdk.Kind
		want       []string
	}{
		{"unknown name lists known", "nope", sdk.KindSampler, []string{`unknown sampler "nope"`, "crashy", "toy", "fake", "xcbench-plugin-notaplugin"}},
		{"handshake garbage", "fake", sdk.KindSampler, []string{"xcbench-plugin-fake", "not a usable xcbench plugin"}},
		{"stdout before handshake", "stdout", sdk.KindSampler, []string{"xcbench-plugin-stdout", "not a usable xcbench plugin"}},
		{"wrong protocol version", "badversion", sdk.KindSampler, []string{"xcbench-plugin-badversion", "not a usable xcbench plugin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Launch(ctx, tc.kind, tc.comp)
			if err == nil {
				t.Fatal("launched")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestCrashMidCall(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, false)
	tests := []struct {
		crash   string
		crashed bool
		want    string
	}{
		{"exit", true, "Batches epoch 0"},
		{"panic", true, "panic: crashy: boom on another goroutine"},
		{"inline", false, "panic in Batches: crashy: inline boom"},
	}
	for _, tc := range tests {
		t.Run(tc.crash, func(t *testing.T) {
			p, err := h.Launch(ctx, sdk.KindSampler, "crashy")
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Impl.Configure(ctx, cfgFor(h, `{"crash":"`+tc.crash+`"}`)); err != nil {
				t.Fatal(err)
			}
			n, err := runSampler(ctx, p.Impl.(sdk.Sampler))
			// A dying process may take batches it already sent with it.
			if err == nil || n > 2 || (!tc.crashed && n != 2) {
				t.Fatalf("%d batches, err %v; want an error after at most 2", n, err)
			}
			if errors.Is(err, sdk.ErrPluginCrashed) != tc.crashed {
				t.Fatalf("errors.Is(ErrPluginCrashed) = %v for %v", !tc.crashed, err)
			}
			for _, w := range []string{"sampler crashy", tc.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.crashed {
				if !reaped(p.PID) {
					t.Fatalf("crashed pid %d not reaped", p.PID)
				}
				return
			}
			if _, err := p.Impl.Describe(ctx); err != nil {
				t.Fatalf("plugin unusable after a recovered panic: %v", err)
			}
		})
	}
}

// TestLargeMatrices moves an 8 MB encoder output plugin->host (as a path),
// hands that path on to a classifier, and sends 6 MB of host data.
func TestLargeMatrices(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, false)
	enc, err := h.Launch(ctx, sdk.KindEncoder, "ext")
	if err != nil {
		t.Fatal(err)
	}
	cls, err := h.Launch(ctx, sdk.KindClassifier, "ext")
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Impl.Configure(ctx, cfgFor(h, `{"dim":1024,"num_docs":2000}`)); err != nil {
		t.Fatal(err)
	}
	if err := cls.Impl.Configure(ctx, cfgFor(h, `{}`)); err != nil {
		t.Fatal(err)
	}
	docs, err := enc.Impl.(sdk.Encoder).Encode(ctx, sdk.SplitTrain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if docs.Path == "" || docs.Data != nil || docs.Rows != 2000 || docs.Cols != 1024 {
		t.Fatalf("8 MB encode came back as %dx%d path %q data %v", docs.Rows, docs.Cols, docs.Path, docs.Data != nil)
	}
	loaded, err := sdk.LoadMatrix(docs)
	if err != nil {
		t.Fatal(err)
	}
	big := plugintest.RandomUnit(1500, 1024, 9) // 6 MB of host data
	queries := sdk.Matrix{Rows: 3, Cols: 1024, Data: loaded.Data[:3*1024]}
	tests := []struct {
		name   string
		labels sdk.Matrix
	}{
		{"encoder path handed on", docs},
		{"host data over npy", big},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cls.Impl.(sdk.Classifier)
			if _, err := c.Train(ctx, sdk.TrainInput{Labels: tc.labels}); err != nil {
				t.Fatal(err)
			}
			top, err := c.Predict(ctx, sdk.SplitTest, queries, 3)
			if err != nil {
				t.Fatal(err)
			}
			if top.Rows != 3 {
				t.Fatalf("%d rows", top.Rows)
			}
			if tc.name == "encoder path handed on" {
				for r := range 3 { // each doc is its own best match
					if l, _ := top.Row(r); l[0] != int32(r) {
						t.Fatalf("row %d best label %d", r, l[0])
					}
				}
			}
		})
	}
}

func TestInProcess(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, true)
	p, err := h.Launch(ctx, sdk.KindSampler, "toy")
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() {
		t.Fatalf("in-process pid %d", p.PID)
	}
	if err := p.Impl.Configure(ctx, cfgFor(h, `{"bogus":1}`)); !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), "sampler toy (in-process): Configure") {
		t.Fatalf("unknown param: %v", err)
	}
	if err := p.Impl.Configure(ctx, cfgFor(h, `{}`)); err != nil {
		t.Fatal(err)
	}
	if n, err := runSampler(ctx, p.Impl.(sdk.Sampler)); err != nil || n != 12 {
		t.Fatalf("%d batches, %v", n, err)
	}
	if _, err := h.Launch(ctx, sdk.KindSampler, "crashy"); err == nil {
		t.Fatal("in-process host launched an external plugin")
	}
}

func TestListAndClose(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, false)
	list, err := h.List(ctx)
	if err == nil || !strings.Contains(err.Error(), "xcbench-plugin-notaplugin") {
		t.Errorf("broken binaries not reported: %v", err)
	}
	got := map[string]string{}
	for _, a := range list {
		got[string(a.Kind)+"/"+a.Name] = a.Source
	}
	want := map[string]string{
		"sampler/toy": "builtin", "encoder/toy": "builtin", "classifier/toy": "builtin",
		"sampler/crashy": "external", "encoder/ext": "external", "classifier/ext": "external",
		"sampler/fake": "external", "sampler/stdout": "external", "sampler/badversion": "external",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: source %q, want %q (list %v)", k, got[k], v, got)
		}
	}
	var pids []int
	for _, name := range []string{"toy", "crashy"} {
		p, err := h.Launch(ctx, sdk.KindSampler, name)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.PID)
	}
	scratch := h.ScratchDir()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !reaped(pid) {
			t.Errorf("pid %d survives Close", pid)
		}
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("scratch dir %s survives Close", scratch)
	}
	if _, err := h.Launch(ctx, sdk.KindSampler, "toy"); err == nil {
		t.Error("Launch after Close succeeded")
	}
}

// BenchmarkLaunch measures start + handshake + Describe + Kill of one
// plugin process.
func BenchmarkLaunch(b *testing.B) {
	ctx := context.Background()
	h, err := host.New(host.Options{PluginPath: []string{pluginDir},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Off, Output: io.Discard})})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	for _, c := range []struct{ name, comp string }{{"builtin-self", "toy"}, {"external", "crashy"}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := h.Launch(ctx, sdk.KindSampler, c.comp)
				if err != nil {
					b.Fatal(err)
				}
				p.Kill()
			}
		})
	}
}
