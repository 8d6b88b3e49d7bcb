package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xcbench/xcbench/core/sparse"
)

// cached is what a tokenisation cache file holds.
type cached struct {
	Vocab                       []string
	TrainX, TestX, LabelX       *sparse.CSR
	TrainTok, TestTok, LabelTok [][]int32
	TokVocab                    []string
}

// CachePath returns the cache file Open would use for dir and opts, and
// whether caching is enabled. The key covers the options that change the
// output and the name, size and modification time of every input file, so
// editing a setting or a file invalidates it. The file lives in
// <dir>/.xcbench-cache when that is writable, else in
// $XDG_CACHE_HOME/xcbench (~/.cache/xcbench), unless opts.CacheDir says.
func CachePath(dir string, opts Options, inputs []string) (string, bool) {
	opts = opts.withDefaults()
	if opts.CacheDir == "-" {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s\n", opts.key(), abs)
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s|%d|%d\n", filepath.Base(in), st.Size(), st.ModTime().UnixNano())
	}
	if opts.VocabFile != "" {
		if st, err := os.Stat(opts.VocabFile); err == nil {
			fmt.Fprintf(h, "vocab|%d|%d\n", st.Size(), st.ModTime().UnixNano())
		}
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	name := fmt.Sprintf("tok-%s-%s.gob", filepath.Base(abs), key)
	cdir := opts.CacheDir
	if cdir == "" {
		cdir = filepath.Join(abs, ".xcbench-cache")
		if !writableDir(cdir) {
			base, err := os.UserCacheDir()
			if err != nil {
				return "", false
			}
			cdir = filepath.Join(base, "xcbench")
		}
	}
	return filepath.Join(cdir, name), true
}

// writableDir creates d if needed and checks that a file can be made in it;
// ../shared/data is read-only, so this decides between it and XDG.
//
// Permission bits are checked first because root ignores them: a dataset
// folder its owner marked read-only must stay untouched even then.
func writableDir(d string) bool {
	parent := filepath.Dir(d)
	if st, err := os.Stat(parent); err != nil || st.Mode().Perm()&0o200 == 0 {
		return false
	}
	if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o200 == 0 {
		return false
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return false
	}
	f, err := os.CreateTemp(d, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

func loadCache(path string) (*cached, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var c cached
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, m := range []*sparse.CSR{c.TrainX, c.TestX, c.LabelX} {
		if m == nil {
			return nil, fmt.Errorf("%s: missing matrix", path)
		}
		if m.Indptr == nil {
			m.Indptr = []int64{0} // gob drops empty slices
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &c, nil
}

func saveCache(path string, c *cached) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := gob.NewEncoder(bw).Encode(c); err != nil {
			return err
		}
		return bw.Flush()
	})
}
