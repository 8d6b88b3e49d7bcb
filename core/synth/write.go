package synth

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xcbench/xcbench/core/data"
)

// Write writes ds as LF text files (trn_X.txt, tst_X.txt, lbl_X.txt,
// trn_X_Y.txt, tst_X_Y.txt, filter files when set) that data.Open reads.
func Write(dir string, ds *data.Dataset) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	steps := []struct {
		name string
		f    func(string) error
	}{
		{"trn_X.txt", func(p string) error { return data.WriteLines(p, ds.TrainText) }},
		{"tst_X.txt", func(p string) error { return data.WriteLines(p, ds.TestText) }},
		{"lbl_X.txt", func(p string) error { return data.WriteLines(p, ds.LabelText) }},
		{"trn_X_Y.txt", func(p string) error { return data.WriteSparseFile(p, ds.TrainY) }},
		{"tst_X_Y.txt", func(p string) error { return data.WriteSparseFile(p, ds.TestY) }},
	}
	if ds.FilterTest != nil {
		steps = append(steps, struct {
			name string
			f    func(string) error
		}{"filter_labels_test.txt", func(p string) error { return data.WriteFilter(p, ds.FilterTest) }})
	}
	for _, s := range steps {
		if err := s.f(filepath.Join(dir, s.name)); err != nil {
			return fmt.Errorf("synth: write %s: %w", s.name, err)
		}
	}
	return nil
}

// Stream generates the dataset of c straight into LF text files in dir,
// holding only the label structure in memory, so 1M-point datasets need
// little RAM. The files equal Write(dir, Generate(c)).
func Stream(ctx context.Context, dir string, c Config) error {
	if err := c.Check(); err != nil {
		return err
	}
	c = c.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := newGenerator(c)
	lbl := make([]string, c.Labels)
	for l := range lbl {
		lbl[l] = g.labelText(l)
	}
	if err := data.WriteLines(filepath.Join(dir, "lbl_X.txt"), lbl); err != nil {
		return err
	}
	for _, split := range []struct {
		prefix string
		n      int
	}{{"trn", c.TrainDocs}, {"tst", c.TestDocs}} {
		if err := g.streamSplit(ctx, dir, split.prefix, split.n); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) streamSplit(ctx context.Context, dir, prefix string, n int) error {
	xf, err := os.Create(filepath.Join(dir, prefix+"_X.txt"))
	if err != nil {
		return err
	}
	defer xf.Close()
	yf, err := os.Create(filepath.Join(dir, prefix+"_X_Y.txt"))
	if err != nil {
		return err
	}
	defer yf.Close()
	xw, yw := bufio.NewWriterSize(xf, 1<<20), bufio.NewWriterSize(yf, 1<<20)
	fmt.Fprintf(yw, "%d %d\n", n, g.c.Labels)
	var buf []byte
	for i := 0; i < n; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		labs, text := g.doc()
		xw.WriteString(text)
		xw.WriteByte('\n')
		buf = buf[:0]
		for k, l := range labs {
			if k > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendInt(buf, int64(l), 10)
			buf = append(buf, ":1"...)
		}
		buf = append(buf, '\n')
		yw.Write(buf)
	}
	if err := xw.Flush(); err != nil {
		return err
	}
	if err := yw.Flush(); err != nil {
		return err
	}
	if err := xf.Close(); err != nil {
		return err
	}
	return yf.Close()
}
