package tokenizer

import "unicode/utf8"

// Character classes of the pre-tokenizer patterns, as bits. They follow tiktoken's regex
// engine exactly (unicode_tables.go is generated from it), not Go's unicode package,
// whose Unicode version is older.
const (
	clsL     uint16 = 1 << iota // \p{L}
	clsN                        // \p{N}
	clsS                        // \s (White_Space)
	clsUpper                    // o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	clsLower                    // o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	clsM                        // \p{M}
	clsCRLF                     // \r or \n
)

const blockBits = 8

var (
	classIndex  [0x110000 >> blockBits]uint16 // block number of each 256-code-point block
	classBlocks [][1 << blockBits]uint16      // deduplicated blocks of class bits
	asciiClass  [128]uint16
)

func init() {
	all := make([]uint16, 0x110000)
	set := func(name string, bit uint16) {
		r := classRanges[name]
		for i := 0; i+1 < len(r); i += 2 {
			for c := r[i]; c <= r[i+1]; c++ {
				all[c] |= bit
			}
		}
	}
	set("L", clsL)
	set("N", clsN)
	set("S", clsS)
	for _, n := range []string{"Lu", "Lt", "Lm", "Lo", "M"} {
		set(n, clsUpper)
	}
	for _, n := range []string{"Ll", "Lm", "Lo", "M"} {
		set(n, clsLower)
	}
	set("M", clsM)
	all['\r'] |= clsCRLF
	all['\n'] |= clsCRLF
	seen := map[[1 << blockBits]uint16]uint16{}
	for b := range classIndex {
		var blk [1 << blockBits]uint16
		copy(blk[:], all[b<<blockBits:])
		id, ok := seen[blk]
		if !ok {
			id = uint16(len(classBlocks))
			classBlocks = append(classBlocks, blk)
			seen[blk] = id
		}
		classIndex[b] = id
	}
	copy(asciiClass[:], all[:128])
}

// classOf returns the class bits of r (0 for invalid code points).
func classOf(r rune) uint16 {
	if uint32(r) >= 0x110000 {
		return 0
	}
	return classBlocks[classIndex[r>>blockBits]][r&(1<<blockBits-1)]
}

// classAt decodes the character at s[i] and returns its class and byte length. An
// invalid UTF-8 byte is one character of no class (like a symbol), so every byte
// string pre-tokenizes and round-trips.
func classAt(s string, i int) (uint16, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return 0, 1
	}
	return classOf(r), n
}
