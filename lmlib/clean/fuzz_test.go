package clean

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract: any input extracts without panicking to valid text with no markup
// from dropped elements.
func FuzzExtract(f *testing.F) {
	f.Add("<html><body><p>Hello <b>world</b></p><script>x()</script></body></html>")
	f.Add("<p>unclosed <a href=x>link")
	f.Add("\xff\xfe<p>latin1 caf\xe9</p>")
	f.Add("<pre>  keep\n  spaces</pre><nav><a>menu</a></nav>")
	e := NewExtractor()
	f.Fuzz(func(t *testing.T, page string) {
		text, err := e.Extract(page)
		if err != nil {
			return
		}
		if !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8 out of %q", page)
		}
		if strings.Contains(text, "\n\n\n") {
			t.Fatalf("paragraphs not separated by exactly one blank line: %q", text)
		}
	})
}

// FuzzWords: tokens are non-empty, whitespace-free and, concatenated, give back the
// text without its whitespace; sentences concatenate back to the text and their
// number is CountSentences.
func FuzzWords(f *testing.F) {
	f.Add(`"Don't panic," said Mr. Adams (at 10km/h)... See https://example.com/x.`)
	f.Add("a--b U.S. 1.5% $5.00 '' :) C'mon it's")
	f.Add("日本語のテキスト。 Ελληνικά! ")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		words := Words(text)
		var b strings.Builder
		for _, w := range words {
			if w == "" || strings.IndexFunc(w, pyIsSpace) >= 0 {
				t.Fatalf("bad token %q in %q", w, text)
			}
			b.WriteString(w)
		}
		if want := strings.Join(strings.FieldsFunc(text, pyIsSpace), ""); b.String() != want {
			t.Fatalf("tokens %q do not cover %q", words, text)
		}
		sents := Sentences(text)
		if got := strings.Join(sents, ""); got != text {
			t.Fatalf("sentences %q do not concatenate to %q", sents, text)
		}
		if n := CountSentences(text); n != len(sents) {
			t.Fatalf("CountSentences(%q) = %d, Sentences has %d", text, n, len(sents))
		}
	})
}
