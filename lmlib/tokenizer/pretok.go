package tokenizer

import "fmt"

// A splitter returns the end of the pre-token that starts at s[i] (i < len(s)); the
// result is always > i. s is one segment of text between special tokens, so the
// patterns' `$` means len(s). Each splitter is a hand-written, allocation-free
// equivalent of one of tiktoken's regular expressions (leftmost-first alternation,
// greedy and possessive quantifiers, the (?!\S) lookahead).
type splitter func(s string, i int) int

// Pattern names a pre-tokenizer.
const (
	PatternGPT2   = "gpt2"   // gpt2, r50k_base, p50k_base
	PatternCL100k = "cl100k" // cl100k_base
	PatternO200k  = "o200k"  // o200k_base
)

// Regular expressions equivalent to the pre-tokenizers (tiktoken 0.14's spelling), used
// when a vocabulary is written for another tool.
var patternRegex = map[string]string{
	PatternGPT2:   `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`,
	PatternCL100k: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`,
	PatternO200k: `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
}

var splitters = map[string]splitter{
	PatternGPT2:   splitGPT2,
	PatternCL100k: splitCL100k,
	PatternO200k:  splitO200k,
}

// PatternRegex returns the regular expression (tiktoken / HF tokenizers syntax) that the
// named pre-tokenizer implements.
func PatternRegex(name string) (string, error) {
	re, ok := patternRegex[name]
	if !ok {
		return "", fmt.Errorf("tokenizer: unknown pattern %q (want gpt2, cl100k or o200k)", name)
	}
	return re, nil
}

// patternFromRegex maps a regular expression found in a file to a pattern name; it
// knows tiktoken's current spelling and the original ones (GPT-2's encoder.py and HF
// ByteLevel, tiktoken before 0.8).
func patternFromRegex(re string) (string, bool) {
	for name, r := range patternRegex {
		if r == re {
			return name, true
		}
	}
	name, ok := legacyRegex[re]
	return name, ok
}

var legacyRegex = map[string]string{
	`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`:                                          PatternGPT2,
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: PatternCL100k,
}

// foldS reports whether s[j:] starts with a case-insensitive 's' as Rust's
// regex folds it (s, S and U+017F LATIN SMALL LETTER LONG S) and returns its length.
func foldS(s string, j int) int {
	if j < len(s) {
		switch s[j] {
		case 's', 'S':
			return 1
		case 0xC5:
			if j+1 < len(s) && s[j+1] == 0xBF {
				return 2
			}
		}
	}
	return 0
}

// contraction matches '(?:[sdmt]|ll|ve|re) at s[i] (which is '\”) and returns its end
// or -1. fold selects case-insensitive matching.
func contraction(s string, i int, fold bool) int {
	j := i + 1
	if j >= len(s) {
		return -1
	}
	lower := func(c byte) byte {
		if fold && 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	if fold {
		if n := foldS(s, j); n > 0 {
			return j + n
		}
	}
	switch lower(s[j]) {
	case 's', 'd', 'm', 't':
		return j + 1
	case 'l':
		if j+1 < len(s) && lower(s[j+1]) == 'l' {
			return j + 2
		}
	case 'v', 'r':
		if j+1 < len(s) && lower(s[j+1]) == 'e' {
			return j + 2
		}
	}
	return -1
}

// run returns the end of the run of characters starting at i whose class has any
// bit of want.
func run(s string, i int, want uint16) int {
	for i < len(s) {
		c := s[i]
		if c < 0x80 {
			if asciiClass[c]&want == 0 {
				return i
			}
			i++
			continue
		}
		cl, n := classAt(s, i)
		if cl&want == 0 {
			return i
		}
		i += n
	}
	return i
}

// runNot returns the end of the run of characters starting at i whose class has none
// of the bits of avoid.
func runNot(s string, i int, avoid uint16) int {
	for i < len(s) {
		c := s[i]
		if c < 0x80 {
			if asciiClass[c]&avoid != 0 {
				return i
			}
			i++
			continue
		}
		cl, n := classAt(s, i)
		if cl&avoid != 0 {
			return i
		}
		i += n
	}
	return i
}

// spaceRun scans the whitespace run starting at s[i] for the whitespace alternatives
// of the patterns (\s++$, \s*[\r\n], \s+(?!\S), \s): it returns the end of the run and
// the start of its last character (where \s+(?!\S) stops when the run is followed by
// a non-space).
func spaceRun(s string, i int) (end, beforeLast int) {
	end, beforeLast = i, i
	for end < len(s) {
		cl, n := classAt(s, end)
		if cl&clsS == 0 {
			break
		}
		beforeLast = end
		end += n
	}
	return end, beforeLast
}

// splitGPT2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s string, i int) int {
	c := s[i]
	if c == '\'' {
		if e := contraction(s, i, false); e > 0 {
			return e
		}
	}
	j := i
	if c == ' ' && i+1 < len(s) {
		j = i + 1
	}
	cl, n := classAt(s, j)
	switch {
	case cl&clsL != 0:
		return run(s, j+n, clsL)
	case cl&clsN != 0:
		return run(s, j+n, clsN)
	case cl&clsS == 0:
		return runNot(s, j+n, clsS|clsL|clsN)
	}
	// whitespace at j: if j > i the optional space led nowhere, back to i
	end, last := spaceRun(s, i)
	if end == len(s) || last == i {
		return end
	}
	return last
}

