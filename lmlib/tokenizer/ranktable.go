package tokenizer

import "math/bits"

// rankTable maps token bytes to ranks. Tokens of up to 16 bytes — nearly every lookup of
// the merge loop — live in an open-addressing table keyed by the bytes packed into two
// words, so a lookup is a few arithmetic instructions and usually one cache line; longer
// tokens fall back to a Go map. It replaces map[string]int32, which profiled as most of
// the encoding time.
type rankTable struct {
	mask  uint64
	slots []rankSlot
	long  map[string]int32
}

type rankSlot struct {
	k0, k1 uint64
	n      uint32 // key length; 0 marks an empty slot
	rank   int32
}

// load8 packs up to 8 bytes of s little-endian.
func load8(s string) uint64 {
	if len(s) >= 8 {
		_ = s[7]
		return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	}
	var v uint64
	for i := len(s) - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

func packKey(s string) (k0, k1 uint64) {
	if len(s) <= 8 {
		return load8(s), 0
	}
	return load8(s[:8]), load8(s[8:])
}

func hashKey(k0, k1 uint64, n int) uint64 {
	h := k0*0x9E3779B97F4A7C15 ^ bits.RotateLeft64(k1*0xC2B2AE3D27D4EB4F, 31) ^ uint64(n)*0x165667B19E3779F9
	return h ^ h>>29 ^ h>>47
}

func newRankTable(ranks map[string]int32) *rankTable {
	short := 0
	for tok := range ranks {
		if len(tok) <= 16 {
			short++
		}
	}
	size := 1
	for size < short*2 {
		size <<= 1
	}
	t := &rankTable{mask: uint64(size - 1), slots: make([]rankSlot, size), long: map[string]int32{}}
	for tok, r := range ranks {
		if len(tok) > 16 {
			t.long[tok] = r
			continue
		}
		k0, k1 := packKey(tok)
		for i := hashKey(k0, k1, len(tok)) & t.mask; ; i = (i + 1) & t.mask {
			if t.slots[i].n == 0 {
				t.slots[i] = rankSlot{k0, k1, uint32(len(tok)), r}
				break
			}
		}
	}
	return t
}

// get returns the rank of s, noRank if s is not a token.
func (t *rankTable) get(s string) int32 {
	n := len(s)
	if n > 16 {
		if r, ok := t.long[s]; ok {
			return r
		}
		return noRank
	}
	k0, k1 := packKey(s)
	for i := hashKey(k0, k1, n) & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.n == uint32(n) && sl.k0 == k0 && sl.k1 == k1 {
			return sl.rank
		}
		if sl.n == 0 {
			return noRank
		}
	}
}
