package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/golem-lm/golem/lmlib/data"
)

// Normalizer cleans a document's characters: invalid UTF-8 bytes become U+FFFD,
// control and format characters (other than tab and newline) are removed, the text is
// put in Unicode NFC, line breaks become "\n", runs of spaces and tabs collapse to one
// space, trailing spaces go, three or more newlines become two, and the text is
// trimmed. What it finds is reported in metadata ("invalid_utf8", "replacement_chars",
// "mojibake": counts) so broken encodings are visible in the stats.
type Normalizer struct {
	// KeepWhitespace leaves spaces and newlines as they are (only NFC and controls).
	KeepWhitespace bool
	// DropMojibake drops a document whose mojibake count exceeds this (0: never).
	DropMojibake int
}

// NewNormalizer returns a normalizer with the defaults.
func NewNormalizer() *Normalizer { return &Normalizer{} }

// Name implements data.Step.
func (n *Normalizer) Name() string { return "normalize" }

// Meta keys set by Normalizer when it finds a problem.
const (
	MetaInvalidUTF8      = "invalid_utf8"
	MetaReplacementChars = "replacement_chars"
	MetaMojibake         = "mojibake"
)

// Process implements data.Step.
func (n *Normalizer) Process(d *data.Doc) (string, error) {
	text, rep := n.Normalize(d.Text)
	d.Text = text
	if rep.InvalidUTF8 > 0 {
		d.SetMeta(MetaInvalidUTF8, rep.InvalidUTF8)
	}
	if rep.Replacement > 0 {
		d.SetMeta(MetaReplacementChars, rep.Replacement)
	}
	if rep.Mojibake > 0 {
		d.SetMeta(MetaMojibake, rep.Mojibake)
	}
	if n.DropMojibake > 0 && rep.Mojibake > n.DropMojibake {
		return "mojibake", nil
	}
	if text == "" {
		return "normalize_empty", nil
	}
	return "", nil
}

// EncodingReport counts the encoding problems Normalize found.
type EncodingReport struct {
	InvalidUTF8 int // invalid byte sequences (each replaced by U+FFFD)
	Replacement int // U+FFFD already in the text
	Mojibake    int // UTF-8 read as Latin-1/CP1252, e.g. "Ã©" for "é", "â€™" for "’"
}

// isMojibakeLead reports whether r is a character that the lead byte of a UTF-8
// multi-byte sequence turns into when the text is decoded as Latin-1 or
// Windows-1252 (0xC3 → 'Ã', 0xE2 → 'â', …). Normalize counts a lead followed by a
// continuation-byte character (isMojibakeCont) as one mojibake pair.
func isMojibakeLead(r rune) bool {
	return r == 'Ã' || r == 'Â' || r == 'â' || r == 'Å' || r == 'Ð' || r == 'Ñ'
}

// isMojibakeCont reports whether r is a character that a UTF-8 continuation byte
// (0x80–0xBF) turns into under Latin-1 (U+0080–U+00BF) or Windows-1252 (the
// printable characters it puts at 0x80–0x9F: '€', '’', 'œ', …).
func isMojibakeCont(r rune) bool {
	return (r >= 0x80 && r <= 0xBF) || strings.ContainsRune("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ", r)
}

// Normalize returns the normalised text and what it found.
func (n *Normalizer) Normalize(text string) (string, EncodingReport) {
	var rep EncodingReport
	if !utf8.ValidString(text) {
		var b strings.Builder
		for i := 0; i < len(text); {
			r, sz := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && sz <= 1 {
				rep.InvalidUTF8++
				b.WriteRune(utf8.RuneError)
				i++
				continue
			}
			b.WriteString(text[i : i+sz])
			i += sz
		}
		text = b.String()
	}
	var prev rune
	for _, r := range text {
		if r == utf8.RuneError {
			rep.Replacement++
		}
		if isMojibakeCont(r) && isMojibakeLead(prev) {
			rep.Mojibake++
		}
		prev = r
	}
	rep.Replacement -= rep.InvalidUTF8
	text = norm.NFC.String(text)
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		r, sz := utf8.DecodeRuneInString(text[i:])
		i += sz
		switch {
		case r == '\r':
			if i < len(text) && text[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == 0x2028 || r == 0x2029 || r == 0x85 || r == '\v' || r == '\f':
			b.WriteByte('\n')
		case unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != 0x200D && r != 0x200C):
			// dropped (zero-width joiners stay: they shape emoji and Indic scripts)
		default:
			b.WriteString(text[i-sz : i])
		}
	}
	text = b.String()
	if n.KeepWhitespace {
		return text, rep
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.FieldsFunc(l, func(r rune) bool { return r != '\n' && pyIsSpace(r) }), " ")
	}
	text = strings.Join(lines, "\n")
	for strings.Contains(text, "\n\n\n") {
		text = strings.ReplaceAll(text, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(text), rep
}
