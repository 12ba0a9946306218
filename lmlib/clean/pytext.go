package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds Python string semantics that datatrove's filters rely on:
// str.isspace, str.split(), str.splitlines(), str.strip() and len() in code points.
// Matching them exactly is what makes golem's filters agree with datatrove's.

// pyIsSpace reports whether Python's str.isspace() is true for r. It is unicode.IsSpace
// plus the ASCII separators U+001C–U+001F, which Python counts as whitespace.
func pyIsSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f)
	}
	return unicode.IsSpace(r)
}

// runeLen is Python's len(s) for a str: the number of code points.
func runeLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i + utf8.RuneCountInString(s[i:])
		}
	}
	return len(s)
}

// pyStrip is Python's s.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyRStrip is Python's s.rstrip().
func pyRStrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pyLStrip is Python's s.lstrip().
func pyLStrip(s string) string { return strings.TrimLeftFunc(s, pyIsSpace) }

// pySplit is Python's s.split() with no separator: runs of whitespace separate fields.
func pySplit(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pySplitLines is Python's s.splitlines(): it breaks on \n, \r, \r\n, \v, \f, \x1c,
// \x1d, \x1e, \x85, U+2028 and U+2029 and drops the line breaks. A trailing break does
// not produce an empty last line.
func pySplitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e:
				lines = append(lines, s[start:i])
				i++
				start = i
				continue
			case '\r':
				lines = append(lines, s[start:i])
				i++
				if i < len(s) && s[i] == '\n' {
					i++
				}
				start = i
				continue
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0x85 || r == 0x2028 || r == 0x2029 {
			lines = append(lines, s[start:i])
			i += n
			start = i
			continue
		}
		i += n
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// isPyAlpha is Python's str.isalpha() for one code point (Unicode letters).
func isPyAlpha(r rune) bool {
	if r < 0x80 {
		return (r|0x20) >= 'a' && (r|0x20) <= 'z'
	}
	return unicode.IsLetter(r)
}

// endsWithRune reports whether the last rune of s is in set.
func endsWithRune(s string, set func(rune) bool) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return set(r)
}
