package data

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/xcbench/xcbench/core/npy"
)

// npyInputsPresent reports whether the reference tokenised arrays exist.
func npyInputsPresent(dir string) bool {
	for _, p := range []string{"trn_doc", "tst_doc", "lbl"} {
		if _, err := os.Stat(filepath.Join(dir, p+"_input_ids.npy")); err != nil {
			return false
		}
	}
	return true
}

// readNpyTokens reads <prefix>_input_ids.npy ([n, len], int64 or int32)
// and, when present, <prefix>_attention_mask.npy of the same shape. Each row
// keeps its masked-in tokens (or, without a mask, everything up to the
// trailing padding zeros), truncated to maxLen.
func readNpyTokens(dir, prefix string, maxLen int) ([][]int32, error) {
	path := filepath.Join(dir, prefix+"_input_ids.npy")
	ids, shape, err := readNpyInts(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		return nil, fmt.Errorf("%s: want a 2-D array, got shape %v", path, shape)
	}
	n, w := shape[0], shape[1]
	var mask []int64
	mpath := filepath.Join(dir, prefix+"_attention_mask.npy")
	if _, err := os.Stat(mpath); err == nil {
		m, mshape, err := readNpyInts(mpath)
		if err != nil {
			return nil, err
		}
		if len(mshape) != 2 || mshape[0] != n || mshape[1] != w {
			return nil, fmt.Errorf("%s: shape %v does not match %s shape %v", mpath, mshape, path, shape)
		}
		mask = m
	}
	out := make([][]int32, n)
	for i := 0; i < n; i++ {
		row := ids[i*w : (i+1)*w]
		l := w
		if mask != nil {
			l = 0
			for j, m := range mask[i*w : (i+1)*w] {
				if m != 0 {
					l = j + 1
				}
			}
		} else {
			for l > 0 && row[l-1] == 0 {
				l--
			}
		}
		if maxLen > 0 && l > maxLen {
			l = maxLen
		}
		toks := make([]int32, l)
		for j := 0; j < l; j++ {
			if row[j] < 0 || row[j] > 1<<31-1 {
				return nil, fmt.Errorf("%s: row %d position %d: token id %d out of range", path, i, j, row[j])
			}
			toks[j] = int32(row[j])
		}
		out[i] = toks
	}
	return out, nil
}

func readNpyInts(path string) ([]int64, []int, error) {
	if d, shape, err := npy.Read[int64](path); err == nil {
		return d, shape, nil
	}
	d32, shape, err := npy.Read[int32](path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	d := make([]int64, len(d32))
	for i, v := range d32 {
		d[i] = int64(v)
	}
	return d, shape, nil
}
