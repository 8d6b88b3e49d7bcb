// Package tokenize turns text into token ids. It offers a word-level
// vocabulary built from training text (unicode-aware splitting on anything
// that is not a letter or digit, optional lower-casing, a minimum count and
// a maximum size, id 0 = padding and id 1 = out-of-vocabulary) and a BERT
// WordPiece tokenizer loaded from a vocab.txt (basic tokenisation, then
// greedy longest-match-first sub-words with "##" continuations and [UNK]).
// Both are deterministic: the same text and settings give the same ids.
package tokenize
