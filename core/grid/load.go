package grid

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
	yamlv3 "go.yaml.in/yaml/v3"
)

// EnvPrefix starts the environment variables that override grid keys.
const EnvPrefix = "XCBENCH_"

// LoadOptions are the layers above the grid file.
type LoadOptions struct {
	// Environ is the environment (nil = os.Environ()).
	Environ []string
	// Flags, when set, contributes the flags registered by AddFlags that
	// the user changed.
	Flags *pflag.FlagSet
}

// flagKeys maps AddFlags' dedicated flags to grid keys.
var flagKeys = map[string]string{"epochs": "epochs", "batch-size": "batch_size", "seeds": "seeds"}

// AddFlags registers the override flags Load understands.
func AddFlags(fs *pflag.FlagSet) {
	fs.Int("epochs", 0, "override the grid's epochs")
	fs.Int("batch-size", 0, "override the grid's batch_size")
	fs.StringSlice("seeds", nil, "override the grid's seeds (comma-separated)")
	fs.StringArray("set", nil, "override any grid key: --set sampler.params.clusters=16 (value parsed as YAML; repeatable)")
}

// defaults are loaded under the file so zero values mean "unset"; a fresh
// map each time, since koanf merges into the maps it is given.
func defaults() map[string]any {
	return map[string]any{
		"eval": map[string]any{"every": 1, "k": []any{1, 3, 5}, "at_end": true},
	}
}

// Load reads a grid file with its env and flag overrides and validates it.
func Load(path string, o LoadOptions) (*Grid, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("grid %s: %w", path, err)
	}
	text, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	return Parse(abs, text, o)
}

// Parse is Load on text already read; file names the grid in errors and
// anchors relative dataset dirs (it need not exist).
func Parse(file string, text []byte, o LoadOptions) (*Grid, error) {
	k := koanf.New(".")
	for key, v := range defaults() {
		if err := k.Set(key, v); err != nil {
			return nil, err
		}
	}
	// koanf's file provider would re-read; the raw bytes are already here.
	fileMap, err := yaml.Parser().Unmarshal(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrInvalid, err)
	}
	if err := k.Load(rawMap(fileMap), nil); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := loadEnv(k, o.Environ); err != nil {
		return nil, err
	}
	if o.Flags != nil {
		if err := loadFlags(k, o.Flags); err != nil {
			return nil, err
		}
	}
	raw := k.Raw()
	flattenAxes(raw)
	var g Grid
	if err := decodeStrict(raw, &g); err != nil {
		return nil, describeDecodeError(err, file, text)
	}
	g.File, g.Source = file, string(text)
	if err := g.validate(); err != nil {
		return nil, err
	}
	g.resolveDirs()
	return &g, nil
}

// rawMap is a koanf provider over a ready map.
type rawMap map[string]any

func (m rawMap) Read() (map[string]any, error) { return m, nil }
func (m rawMap) ReadBytes() ([]byte, error)    { return nil, fmt.Errorf("rawMap: no bytes") }

// topKeys are the grid's top-level keys, the only ones env may set (other
// XCBENCH_* variables such as XCBENCH_DATA belong to other subsystems).
func topKeys() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[Grid]()
	for i := range t.NumField() {
		// plugin_path is left out: XCBENCH_PLUGIN_PATH is the plugin
		// search path of its own, searched after the grid's plugin_path.
		if tag := t.Field(i).Tag.Get("koanf"); tag != "" && tag != "-" && tag != "plugin_path" {
			out[tag] = true
		}
	}
	return out
}

func loadEnv(k *koanf.Koanf, environ []string) error {
	if environ == nil {
		environ = os.Environ()
	}
	top := topKeys()
	var perr error
	p := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) {
			key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
			if !top[strings.SplitN(key, ".", 2)[0]] {
				return "", nil
			}
			val, err := parseValue(v)
			if err != nil && perr == nil {
				perr = fmt.Errorf("env %s: %w: %w", name, ErrInvalid, err)
			}
			return key, val
		},
	})
	if err := k.Load(p, nil); err != nil {
		return fmt.Errorf("grid env: %w", err)
	}
	return perr
}

func loadFlags(k *koanf.Koanf, fs *pflag.FlagSet) error {
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok {
			return "", nil
		}
		return key, posflag.FlagVal(fs, f)
	})
	if err := k.Load(p, nil); err != nil {
		return fmt.Errorf("grid flags: %w", err)
	}
	sets, err := fs.GetStringArray("set")
	if err != nil {
		return nil // --set not registered on this flag set
	}
	for _, s := range sets {
		key, v, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return fmt.Errorf("--set %q: %w: want key=value", s, ErrInvalid)
		}
		val, err := parseValue(v)
		if err != nil {
			return fmt.Errorf("--set %s: %w: %w", key, ErrInvalid, err)
		}
		if err := k.Set(key, val); err != nil {
			return fmt.Errorf("--set %s: %w", key, err)
		}
	}
	return nil
}

