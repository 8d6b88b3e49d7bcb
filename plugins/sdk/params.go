package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// This file is the one implementation of component parameters: strict
// decoding of Config.Params into a struct of defaults (DecodeParams) and the
// Info.ConfigSchema built from the same struct or from literal rows
// (ParamsOf, Schema). Both walk a struct's fields the same way, so the keys
// a schema documents are exactly the keys DecodeParams accepts.
//
// A field's key is its json tag name, else its koanf tag name, else the Go
// field name; "-" skips it. An embedded struct without a name of its own
// (or tagged ",squash") contributes its fields at the same level.

// Param is one documented parameter of a ConfigSchema.
type Param struct {
	Name    string `json:"-"`
	Type    string `json:"type"`
	Default any    `json:"default"`
	Doc     string `json:"doc"`
}

// Schema renders params as the ConfigSchema JSON object
// (name -> {"type", "default", "doc"}). The rows are static literals, so a
// default that JSON cannot hold (NaN, a channel) is a programming error and
// panics; every component's Describe test catches it.
func Schema(params ...Param) json.RawMessage {
	m := make(map[string]Param, len(params))
	for _, p := range params {
		m[p.Name] = p
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("sdk.Schema: %v", err))
	}
	return b
}

// ParamsOf lists the parameters of defaults (a struct or pointer to one,
// holding the default values) with a doc per key. It fails when a field has
// no doc or a doc names no field, so the schema cannot drift from the
// struct, and on field types a schema cannot name.
func ParamsOf(defaults any, docs map[string]string) ([]Param, error) {
	fields, err := paramFields(reflect.TypeOf(defaults))
	if err != nil {
		return nil, err
	}
	v := reflect.Indirect(reflect.ValueOf(defaults))
	out := make([]Param, 0, len(fields))
	seen := map[string]bool{}
	for _, f := range fields {
		doc, ok := docs[f.key]
		if !ok {
			return nil, fmt.Errorf("schema: param %q has no doc", f.key)
		}
		typ := typeName(f.typ)
		if typ == "" {
			return nil, fmt.Errorf("schema: param %q has unsupported type %s", f.key, f.typ)
		}
		seen[f.key] = true
		out = append(out, Param{Name: f.key, Type: typ, Default: v.FieldByIndex(f.index).Interface(), Doc: doc})
	}
	var extra []string
	for k := range docs {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("schema: docs for unknown params %v", extra)
	}
	return out, nil
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.String:
		return "string"
	case reflect.Slice:
		if e := typeName(t.Elem()); e != "" && t.Elem().Kind() != reflect.Slice {
			return "list of " + e
		}
	}
	return ""
}

// DecodeParams decodes raw (a JSON object; empty or null keeps every
// default) into dst, a pointer to a struct already holding the defaults.
// It is strict: an unknown key, a value of the wrong type, a fractional
// number for an integer and trailing data are errors that wrap
// ErrInvalidConfig and name the key. Keys absent from raw keep their
// defaults.
func DecodeParams(raw json.RawMessage, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sdk.DecodeParams: dst is %T, want a pointer to a struct", dst)
	}
	fields, err := paramFields(rv.Type())
	if err != nil {
		return err
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("%w: params must be a JSON object: %v", ErrInvalidConfig, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: params: trailing data after the JSON object", ErrInvalidConfig)
	}
	byKey := make(map[string]paramField, len(fields))
	for _, f := range fields {
		byKey[f.key] = f
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the first bad key deterministically
	for _, k := range keys {
		f, ok := byKey[k]
		if !ok {
			known := make([]string, 0, len(fields))
			for _, f := range fields {
				known = append(known, f.key)
			}
			sort.Strings(known)
			return fmt.Errorf("%w: unknown parameter %q (known: %s)", ErrInvalidConfig, k, strings.Join(known, ", "))
		}
		if err := decodeValue(obj[k], rv.Elem().FieldByIndex(f.index)); err != nil {
			return fmt.Errorf("%w: parameter %q: %v", ErrInvalidConfig, k, err)
		}
	}
	return nil
}

// decodeValue sets v from one JSON value. Integers also accept integral
// numbers written with a fraction or exponent (YAML's 1e3), since a grid
// file cannot always control how its numbers are spelled; a fractional
// value is refused rather than truncated.
func decodeValue(raw json.RawMessage, v reflect.Value) error {
	tmp := reflect.New(v.Type())
	tmp.Elem().Set(v)
	err := json.Unmarshal(raw, tmp.Interface())
	if err != nil && isInt(v.Kind()) {
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return fmt.Errorf("%v is not an integer", f)
			}
			err = json.Unmarshal([]byte(fmt.Sprintf("%d", int64(f))), tmp.Interface())
		}
	}
	if err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return fmt.Errorf("want %s, got JSON %s", typeName(v.Type()), te.Value)
		}
		return err
	}
	v.Set(tmp.Elem())
	return nil
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

type paramField struct {
	key   string
	index []int
	typ   reflect.Type
}

// paramFields walks a struct type's exported fields in declaration order,
// flattening embedded structs; duplicate keys are a programming error.
func paramFields(t reflect.Type) ([]paramField, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("sdk: params must be a struct, got %v", t)
	}
	var out []paramField
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int) error
	walk = func(t reflect.Type, index []int) error {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(append([]int(nil), index...), i)
			name, squash := fieldKey(f)
			if name == "-" {
				continue
			}
			if squash {
				if err := walk(f.Type, idx); err != nil {
					return err
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if seen[name] {
				return fmt.Errorf("sdk: params struct %s has key %q twice", t, name)
			}
			seen[name] = true
			out = append(out, paramField{key: name, index: idx, typ: f.Type})
		}
		return nil
	}
	return out, walk(t, nil)
}

// fieldKey returns a field's parameter key, or squash for an embedded
// struct whose fields belong to the enclosing level.
func fieldKey(f reflect.StructField) (name string, squash bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		tag, ok = f.Tag.Lookup("koanf")
	}
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",squash,") || (f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct) {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}