// splitCL100k: '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
// ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
func splitCL100k(s string, i int) int {
	c := s[i]
	if c == '\'' {
		if e := contraction(s, i, true); e > 0 {
			return e
		}
	}
	cl, n := classAt(s, i)
	if cl&clsL != 0 {
		return run(s, i+n, clsL)
	}
	if cl&(clsN|clsCRLF) == 0 && i+n < len(s) {
		if cl2, n2 := classAt(s, i+n); cl2&clsL != 0 {
			return run(s, i+n+n2, clsL)
		}
	}
	if cl&clsN != 0 {
		e := i + n
		for k := 1; k < 3 && e < len(s); k++ {
			cl2, n2 := classAt(s, e)
			if cl2&clsN == 0 {
				break
			}
			e += n2
		}
		return e
	}
	j, clj, nj := i, cl, n
	if c == ' ' && i+1 < len(s) {
		j = i + 1
		clj, nj = classAt(s, j)
	}
	if clj&(clsS|clsL|clsN) == 0 {
		e := runNot(s, j+nj, clsS|clsL|clsN)
		return run(s, e, clsCRLF)
	}
	// whitespace at i
	end, last := spaceRun(s, i)
	if end == len(s) {
		return end
	}
	if e := lastCRLF(s, i, end); e > 0 {
		return e
	}
	if last > i {
		return last
	}
	return end
}

// lastCRLF returns the position after the last \r or \n in s[i:end], or -1.
func lastCRLF(s string, i, end int) int {
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	return -1
}

// o200kContraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d)? at s[k] and returns the end.
func o200kContraction(s string, k int) int {
	if k < len(s) && s[k] == '\'' {
		if e := contraction(s, k, true); e > 0 {
			return e
		}
	}
	return k
}

// splitO200k implements, in order:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	\p{N}{1,3}
//	 ?[^\s\p{L}\p{N}]+[\r\n/]*
//	\s*[\r\n]+
//	\s+(?!\S)
//	\s+
//
// with the backtracking a regex engine does: the optional prefix is tried taken, then
// not taken; the upper-case run gives back characters until a lower-case one follows.
func splitO200k(s string, i int) int {
	cl, n := classAt(s, i)
	prefix := cl&(clsL|clsN|clsCRLF) == 0 // [^\r\n\p{L}\p{N}] can be taken
	if cl&(clsUpper|clsLower) != 0 || prefix {
		// alternative 1, prefix taken then not taken
		for _, p := range [2]bool{true, false} {
			if p && !prefix {
				continue
			}
			start := i
			if p {
				start = i + n
			}
			// [Upper]* greedy from start, remembering the last lower-case character in it
			k, lastLow, lastLowEnd := start, -1, -1
			for k < len(s) {
				ck, nk := classAt(s, k)
				if ck&clsUpper == 0 {
					break
				}
				if ck&clsLower != 0 {
					lastLow, lastLowEnd = k, k+nk
				}
				k += nk
			}
			if k < len(s) {
				if ck, nk := classAt(s, k); ck&clsLower != 0 {
					return o200kContraction(s, run(s, k+nk, clsLower))
				}
			}
			if lastLow >= 0 {
				return o200kContraction(s, lastLowEnd)
			}
		}
		// alternative 2
		for _, p := range [2]bool{true, false} {
			if p && !prefix {
				continue
			}
			start := i
			if p {
				start = i + n
			}
			k := run(s, start, clsUpper)
			if k > start {
				return o200kContraction(s, run(s, k, clsLower))
			}
		}
	}
	if cl&clsN != 0 {
		e := i + n
		for k := 1; k < 3 && e < len(s); k++ {
			cl2, n2 := classAt(s, e)
			if cl2&clsN == 0 {
				break
			}
			e += n2
		}
		return e
	}
	j, clj, nj := i, cl, n
	if s[i] == ' ' && i+1 < len(s) {
		j = i + 1
		clj, nj = classAt(s, j)
	}
	if clj&(clsS|clsL|clsN) == 0 {
		e := runNot(s, j+nj, clsS|clsL|clsN)
		for e < len(s) && (s[e] == '\r' || s[e] == '\n' || s[e] == '/') {
			e++
		}
		return e
	}
	// whitespace at i
	end, last := spaceRun(s, i)
	if e := lastCRLF(s, i, end); e > 0 {
		return e
	}
	if end == len(s) || last == i {
		return end
	}
	return last
}
