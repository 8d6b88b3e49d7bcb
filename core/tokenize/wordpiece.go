package tokenize

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// WordPiece is BERT's tokenizer: basic tokenisation (clean control
// characters, split on whitespace and punctuation, put CJK ideographs on
// their own, optionally lower-case and strip accents) followed by greedy
// longest-match-first sub-words, "##" marking continuations. Ids are the
// vocab.txt line numbers, so for BERT vocabularies [PAD] is 0 and [UNK] is
// 100 (not 1 as for word vocabularies).
type WordPiece struct {
	words     []string
	index     map[string]int32
	Lowercase bool
	// AddSpecial wraps every sequence in [CLS] ... [SEP] as the reference
	// create_tokenized_files.py does; maxLen then counts them.
	AddSpecial bool
	// MaxCharsPerWord: longer words become [UNK] (BERT uses 100).
	MaxCharsPerWord int
	unk, cls, sep   int32
}

// LoadWordPiece reads a vocab.txt (one token per line, id = line number).
func LoadWordPiece(path string, lowercase bool) (*WordPiece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		words = append(words, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenize: %s line %d: %w", path, len(words)+1, err)
	}
	wp, err := NewWordPiece(words, lowercase)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	return wp, nil
}

// NewWordPiece builds a tokenizer from a token list that must contain
// [UNK]; [CLS] and [SEP] are needed only with AddSpecial.
func NewWordPiece(words []string, lowercase bool) (*WordPiece, error) {
	wp := &WordPiece{words: words, index: make(map[string]int32, len(words)),
		Lowercase: lowercase, MaxCharsPerWord: 100, unk: -1, cls: -1, sep: -1}
	for i, w := range words {
		if _, dup := wp.index[w]; !dup {
			wp.index[w] = int32(i)
		}
	}
	var ok bool
	if wp.unk, ok = wp.index["[UNK]"]; !ok {
		return nil, fmt.Errorf("vocabulary has no [UNK] token")
	}
	if id, ok := wp.index["[CLS]"]; ok {
		wp.cls = id
	}
	if id, ok := wp.index["[SEP]"]; ok {
		wp.sep = id
	}
	return wp, nil
}

// Vocabulary returns the id -> token table.
func (wp *WordPiece) Vocabulary() []string { return wp.words }

// UnkID is the id of [UNK].
func (wp *WordPiece) UnkID() int32 { return wp.unk }

// Encode tokenises text; see WordPiece.
func (wp *WordPiece) Encode(text string, maxLen int) []int32 {
	var ids []int32
	special := wp.AddSpecial && wp.cls >= 0 && wp.sep >= 0
	budget := maxLen
	if special {
		ids = append(ids, wp.cls)
		budget -= 2
	}
	for _, w := range wp.basic(text) {
		if maxLen > 0 && len(ids)-btoi(special) >= budget {
			break
		}
		ids = wp.appendPieces(ids, w)
	}
	if maxLen > 0 && len(ids)-btoi(special) > budget {
		ids = ids[:budget+btoi(special)]
	}
	if special {
		ids = append(ids, wp.sep)
	}
	return ids
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Tokens is Encode without the id mapping, for debugging and tests.
func (wp *WordPiece) Tokens(text string) []string {
	var out []string
	for _, w := range wp.basic(text) {
		for _, id := range wp.appendPieces(nil, w) {
			out = append(out, wp.words[id])
		}
	}
	return out
}

func (wp *WordPiece) appendPieces(ids []int32, w string) []int32 {
	if utf8.RuneCountInString(w) > wp.MaxCharsPerWord {
		return append(ids, wp.unk)
	}
	start := len(ids)
	for pos := 0; pos < len(w); {
		end := len(w)
		found := int32(-1)
		for end > pos {
			sub := w[pos:end]
			if pos > 0 {
				sub = "##" + sub
			}
			if id, ok := wp.index[sub]; ok {
				found = id
				break
			}
			// step back one rune, never splitting a UTF-8 sequence
			_, size := utf8.DecodeLastRuneInString(w[pos:end])
			end -= size
		}
		if found < 0 {
			// BERT turns the whole word into [UNK] when any piece fails.
			return append(ids[:start], wp.unk)
		}
		ids = append(ids, found)
		pos = end
	}
	return ids
}

// basic is BERT's BasicTokenizer.
func (wp *WordPiece) basic(text string) []string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'):
			continue
		case isCJK(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	var out []string
	for _, tok := range strings.Fields(b.String()) {
		if wp.Lowercase {
			tok = stripAccents(strings.ToLower(tok))
		}
		start := 0
		for i, r := range tok {
			if isPunct(r) {
				if start < i {
					out = append(out, tok[start:i])
				}
				out = append(out, string(r))
				start = i + utf8.RuneLen(r)
			}
		}
		if start < len(tok) {
			out = append(out, tok[start:])
		}
	}
	return out
}

func stripAccents(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isPunct follows BERT: all ASCII non-alphanumerics count as punctuation,
// plus the Unicode P* categories.
func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}
