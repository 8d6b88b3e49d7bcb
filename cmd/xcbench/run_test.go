package main

import (
	"testing"

	"github.com/xcbench/xcbench/core/grid"
)

func TestShardCells(t *testing.T) {
	cells := make([]grid.Cell, 5)
	for i := range cells {
		cells[i].ID = string(rune('a' + i))
	}
	tests := []struct {
		shard   string
		want    string
		wantErr bool
	}{
		{"0/1", "abcde", false},
		{"0/2", "ace", false},
		{"1/2", "bd", false},
		{"2/3", "c", false},
		{"2/2", "", true},
		{"x", "", true},
		{"0/0", "", true},
	}
	for _, tc := range tests {
		got, err := shardCells(cells, tc.shard)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: err %v", tc.shard, err)
		}
		ids := ""
		for _, c := range got {
			ids += c.ID
		}
		if ids != tc.want {
			t.Errorf("%s: got %q, want %q", tc.shard, ids, tc.want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]float64
		wantErr bool
	}{
		{"", nil, false},
		{"0.6", map[string]float64{"": 0.6}, false},
		{"cooking=0.68, bibtex=0.6", map[string]float64{"cooking": 0.68, "bibtex": 0.6}, false},
		{"cooking=68", nil, true},
		{"cooking=x", nil, true},
	}
	for _, tc := range tests {
		got, err := parseTargets(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%q: got %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s = %v, want %v", tc.in, k, got[k], v)
			}
		}
	}
}
