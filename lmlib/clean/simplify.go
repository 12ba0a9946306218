package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// numberSeps are the decimal separators datatrove's number pattern accepts.
const numberSeps = ".,،٫⎖⎗⎘"

// SimplifyText is datatrove's simplify_text with its default TextNormConfig, the
// normalisation MinHash and sentence dedup hash: lower case, every number (digits with
// an optional decimal part) replaced by "0", punctuation replaced by spaces,
// whitespace runs collapsed to one space, accents removed (NFD without combining
// marks), trimmed.
func SimplifyText(text string) string {
	text = strings.ToLower(text)
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if unicode.IsDigit(r) {
			j := i + n
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsDigit(r2) {
					break
				}
				j += n2
			}
			// optional decimal part: one separator followed by digits
			if j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if strings.ContainsRune(numberSeps, r2) && j+n2 < len(text) {
					r3, _ := utf8.DecodeRuneInString(text[j+n2:])
					if unicode.IsDigit(r3) {
						j += n2
						for j < len(text) {
							r4, n4 := utf8.DecodeRuneInString(text[j:])
							if !unicode.IsDigit(r4) {
								break
							}
							j += n4
						}
					}
				}
			}
			b.WriteByte('0')
			i = j
			continue
		}
		if isPunctuationTrans(r) {
			b.WriteByte(' ')
		} else {
			b.WriteString(text[i : i+n])
		}
		i += n
	}
	// collapse whitespace and trim
	s := strings.Join(strings.FieldsFunc(b.String(), pyIsSpace), " ")
	// strip combining marks after canonical decomposition
	if !isASCII(s) {
		d := norm.NFD.String(s)
		var c strings.Builder
		c.Grow(len(d))
		for _, r := range d {
			if !unicode.Is(unicode.Mn, r) {
				c.WriteRune(r)
			}
		}
		s = pyStrip(c.String())
	}
	return s
}

// isPunctuationTrans reports the characters of datatrove's PUNCTUATION string (not
// the terminal punctuation set), which simplify_text turns into spaces.
func isPunctuationTrans(r rune) bool {
	if r < 128 {
		return punctTable[r]
	}
	if r >= 0x80 && r <= 0x9f {
		return true
	}
	return strings.ContainsRune(punctuationChars, r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
