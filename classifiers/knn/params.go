package knn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// DecodeParams decodes raw into dst (which holds the defaults) and rejects
// unknown keys and trailing data; errors wrap sdk.ErrInvalidConfig and name
// the offending key.
func DecodeParams(raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return fmt.Errorf("%w: unknown parameter %s", sdk.ErrInvalidConfig, k)
		}
		return fmt.Errorf("%w: params: %v", sdk.ErrInvalidConfig, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: params: trailing data after the JSON object", sdk.ErrInvalidConfig)
	}
	return nil
}

// Schema renders a ConfigSchema from (name, type, default, doc) rows.
func Schema(rows ...SchemaParam) json.RawMessage {
	m := make(map[string]SchemaParam, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only static literals reach here
	}
	return b
}

// SchemaParam is one documented parameter.
type SchemaParam struct {
	Name    string `json:"-"`
	Type    string `json:"type"`
	Default any    `json:"default"`
	Doc     string `json:"doc"`
}
