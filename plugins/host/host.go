package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// BinaryPrefix starts the file name of every external plugin binary.
const BinaryPrefix = "xcbench-plugin-"

// PathEnv is the colon-separated list of folders searched for plugins.
const PathEnv = "XCBENCH_PLUGIN_PATH"

// Options configures a Host. Zero values take the documented defaults.
type Options struct {
	// Self is the xcbench binary that serves built-ins (default
	// os.Executable()).
	Self string
	// PluginPath lists folders searched for xcbench-plugin-* binaries,
	// earlier folders first (default: $XCBENCH_PLUGIN_PATH). Nothing else
	// is searched: not the current directory, not ./plugins.d unless named,
	// so a typo in a grid cannot execute whatever lies around.
	PluginPath []string
	// Pins maps "kind/name" of external components to the sha256 (hex)
	// their binary must have; Launch passes it to go-plugin's checksum
	// check and refuses a mismatch naming LockFile. With Pins non-nil an
	// external component without a pin is refused too.
	Pins     map[string]string
	LockFile string
	// Reattach maps "kind/name" to a plugin process started by hand
	// (debugging); default: parsed from $XCBENCH_REATTACH_PLUGINS.
	Reattach map[string]wire.ReattachInfo
	// ScratchDir is where matrices cross between processes (default: a
	// fresh folder under /dev/shm or the temp dir, removed by Close).
	ScratchDir string
	// InProcess builds registry components in this process.
	InProcess bool
	// Logger receives go-plugin's and the plugins' logs (default: hclog
	// at Warn on stderr).
	Logger hclog.Logger
	// KillTimeout bounds Kill, which can block on a hung connection
	// (default 5s); after it the process is SIGKILLed.
	KillTimeout time.Duration
	// DescribeTimeout bounds "<bin> describe" (default 5s).
	DescribeTimeout time.Duration
}

// Available is one launchable component.
type Available struct {
	Kind sdk.Kind `json:"kind"`
	Name string   `json:"name"`
	// Source is "builtin" or "external".
	Source string `json:"source"`
	// Path is the binary that serves it.
	Path string `json:"path"`
	// SHA256 is the external binary's checksum (hex); empty for built-ins.
	SHA256 string   `json:"sha256,omitempty"`
	Info   sdk.Info `json:"info"`
}

// Host launches and tracks plugin processes. It is safe for concurrent use.
type Host struct {
	opts       Options
	log        hclog.Logger
	ownScratch bool

	mu       sync.Mutex
	plugins  []*Plugin
	external []Available // nil until discovered
	broken   []error     // binaries whose describe failed
	sums     map[string]string
	closed   bool
}

// New validates opts and fills in defaults; it starts nothing.
func New(opts Options) (*Host, error) {
	if opts.Self == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("host: locate own binary: %w", err)
		}
		opts.Self = self
	}
	if opts.PluginPath == nil {
		for _, d := range filepath.SplitList(os.Getenv(PathEnv)) {
			if d != "" {
				opts.PluginPath = append(opts.PluginPath, d)
			}
		}
	}
	if opts.Reattach == nil {
		ra, err := wire.ParseReattach(os.Getenv(wire.ReattachEnv))
		if err != nil {
			return nil, fmt.Errorf("host: $%s: %w", wire.ReattachEnv, err)
		}
		opts.Reattach = ra
	}
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "xcbench", Level: hclog.Warn, Output: os.Stderr})
	}
	if opts.KillTimeout <= 0 {
		opts.KillTimeout = 5 * time.Second
	}
	if opts.DescribeTimeout <= 0 {
		opts.DescribeTimeout = 5 * time.Second
	}
	h := &Host{opts: opts, log: opts.Logger, sums: map[string]string{}}
	if opts.ScratchDir == "" {
		base := os.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		}
		sweepStale(base)
		d, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-*", scratchPrefix, os.Getpid()))
		if err != nil {
			return nil, fmt.Errorf("host: scratch dir: %w", err)
		}
		h.opts.ScratchDir, h.ownScratch = d, true
	} else if err := os.MkdirAll(opts.ScratchDir, 0o755); err != nil {
		return nil, fmt.Errorf("host: scratch dir: %w", err)
	}
	return h, nil
}

