package clean

// mt19937 is the Mersenne Twister as numpy's legacy RandomState uses it. MinHash
// draws its permutation parameters from np.random.RandomState(seed), and matching
// that stream bit for bit is what makes golem's signatures equal datatrove's.
type mt19937 struct {
	key [624]uint32
	pos int
}

func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{}
	m.key[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.key[i-1]
		m.key[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.pos = 624
	return m
}

func (m *mt19937) next32() uint32 {
	if m.pos >= 624 {
		m.generate()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (m *mt19937) generate() {
	const upper, lower = 0x80000000, 0x7fffffff
	for i := 0; i < 624; i++ {
		y := (m.key[i] & upper) | (m.key[(i+1)%624] & lower)
		v := m.key[(i+397)%624] ^ (y >> 1)
		if y&1 != 0 {
			v ^= 0x9908b0df
		}
		m.key[i] = v
	}
	m.pos = 0
}

func (m *mt19937) next64() uint64 {
	hi := uint64(m.next32())
	return hi<<32 | uint64(m.next32())
}

// randUint64 is RandomState.randint(low, high, dtype=np.uint64) for a range wider
// than 32 bits: masked rejection sampling on 64-bit draws.
func (m *mt19937) randUint64(low, high uint64) uint64 {
	rng := high - 1 - low
	mask := rng
	for s := uint(1); s < 64; s <<= 1 {
		mask |= mask >> s
	}
	for {
		v := m.next64() & mask
		if v <= rng {
			return low + v
		}
	}
}
