package results

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRecordsSurviveTornLine(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cell("abc")
	for e := range 3 {
		if err := c.Append(Record{Cell: "abc", Stage: StageM1, Epoch: e, Loss: float64(e), Wall: map[string]float64{"train": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// A crash mid-append leaves a partial line without its newline.
	f, _ := os.OpenFile(filepath.Join(c.Dir, "epochs.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"cell":"abc","stage":"m1","epo`)
	f.Close()

	tests := []struct {
		name  string
		keep  int
		wantN int
	}{{"all complete records", 5, 3}, {"through epoch 1", 1, 2}, {"nothing", -1, 0}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := c.Records()
			if err != nil {
				t.Fatal(err)
			}
			if tc.keep >= 2 && len(recs) != 3 {
				t.Fatalf("read %d records, want 3 (torn line dropped)", len(recs))
			}
			kept, err := c.KeepThrough(tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := c.Records()
			if len(kept) != tc.wantN || len(again) != tc.wantN {
				t.Fatalf("kept %d, file has %d, want %d", len(kept), len(again), tc.wantN)
			}
		})
	}
}

func TestStatusAndCheckpoint(t *testing.T) {
	s, _ := Open(t.TempDir())
	c := s.Cell("x")
	st, err := c.Status()
	if err != nil || st.State != "" || st.Epoch != -1 {
		t.Fatalf("fresh status = %+v, %v", st, err)
	}
	if err := c.SetStatus(Status{State: StateFailed, Error: "boom", Epoch: 2}); err != nil {
		t.Fatal(err)
	}
	if st, _ = c.Status(); st.State != StateFailed || st.Error != "boom" {
		t.Fatalf("status round trip: %+v", st)
	}
	if _, e, _ := c.LastCheckpoint(); e != -1 {
		t.Fatalf("checkpoint before any save: epoch %d", e)
	}
	for e := range 3 {
		err := c.SaveCheckpoint(e, func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "w"), []byte{byte(e)}, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	dir, e, err := c.LastCheckpoint()
	if err != nil || e != 2 {
		t.Fatalf("last checkpoint epoch %d, %v", e, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "w"))
	if len(b) != 1 || b[0] != 2 {
		t.Fatalf("checkpoint content %v", b)
	}
	// A save that fails leaves the previous checkpoint in place.
	_ = c.SaveCheckpoint(3, func(string) error { return os.ErrPermission })
	if _, e, _ = c.LastCheckpoint(); e != 2 {
		t.Fatalf("failed save replaced the checkpoint: epoch %d", e)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	s, _ := Open(t.TempDir())
	m := Manifest{GridName: "g", Seeds: []uint64{1, 2}, Host: CollectHost()}
	if err := s.WriteManifest(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadManifest()
	if err != nil || got.GridName != "g" || len(got.Seeds) != 2 || got.Host.CPUs == 0 {
		t.Fatalf("manifest %+v %v", got, err)
	}
}
