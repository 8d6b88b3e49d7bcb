package tokenize

import (
	"reflect"
	"testing"
)

func TestWords(t *testing.T) {
	cases := []struct {
		in    string
		lower bool
		want  []string
	}{
		{"How do I fix a cast-iron pot?", true, []string{"how", "do", "i", "fix", "a", "cast", "iron", "pot"}},
		{"Crème-brûlée, 2.0", false, []string{"Crème", "brûlée", "2", "0"}},
		{"ÉCLAIR straße", true, []string{"éclair", "straße"}},
		{"  ", true, nil},
		{"TAG_2005", true, []string{"tag", "2005"}},
	}
	for _, c := range cases {
		if got := Words(c.in, c.lower); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Words(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBuildVocab(t *testing.T) {
	texts := []string{"b a a", "c b a", "d"}
	cases := []struct {
		name string
		o    VocabOptions
		want []string
	}{
		{"all", VocabOptions{}, []string{PadToken, OOVToken, "a", "b", "c", "d"}},
		{"mincount", VocabOptions{MinCount: 2}, []string{PadToken, OOVToken, "a", "b"}},
		{"maxsize", VocabOptions{MaxSize: 3}, []string{PadToken, OOVToken, "a"}},
	}
	for _, c := range cases {
		v := BuildVocab(texts, c.o)
		if !reflect.DeepEqual(v.Words, c.want) {
			t.Errorf("%s: %q, want %q", c.name, v.Words, c.want)
		}
	}
	v := BuildVocab(texts, VocabOptions{MinCount: 2})
	if got := v.Encode("a z b a", 3); !reflect.DeepEqual(got, []int32{2, OOVID, 3}) {
		t.Errorf("Encode = %v", got)
	}
}

func TestWordPiece(t *testing.T) {
	wp, err := LoadWordPiece("testdata/vocab.txt", true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		want []string
	}{
		{"UNAFFABLE running!", []string{"un", "##aff", "##able", "run", "##ning", "!"}},
		{"Cafés, how", []string{"cafe", "##s", ",", "how"}},
		{"unknownword the", []string{"[UNK]", "the"}},
		// NUL is dropped, so "howdo" is one unknown word.
		{"how\x00do\ti", []string{"[UNK]", "i"}},
	}
	for _, c := range cases {
		if got := wp.Tokens(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	wp.AddSpecial = true
	got := wp.Encode("how do i run", 4)
	if want := []int32{3, 15, 16, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Encode with specials = %v, want %v", got, want)
	}
	if _, err := NewWordPiece([]string{"a"}, true); err == nil {
		t.Error("vocabulary without [UNK] accepted")
	}
}