// ErrUnknownComponent marks a component name that is neither built in nor
// found on the plugin path.
var ErrUnknownComponent = errors.New("unknown component")

// scratchPrefix starts the scratch folders hosts create, followed by the
// creating process's pid, so a later run can tell which ones a killed run
// left behind.
const scratchPrefix = "xcbench-run-"

// sweepStale removes scratch folders in base whose creating process is
// gone: a SIGKILLed run cannot clean up after itself, so the next one does.
func sweepStale(base string) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), scratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid <= 0 {
			continue // not of this naming: leave it alone
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}

// SetPins replaces Options.Pins and Options.LockFile, for the plugins
// launched from now on.
func (h *Host) SetPins(lockFile string, pins map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opts.LockFile, h.opts.Pins = lockFile, pins
}

// ScratchDir is the folder matrices cross through; pass it in sdk.Config.
func (h *Host) ScratchDir() string { return h.opts.ScratchDir }

// List returns every built-in and external component, sorted by kind and
// name, plus an error joining the binaries that failed to describe
// themselves (the list is still complete otherwise).
func (h *Host) List(ctx context.Context) ([]Available, error) {
	var out []Available
	for _, e := range registry.All() {
		info, err := e.New().Describe(ctx)
		if err != nil {
			return nil, fmt.Errorf("host: describe built-in %s %s: %w", e.Kind, e.Name, err)
		}
		out = append(out, Available{Kind: e.Kind, Name: e.Name, Source: "builtin", Path: h.opts.Self, Info: info})
	}
	var broken error
	if !h.opts.InProcess {
		ext, err := h.discover(ctx)
		out = append(out, ext...)
		broken = err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, broken
}

// discover runs "describe" on each xcbench-plugin-* binary once per Host.
func (h *Host) discover(ctx context.Context) ([]Available, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.external != nil {
		return h.external, errors.Join(h.broken...)
	}
	h.external = []Available{}
	seen := map[string]bool{}
	for _, dir := range h.opts.PluginPath {
		matches, _ := filepath.Glob(filepath.Join(dir, BinaryPrefix+"*"))
		sort.Strings(matches)
		for _, path := range matches {
			st, err := os.Stat(path)
			if err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 || seen[filepath.Base(path)] {
				continue // earlier folders shadow later ones, as in $PATH
			}
			seen[filepath.Base(path)] = true
			abs, _ := filepath.Abs(path)
			comps, err := h.describeBinary(ctx, abs)
			if err != nil {
				h.broken = append(h.broken, err)
				continue
			}
			sum, err := FileSHA256(abs)
			if err != nil {
				h.broken = append(h.broken, err)
				continue
			}
			h.sums[abs] = sum
			for _, c := range comps {
				if _, builtin := registry.Lookup(c.Kind, c.Name); builtin {
					h.broken = append(h.broken, fmt.Errorf("plugin binary %s: %s %q has the name of a built-in; rename it (built-ins always win, so it could never run)", abs, c.Kind, c.Name))
					continue
				}
				h.external = append(h.external, Available{Kind: c.Kind, Name: c.Name, Source: "external", Path: abs, SHA256: sum, Info: c.Info})
			}
		}
	}
	return h.external, errors.Join(h.broken...)
}

func (h *Host) describeBinary(ctx context.Context, path string) ([]sdk.Described, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.DescribeTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "describe")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("plugin binary %s: describe did not answer within %s", path, h.opts.DescribeTimeout)
		}
		return nil, fmt.Errorf("plugin binary %s: describe: %v: %s", path, err, firstLine(stderr.String()))
	}
	var comps []sdk.Described
	if err := json.Unmarshal(stdout.Bytes(), &comps); err != nil {
		return nil, fmt.Errorf("plugin binary %s: describe printed no component list (%v): %q", path, err, firstLine(stdout.String()))
	}
	for i, c := range comps {
		if c.Name == "" || (c.Kind != sdk.KindEncoder && c.Kind != sdk.KindSampler && c.Kind != sdk.KindClassifier) {
			return nil, fmt.Errorf("plugin binary %s: describe entry %d has kind %q name %q", path, i, c.Kind, c.Name)
		}
	}
	return comps, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// resolve finds the binary and argv serving kind/name.
