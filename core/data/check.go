package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// Check is the cheap part of Open, for validating a grid before anything
// trains: it detects the format and reads the header line of each label
// file (rows, columns; BoW: points, features, labels), requiring the files
// a format needs and the label counts of train and test to agree. It
// reads no rows.
func Check(dir string) error {
	format, err := Detect(dir)
	if err != nil {
		return err
	}
	var files []string
	switch format {
	case "lf-text":
		if firstExisting(dir, "tst_X.txt", "tst.raw.txt") == "" {
			return fmt.Errorf("data: %s: LF text dataset needs tst_X.txt", dir)
		}
		if firstExisting(dir, "lbl_X.txt", "lbl.raw.txt", "Y.txt") == "" {
			return fmt.Errorf("data: %s: LF text dataset needs lbl_X.txt (label texts)", dir)
		}
		files = []string{"trn_X_Y.txt", "tst_X_Y.txt"}
	case "bow":
		files = []string{"train.txt", "test.txt"}
	default:
		return nil // json.gz: no header to read without decompressing
	}
	labels := -1
	for _, name := range files {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		line, err := bufio.NewReader(f).ReadSlice('\n')
		f.Close()
		if err != nil && len(line) == 0 {
			return fmt.Errorf("data: %s: line 1: missing header: %w", p, err)
		}
		want := 2
		if format == "bow" {
			want = 3
		}
		hdr, err := parseInts(line, want)
		if err != nil {
			return fmt.Errorf("data: %s: line 1: header: %w", p, err)
		}
		for _, v := range hdr {
			if v < 0 {
				return fmt.Errorf("data: %s: line 1: negative size in header %v", p, hdr)
			}
		}
		l := int(hdr[len(hdr)-1])
		if labels >= 0 && l != labels {
			return fmt.Errorf("data: %s: %d labels, but %s has %d", p, l, files[0], labels)
		}
		labels = l
	}
	return nil
}
