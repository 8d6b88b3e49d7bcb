package main

import (
	"reflect"
	"testing"
)

func TestLargestWithin(t *testing.T) {
	rs := []BenchResult{
		{Sampler: "ngame", BatchSize: 128, Steps: 5, EncoderPeakMiB: 100},
		{Sampler: "ngame", BatchSize: 512, Steps: 5, EncoderPeakMiB: 180},
		{Sampler: "ance", BatchSize: 128, Steps: 5, EncoderPeakMiB: 150},
		{Sampler: "ance", BatchSize: 512, Steps: 5, EncoderPeakMiB: 400},
		{Sampler: "random", BatchSize: 128, Steps: 5, EncoderPeakMiB: 90, Error: "boom"},
	}
	tests := []struct {
		budget float64
		want   map[string]int
	}{
		{200, map[string]int{"ngame": 512, "ance": 128, "random": 0}},
		{120, map[string]int{"ngame": 128, "ance": 0, "random": 0}},
		{1000, map[string]int{"ngame": 512, "ance": 512, "random": 0}},
	}
	for _, tc := range tests {
		if got := largestWithin(rs, tc.budget); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("budget %v: got %v, want %v", tc.budget, got, tc.want)
		}
	}
}
