package tokenize

// Tokenizer maps text to ids. Implementations are safe for concurrent use.
type Tokenizer interface {
	// Encode returns at most maxLen ids (maxLen <= 0: no limit), without
	// padding.
	Encode(text string, maxLen int) []int32
	// Vocabulary is the id -> token table.
	Vocabulary() []string
}

var (
	_ Tokenizer = (*Vocab)(nil)
	_ Tokenizer = (*WordPiece)(nil)
)
