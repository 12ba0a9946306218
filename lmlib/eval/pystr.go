package eval

import (
	"strings"
	"unicode"
)

// The reference implementations of the text metrics (sacrebleu, the SQuAD
// script, lm-eval) are Python; their results depend on what Python's str methods
// call whitespace, punctuation and lower case. These helpers give Go the same
// answers, so the metrics agree to the last digit.

// pyIsSpace is Python's str.isspace for one character: Go's unicode.IsSpace plus
// the ASCII information separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// pyFields is Python's str.split() with no arguments.
func pyFields(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pyRStrip is Python's str.rstrip() with no arguments.
func pyRStrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pyStrip is Python's str.strip() with no arguments.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyJoinFields is " ".join(s.split()).
func pyJoinFields(s string) string { return strings.Join(pyFields(s), " ") }

// asciiPunct is Python's string.punctuation.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isASCIIPunct(r rune) bool { return r < 0x80 && strings.ContainsRune(asciiPunct, r) }

// removeASCIIPunct deletes the characters of string.punctuation
// (s.translate(str.maketrans("", "", string.punctuation))).
func removeASCIIPunct(s string) string {
	return strings.Map(func(r rune) rune {
		if isASCIIPunct(r) {
			return -1
		}
		return r
	}, s)
}

// pyLower is Python's str.lower(): Unicode's full lower-case mapping, which
// differs from Go's simple mapping for U+0130 (İ → "i̇") and for capital sigma at
// the end of a word (Σ → ς, the Final_Sigma rule).
func pyLower(s string) string {
	if isASCIILowerSafe(s) {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isASCIILowerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// finalSigma reports whether the capital sigma at rs[i] is in Unicode's
// Final_Sigma context: a cased letter before it (skipping case-ignorable
// characters) and none after it.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !cased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && caseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !cased(rs[j])
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// pyWordChar is a character that Python's re module counts as \w in a str
// pattern: a letter, a number or the underscore.
func pyWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}
