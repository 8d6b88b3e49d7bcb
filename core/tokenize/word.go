package tokenize

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Reserved ids of a word vocabulary.
const (
	PadID = 0
	OOVID = 1
)

// Reserved words of a word vocabulary, at ids PadID and OOVID.
const (
	PadToken = "<pad>"
	OOVToken = "<unk>"
)

// Words splits text on every rune that is not a letter or a digit, so
// "Crème-brûlée, 2.0" gives [Crème brûlée 2 0]; lower lower-cases the words.
func Words(text string, lower bool) []string {
	return AppendWords(nil, text, lower)
}

// AppendWords is Words appending to dst, so hot loops can reuse a buffer.
func AppendWords(dst []string, text string, lower bool) []string {
	start := -1
	flush := func(end int) {
		w := text[start:end]
		if lower {
			w = lowerWord(w)
		}
		dst = append(dst, w)
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			flush(i)
		}
	}
	if start >= 0 {
		flush(len(text))
	}
	return dst
}

// lowerWord avoids strings.ToLower's allocation when the word is already
// lower-case ASCII, the common case in titles.
func lowerWord(w string) string {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 0x80 || (c >= 'A' && c <= 'Z') {
			return strings.ToLower(w)
		}
	}
	return w
}

// VocabOptions controls BuildVocab.
type VocabOptions struct {
	// MinCount drops words seen fewer times (0 or 1 keeps all).
	MinCount int
	// MaxSize caps the vocabulary size including the two reserved ids
	// (0 = no cap); the most frequent words are kept.
	MaxSize int
	// Lowercase lower-cases text before counting and before lookups.
	Lowercase bool
}

// Vocab is a word vocabulary: Words[id] is the word, ids 0 and 1 are
// PadToken and OOVToken.
type Vocab struct {
	Words     []string
	Lowercase bool
	index     map[string]int32
}

// BuildVocab counts the words of texts and keeps the frequent ones. Ties in
// frequency are broken by the word itself so the ids never depend on map
// iteration order.
func BuildVocab(texts []string, o VocabOptions) *Vocab {
	counts := map[string]int{}
	var buf []string
	for _, t := range texts {
		buf = AppendWords(buf[:0], t, o.Lowercase)
		for _, w := range buf {
			counts[w]++
		}
	}
	type wc struct {
		w string
		c int
	}
	list := make([]wc, 0, len(counts))
	for w, c := range counts {
		if c >= o.MinCount && w != PadToken && w != OOVToken {
			list = append(list, wc{w, c})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].c != list[j].c {
			return list[i].c > list[j].c
		}
		return list[i].w < list[j].w
	})
	if o.MaxSize > 0 && len(list) > o.MaxSize-2 {
		list = list[:max(o.MaxSize-2, 0)]
	}
	words := make([]string, 0, len(list)+2)
	words = append(words, PadToken, OOVToken)
	for _, e := range list {
		words = append(words, e.w)
	}
	v, _ := NewVocab(words, o.Lowercase)
	return v
}

// NewVocab wraps an existing word list (for example one read from a cache);
// words[0] and words[1] must be the reserved tokens.
func NewVocab(words []string, lowercase bool) (*Vocab, error) {
	if len(words) < 2 || words[PadID] != PadToken || words[OOVID] != OOVToken {
		return nil, fmt.Errorf("tokenize: word vocabulary must start with %q, %q", PadToken, OOVToken)
	}
	idx := make(map[string]int32, len(words))
	for i, w := range words {
		if _, dup := idx[w]; dup {
			return nil, fmt.Errorf("tokenize: word %q appears twice in the vocabulary (ids %d and %d)", w, idx[w], i)
		}
		idx[w] = int32(i)
	}
	return &Vocab{Words: words, Lowercase: lowercase, index: idx}, nil
}

// ID returns the id of an already split (and, if configured, lower-cased)
// word, or OOVID.
func (v *Vocab) ID(w string) int32 {
	if id, ok := v.index[w]; ok {
		return id
	}
	return OOVID
}

// Len is the vocabulary size including the reserved ids.
func (v *Vocab) Len() int { return len(v.Words) }

// Encode splits text and maps the words to ids, keeping at most maxLen
// (maxLen <= 0 keeps all). Unknown words become OOVID.
func (v *Vocab) Encode(text string, maxLen int) []int32 {
	words := Words(text, v.Lowercase)
	if maxLen > 0 && len(words) > maxLen {
		words = words[:maxLen]
	}
	ids := make([]int32, len(words))
	for i, w := range words {
		ids[i] = v.ID(w)
	}
	return ids
}

// Vocabulary returns the id -> token table.
func (v *Vocab) Vocabulary() []string { return v.Words }
