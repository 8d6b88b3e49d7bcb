package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

// Spec describes a committed report folder: which run it renders, with
// which options, into which formats, and the README template whose claims
// are computed from the run and the other records it names. `xcbench
// report --spec <folder>/report.json` regenerates the folder from it; a
// test regenerates every committed folder and fails on any difference.
type Spec struct {
	// Run is the run folder, relative to the spec's folder.
	Run string `json:"run"`
	// Targets are the P@1 targets per dataset (report --target).
	Targets map[string]float64 `json:"targets,omitempty"`
	// Formats are the table files to write (md, latex, csv, tidy, html).
	Formats []string `json:"formats"`
	// Readme is the README template, relative to the spec's folder;
	// README.md is rendered from it.
	Readme string `json:"readme,omitempty"`
	// Records name other JSON records the template reads (bench runs,
	// anchors), relative to the spec's folder.
	Records map[string]string `json:"records,omitempty"`
	// Inserts render more templates (same data) into other files, between
	// the lines "<!-- begin generated: T -->" and "<!-- end generated: T -->"
	// of the target (T is the template's path relative to the spec's
	// folder): template -> target, both relative to the spec's folder. The
	// top README's results paragraph is one.
	Inserts map[string]string `json:"inserts,omitempty"`
}

// SpecFile is the name of a report folder's spec.
const SpecFile = "report.json"

// LoadSpec reads a spec; path is the spec file or its folder.
func LoadSpec(path string) (Spec, string, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, SpecFile)
	}
	var s Spec
	b, err := os.ReadFile(path)
	if err != nil {
		return s, "", fmt.Errorf("report spec: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, "", fmt.Errorf("report spec %s: %w", path, err)
	}
	if s.Run == "" {
		return s, "", fmt.Errorf("report spec %s: no run folder", path)
	}
	for _, f := range s.Formats {
		if err := CheckFormat(f); err != nil {
			return s, "", fmt.Errorf("report spec %s: %w", path, err)
		}
	}
	return s, filepath.Dir(path), nil
}

// SpecOutputs renders a spec's text files (every format but html, and
// README.md) into memory, keyed by file name, with the loaded report.
// HTML and figures are left to the caller: they embed data set statistics
// read from the data and fonts' rendering, which a regeneration test on a
// machine without the data could not reproduce byte for byte.
func SpecOutputs(dir string, s Spec) (map[string][]byte, *Report, error) {
	rep, err := LoadWith(filepath.Join(dir, s.Run), Options{Targets: s.Targets})
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]byte{}
	for _, f := range s.Formats {
		if f == "html" {
			continue
		}
		var b bytes.Buffer
		if err := Render(&b, rep, f); err != nil {
			return nil, nil, err
		}
		out["report."+Ext[f]] = b.Bytes()
	}
	if s.Readme != "" {
		b, err := renderTemplate(dir, s, s.Readme, rep)
		if err != nil {
			return nil, nil, err
		}
		out["README.md"] = b
	}
	for tmpl, target := range s.Inserts {
		b, err := renderTemplate(dir, s, tmpl, rep)
		if err != nil {
			return nil, nil, err
		}
		old, err := os.ReadFile(filepath.Join(dir, target))
		if err != nil {
			return nil, nil, fmt.Errorf("report insert: %w", err)
		}
		begin, end := "<!-- begin generated: "+tmpl+" -->\n", "<!-- end generated: "+tmpl+" -->"
		i, j := bytes.Index(old, []byte(begin)), bytes.Index(old, []byte(end))
		if i < 0 || j < i {
			return nil, nil, fmt.Errorf("report insert: %s has no %q ... %q lines", target, begin, end)
		}
		var nb bytes.Buffer
		nb.Write(old[:i+len(begin)])
		nb.Write(b)
		nb.Write(old[j:])
		out[target] = nb.Bytes()
	}
	return out, rep, nil
}

// Ext is the file extension each format writes.
var Ext = map[string]string{"md": "md", "term": "txt", "csv": "csv", "latex": "tex", "html": "html", "tidy": "tidy.csv"}

func renderTemplate(dir string, s Spec, name string, rep *Report) ([]byte, error) {
	path := filepath.Join(dir, name)
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report readme: %w", err)
	}
	c := Claims{R: rep, Records: map[string]any{}}
	for name, file := range s.Records {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("report record %s: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("report record %s (%s): %w", name, file, err)
		}
		c.Records[name] = v
	}
	t, err := template.New(name).Funcs(c.TemplateFuncs()).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("report readme %s: %w", path, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("report readme %s: %w", path, err)
	}
	return b.Bytes(), nil
}