func (h *Host) resolve(ctx context.Context, kind sdk.Kind, name string) (path string, args []string, err error) {
	if _, ok := registry.Lookup(kind, name); ok {
		return h.opts.Self, []string{"plugin", "serve", string(kind), name}, nil
	}
	known := registry.Names(kind)
	var broken error
	if !h.opts.InProcess {
		ext, derr := h.discover(ctx)
		broken = derr
		for _, a := range ext {
			if a.Kind == kind && a.Name == name {
				return a.Path, []string{"serve", string(kind), name}, nil
			}
			if a.Kind == kind && !slices.Contains(known, a.Name) {
				known = append(known, a.Name)
			}
		}
	}
	sort.Strings(known)
	msg := fmt.Sprintf("unknown %s %q (known %ss: %s)", kind, name, kind, strings.Join(known, ", "))
	if len(known) == 0 {
		msg = fmt.Sprintf("unknown %s %q (no %ss are available)", kind, name, kind)
	}
	if broken != nil {
		msg += "; some plugin binaries failed: " + strings.ReplaceAll(broken.Error(), "\n", "; ")
	}
	return "", nil, fmt.Errorf("%w: %s", ErrUnknownComponent, msg)
}

// Key is how Pins and Reattach name a component: "kind/name".
func Key(kind sdk.Kind, name string) string { return string(kind) + "/" + name }

// Launch starts kind/name and returns it described and ready to Configure.
// A component listed in Options.Reattach is not started but attached to.
func (h *Host) Launch(ctx context.Context, kind sdk.Kind, name string) (*Plugin, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, errors.New("host: Launch after Close")
	}
	p := &Plugin{Name: name, Kind: kind, host: h}
	var args []string
	ra, reattach := h.opts.Reattach[Key(kind, name)]
	if reattach && !h.opts.InProcess {
		p.Path = fmt.Sprintf("reattached pid %d at %s", ra.Pid, ra.Addr.String)
		if err := h.start(p, nil, &ra, ""); err != nil {
			return nil, err
		}
	} else {
		path, a, err := h.resolve(ctx, kind, name)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		p.Path, args = path, a
		if p.SHA256, err = h.sum(path); err != nil {
			return nil, err
		}
		h.mu.Lock()
		pins, lockFile := h.opts.Pins, h.opts.LockFile
		h.mu.Unlock()
		pin := ""
		if path != h.opts.Self && pins != nil {
			var ok bool
			if pin, ok = pins[Key(kind, name)]; !ok {
				return nil, fmt.Errorf("host: %s %s (%s) is not in lock file %s; run xcbench plugins lock, or xcbench run --update-lock", kind, name, path, lockFile)
			}
		}
		if h.opts.InProcess {
			f, _ := registry.Lookup(kind, name)
			p.PID = os.Getpid()
			p.raw = f()
		} else if err := h.start(p, args, nil, pin); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*Plugin, error) {
		p.Kill()
		return nil, err
	}
	var err error
	if p.Impl, err = guardFor(kind, p.raw, p); err != nil {
		return fail(fmt.Errorf("host: %s %s: %w", kind, name, err))
	}
	if p.Info, err = p.Impl.Describe(ctx); err != nil {
		return fail(fmt.Errorf("host: %w", err))
	}
	if p.Info.Kind != kind || !slices.Contains(p.Info.APIVersions, sdk.APIVersion) {
		return fail(fmt.Errorf("host: %s %s from %s describes itself as kind %q with api versions %v", kind, name, p.Path, p.Info.Kind, p.Info.APIVersions))
	}
	h.mu.Lock()
	h.plugins = append(h.plugins, p)
	h.mu.Unlock()
	return p, nil
}

