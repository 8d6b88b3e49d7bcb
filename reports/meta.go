package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// Meta is a report's provenance: what ran, when, where, with which code.
type Meta struct {
	// Fields are name/value lines for the header, in display order.
	Fields  []MetaField          `json:"fields"`
	Plugins []results.PluginInfo `json:"plugins,omitempty"`
	// Datasets are filled by the caller that can read the data (the
	// report command); a report renders whatever is there.
	Datasets []DatasetStats `json:"datasets,omitempty"`
}

// MetaField is one header line.
type MetaField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// DatasetStats is the XC repository's statistics row of a data set.
type DatasetStats struct {
	Name           string  `json:"name"`
	Train          int     `json:"train"`
	Test           int     `json:"test"`
	Labels         int     `json:"labels"`
	Features       int     `json:"features"`
	LabelsPerPoint float64 `json:"labels_per_point"`
	PointsPerLabel float64 `json:"points_per_label"`
	// Note says why the numbers are missing ("folder not found").
	Note string `json:"note,omitempty"`
}

// metaOf reads the header from the manifest: the one place that maps its
// fields, so a field the manifest gains is one line here.
func metaOf(m results.Manifest) Meta {
	var f []MetaField
	add := func(name, value string) {
		if value != "" {
			f = append(f, MetaField{name, value})
		}
	}
	add("grid", m.GridName)
	add("grid file", m.GridFile)
	if m.GridText != "" {
		sum := sha256.Sum256([]byte(m.GridText))
		add("grid sha256", hex.EncodeToString(sum[:]))
	}
	add("cells", strconv.Itoa(len(m.Cells)))
	add("started", stamp(m.Created))
	add("last updated", stamp(m.Updated))
	add("commit", m.GitCommit)
	if m.GitDirty != nil {
		add("uncommitted changes at build", strconv.FormatBool(*m.GitDirty))
	}
	if m.Host.Hostname != "" || m.Host.CPUs > 0 {
		add("host", fmt.Sprintf("%s: %d CPUs, %.1f GiB, %s, %s/%s", m.Host.Hostname, m.Host.CPUs,
			float64(m.Host.MemoryBytes)/(1<<30), m.Host.GoVersion, m.Host.OS, m.Host.Arch))
	}
	return Meta{Fields: f, Plugins: m.Plugins}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Datasets lists the grid's data sets (nil when the manifest has no grid).
func (r *Report) Datasets() []grid.Dataset { return r.datasets }