// parseValue reads an override as YAML so "3", "true", "[1,2]" and
// "{a: 1}" keep their types.
func parseValue(s string) (any, error) {
	var v any
	if err := yamlv3.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if v == nil {
		return s, nil
	}
	return v, nil
}

func decoderConfig(out any) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		TagName:          "koanf",
		DecodeHook:       mapstructure.ComposeDecodeHookFunc(StrictNumbers, mapstructure.StringToTimeDurationHookFunc()),
		Result:           out,
	}
}

// StrictNumbers is a mapstructure decode hook that refuses the conversions mapstructure would make silently:
// a fraction into an integer (batch_size: 12.5 -> 12), a negative number
// into an unsigned one (seeds: [-1] -> 2^64-1), and NaN or infinities.
func StrictNumbers(_ reflect.Type, to reflect.Type, v any) (any, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		return v, nil
	default:
		return v, nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v is not a finite number", v)
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if to == reflect.TypeFor[time.Duration]() {
			return v, nil
		}
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("%v is not an integer", v)
		}
		if f < 0 && to.Kind() >= reflect.Uint && to.Kind() <= reflect.Uint64 {
			return nil, fmt.Errorf("%v is negative", v)
		}
	}
	return v, nil
}

func decodeStrict(in any, out any) error {
	d, err := mapstructure.NewDecoder(decoderConfig(out))
	if err != nil {
		return err
	}
	return d.Decode(in)
}

var (
	invalidKeysRe = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)
	// mapstructure's type and hook errors: "'batch_size' expected type
	// 'int', got ..." or "error decoding 'seeds[0]': -1 is negative".
	fieldErrRe = regexp.MustCompile(`(?:error decoding )?'([^']+)'[: ]\s*([^\n]+)`)
)

// describeDecodeError turns mapstructure's "'eval' has invalid keys: evry"
// into "grid.yaml:12: unknown key eval.evry".
func describeDecodeError(err error, file string, text []byte) error {
	ms := invalidKeysRe.FindAllStringSubmatch(err.Error(), -1)
	lines := KeyLines(text)
	if len(ms) == 0 {
		var msgs []string
		for _, m := range fieldErrRe.FindAllStringSubmatch(err.Error(), -1) {
			path, msg := m[1], strings.TrimSpace(m[2])
			if ln, ok := lines[path]; ok {
				msgs = append(msgs, fmt.Sprintf("%s:%d: %s: %s", file, ln, path, msg))
			} else if ln, ok := lines[strings.SplitN(path, "[", 2)[0]]; ok {
				msgs = append(msgs, fmt.Sprintf("%s:%d: %s: %s", file, ln, path, msg))
			} else {
				msgs = append(msgs, fmt.Sprintf("%s: %s: %s (set by env or flags)", file, path, msg))
			}
		}
		if len(msgs) == 0 {
			return fmt.Errorf("%s: %w: %w", file, ErrInvalid, err)
		}
		sort.Strings(msgs)
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
	}
	var msgs []string
	for _, m := range ms {
		for _, key := range strings.Split(m[2], ", ") {
			path := key
			if m[1] != "" && m[1] != reflect.TypeFor[Grid]().String() {
				path = m[1] + "." + key
			}
			if ln, ok := lines[path]; ok {
				msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q", file, ln, path))
			} else {
				msgs = append(msgs, fmt.Sprintf("%s: unknown key %q (set by env or flags)", file, path))
			}
		}
	}
	sort.Strings(msgs)
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
}

// KeyLines maps every mapping key path in the YAML text, in mapstructure's
// spelling ("datasets[0].name"), to its 1-based line.
func KeyLines(text []byte) map[string]int {
	out := map[string]int{}
	var root yamlv3.Node
	if yamlv3.Unmarshal(text, &root) != nil {
		return out
	}
	var walk func(n *yamlv3.Node, path string)
	walk = func(n *yamlv3.Node, path string) {
		switch n.Kind {
		case yamlv3.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if _, dup := out[p]; !dup {
					out[p] = n.Content[i].Line
				}
				walk(n.Content[i+1], p)
			}
		case yamlv3.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(&root, "")
	return out
}

// flattenAxes spells matrix, include and exclude keys as dotted paths,
// whichever way they were written: YAML keeps "sampler.name" literal, while
// env and flag overrides arrive nested.
func flattenAxes(raw map[string]any) {
	if m, ok := raw["matrix"].(map[string]any); ok {
		raw["matrix"] = flatten(m, "", func(v any) bool { _, isList := v.([]any); return isList })
	}
	for _, key := range []string{"include", "exclude"} {
		list, ok := raw[key].([]any)
		if !ok {
			continue
		}
		for i, e := range list {
			if m, ok := e.(map[string]any); ok {
				list[i] = flatten(m, "", func(any) bool { return false })
			}
		}
	}
}

// flatten joins nested map keys with dots, stopping at values leaf accepts
// and at non-maps.
func flatten(m map[string]any, prefix string, leaf func(any) bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && !leaf(v) {
			for fk, fv := range flatten(sub, key, leaf) {
				out[fk] = fv
			}
			continue
		}
		out[key] = v
	}
	return out
}
