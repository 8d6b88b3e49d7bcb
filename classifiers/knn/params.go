package knn

import (
	"encoding/json"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// DecodeParams is sdk.DecodeParams, kept for the classifiers that call it.
func DecodeParams(raw json.RawMessage, dst any) error { return sdk.DecodeParams(raw, dst) }

// Schema is sdk.Schema.
func Schema(rows ...SchemaParam) json.RawMessage { return sdk.Schema(rows...) }

// SchemaParam is sdk.Param.
type SchemaParam = sdk.Param
