package sdk

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type innerParams struct {
	LR    float64 `koanf:"lr"`
	Steps int     `koanf:"steps"`
}

type jsonInner struct {
	K int `json:"k"`
}

// testParams mixes the tag styles the components use: json tags, koanf
// tags with a squashed embedded struct, and an untagged embedded struct.
type testParams struct {
	jsonInner
	Mode        string `json:"mode"`
	Epochs      []int  `json:"epochs"`
	Flag        bool   `json:"flag"`
	innerParams `koanf:",squash"`
	Skipped     int `json:"-"`
}

func defaults() testParams {
	return testParams{jsonInner: jsonInner{K: 3}, Mode: "a", Epochs: []int{1}, innerParams: innerParams{LR: 0.1, Steps: 10}}
}

func TestDecodeParams(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    func(*testParams)
		wantErr string
	}{
		{"empty keeps defaults", "", nil, ""},
		{"null keeps defaults", " null ", nil, ""},
		{"empty object", "{}", nil, ""},
		{"override json tag", `{"mode": "b"}`, func(p *testParams) { p.Mode = "b" }, ""},
		{"override untagged embedded", `{"k": 5}`, func(p *testParams) { p.K = 5 }, ""},
		{"override squashed koanf", `{"lr": 0.5, "steps": 7}`, func(p *testParams) { p.LR, p.Steps = 0.5, 7 }, ""},
		{"integral exponent for int", `{"steps": 1e3}`, func(p *testParams) { p.Steps = 1000 }, ""},
		{"list", `{"epochs": [2, 4]}`, func(p *testParams) { p.Epochs = []int{2, 4} }, ""},
		{"null value keeps default", `{"k": null}`, nil, ""},
		{"unknown key named with the known ones", `{"kk": 5}`, nil, `unknown parameter "kk" (known: epochs, flag, k, lr, mode, steps)`},
		{"skipped field is unknown", `{"Skipped": 1}`, nil, `unknown parameter "Skipped"`},
		{"wrong type", `{"k": "x"}`, nil, `parameter "k": want int, got JSON string`},
		{"fraction for int", `{"steps": 1.5}`, nil, `parameter "steps": 1.5 is not an integer`},
		{"bool from number", `{"flag": 1}`, nil, `parameter "flag": want bool`},
		{"trailing", `{"k": 1} {}`, nil, "trailing data"},
		{"not an object", `[1]`, nil, "must be a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := defaults()
			err := DecodeParams(json.RawMessage(tc.raw), &p)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidConfig containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("got %+v, want %+v", p, want)
			}
		})
	}
	if err := DecodeParams(nil, testParams{}); err == nil {
		t.Fatal("non-pointer dst accepted")
	}
}

func TestParamsOfAndSchema(t *testing.T) {
	docs := map[string]string{"k": "neighbours", "mode": "m", "epochs": "e", "flag": "f", "lr": "rate", "steps": "s"}
	ps, err := ParamsOf(defaults(), docs)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(Schema(ps...), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"k":      {"type": "int", "default": 3.0, "doc": "neighbours"},
		"mode":   {"type": "string", "default": "a", "doc": "m"},
		"epochs": {"type": "list of int", "default": []any{1.0}, "doc": "e"},
		"flag":   {"type": "bool", "default": false, "doc": "f"},
		"lr":     {"type": "float", "default": 0.1, "doc": "rate"},
		"steps":  {"type": "int", "default": 10.0, "doc": "s"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema %v\nwant %v", got, want)
	}
	// Every key the schema documents is one DecodeParams accepts.
	for k := range got {
		p := defaults()
		raw, _ := json.Marshal(map[string]any{k: want[k]["default"]})
		if err := DecodeParams(raw, &p); err != nil {
			t.Errorf("schema key %q refused by DecodeParams: %v", k, err)
		}
	}
	delete(docs, "lr")
	if _, err := ParamsOf(defaults(), docs); err == nil || !strings.Contains(err.Error(), `"lr" has no doc`) {
		t.Fatalf("missing doc: err %v", err)
	}
	docs["lr"], docs["bogus"] = "x", "y"
	if _, err := ParamsOf(defaults(), docs); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("doc for unknown param: err %v", err)
	}
	type dup struct {
		A int `json:"a"`
		B int `koanf:"a"`
	}
	if _, err := ParamsOf(dup{}, map[string]string{"a": ""}); err == nil {
		t.Fatal("duplicate key accepted")
	}
}
