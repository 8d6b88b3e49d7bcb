package data

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// ReadLines reads one text per line (the line number is the id). Text must
// be UTF-8; a trailing "\r" is dropped.
func ReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLines(bufio.NewReaderSize(f, 1<<20), path)
}

func readLines(r io.Reader, name string) ([]string, error) {
	sc := newScanner(r)
	var out []string
	for sc.Scan() {
		b := sc.Bytes()
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("%s: line %d: text is not valid UTF-8", name, len(out)+1)
		}
		out = append(out, string(b))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, len(out)+1, err)
	}
	return out, nil
}

// WriteLines writes one text per line; texts must not contain newlines.
func WriteLines(path string, texts []string) error {
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		for i, t := range texts {
			if strings.ContainsAny(t, "\r\n") {
				return fmt.Errorf("text %d contains a newline", i)
			}
			bw.WriteString(t)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	})
}

// JSONRecord is one line of an LF raw-text release (trn.json.gz etc.).
type JSONRecord struct {
	UID       any       `json:"uid"`
	Title     string    `json:"title"`
	Content   string    `json:"content"`
	TargetInd []int32   `json:"target_ind"`
	TargetRel []float32 `json:"target_rel"`
}

// ReadJSONGz reads a gzip file of one JSON object per line. The text of a
// record is the title alone when titleOnly (dataset names containing
// "title"), else title + " " + content, as the reference
// extract_text_and_labels.py does; target_rel is ignored (every label 1).
func ReadJSONGz(path string, titleOnly bool) (texts []string, labels [][]int32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	sc := newScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			return nil, nil, fmt.Errorf("%s: line %d: not valid UTF-8", path, line)
		}
		var rec JSONRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		t := rec.Title
		if !titleOnly {
			t = rec.Title + " " + rec.Content
		}
		// Keep texts one-line so they can be written as *.raw.txt.
		t = strings.Join(strings.Fields(t), " ")
		texts = append(texts, t)
		labels = append(labels, rec.TargetInd)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: line %d: %w", path, line+1, err)
	}
	return texts, labels, nil
}