// start launches p's binary with args, or attaches to ra; pin, when set,
// is the sha256 go-plugin must find for the binary before running it.
func (h *Host) start(p *Plugin, args []string, ra *wire.ReattachInfo, pin string) error {
	p.stderr = newTail(40)
	name := string(p.Kind) + "." + p.Name
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.ClientPlugins(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          true,
		StartTimeout:     30 * time.Second,
		Logger:           h.log.Named(name),
		Stderr:           p.stderr,
	}
	if ra != nil {
		rc, err := ra.Config()
		if err != nil {
			return fmt.Errorf("host: %s %s: $%s: %w", p.Kind, p.Name, wire.ReattachEnv, err)
		}
		cfg.Reattach = rc
		// go-plugin negotiates the plugin set only when it starts the
		// process itself.
		cfg.Plugins = wire.ClientPlugins()[rc.ProtocolVersion]
	} else {
		cmd := exec.Command(p.Path, args...)
		// The plugin's gRPC socket goes in the run's scratch folder, not
		// /tmp, so it goes when the folder does, also after a SIGKILL
		// (the next run sweeps the folder).
		sockets := filepath.Join(h.opts.ScratchDir, "sockets")
		if err := os.MkdirAll(sockets, 0o700); err != nil {
			return fmt.Errorf("host: %w", err)
		}
		cmd.Env = []string{plugin.EnvUnixSocketDir + "=" + sockets}
		cfg.Cmd = cmd
	}
	if pin != "" {
		sum, err := hex.DecodeString(pin)
		if err != nil {
			return fmt.Errorf("host: %s %s: bad pinned sha256 %q", p.Kind, p.Name, pin)
		}
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	c := plugin.NewClient(cfg)
	p.client = c
	rpc, err := c.Client()
	if err != nil {
		p.Kill() // go-plugin cleans up only failures inside Start
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			now, _ := FileSHA256(p.Path)
			h.mu.Lock()
			lockFile := h.opts.LockFile
			h.mu.Unlock()
			return fmt.Errorf("host: %s %s: %w: binary %s has sha256 %s, lock file %s pins %s; if the change is intended: xcbench run --update-lock (or xcbench plugins lock)",
				p.Kind, p.Name, ErrChecksumMismatch, p.Path, now, lockFile, pin)
		}
		return fmt.Errorf("host: %s %s: binary %s is not a usable xcbench plugin: %s", p.Kind, p.Name, p.Path, oneLine(err.Error()))
	}
	if rc := c.ReattachConfig(); rc != nil {
		p.PID = rc.Pid
	}
	if ra != nil {
		p.PID = ra.Pid
	}
	raw, err := rpc.Dispense(string(p.Kind))
	if err != nil {
		p.Kill()
		return fmt.Errorf("host: %s %s: dispense from %s: %s", p.Kind, p.Name, p.Path, oneLine(err.Error()))
	}
	p.raw = raw.(sdk.Plugin)
	return nil
}

// ErrChecksumMismatch: an external plugin binary is not the one its lock
// file pins.
var ErrChecksumMismatch = errors.New("plugin binary does not match its lock file")

// oneLine folds go-plugin's multi-paragraph startup errors into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (h *Host) sum(path string) (string, error) {
	h.mu.Lock()
	s, ok := h.sums[path]
	h.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := FileSHA256(path)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.sums[path] = s
	h.mu.Unlock()
	return s, nil
}

// FileSHA256 is the hex sha256 of a file's contents, as go-plugin's
// SecureConfig computes it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("host: hash %s: %w", path, err)
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", fmt.Errorf("host: hash %s: %w", path, err)
	}
	return hex.EncodeToString(d.Sum(nil)), nil
}

// Close kills every plugin this host launched and removes the scratch dir
// it created. Launch fails afterwards.
func (h *Host) Close() error {
	h.mu.Lock()
	ps := h.plugins
	h.plugins, h.closed = nil, true
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.Kill)
	}
	wg.Wait()
	if h.ownScratch {
		return os.RemoveAll(h.opts.ScratchDir)
	}
	return nil
}

// forget drops a killed plugin from the host's list.
func (h *Host) forget(p *Plugin) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.plugins = slices.DeleteFunc(h.plugins, func(q *Plugin) bool { return q == p })
}

var cleanupOnce sync.Once

// KillAll kills every managed plugin process of every Host in this
// process (go-plugin's CleanupClients); for signal handlers and the end of
// main. Call it at most when the process is about to exit.
func KillAll() { cleanupOnce.Do(plugin.CleanupClients) }
