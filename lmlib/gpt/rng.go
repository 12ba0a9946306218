package gpt

import "math"

// RNG is golem's deterministic random number generator (SplitMix64). Its whole
// state is one uint64, so a checkpoint saves it with State and a resumed run
// restores it with SetState and draws the same numbers.
type RNG struct{ state uint64 }

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG { return &RNG{state: seed} }

// State returns the generator's state.
func (r *RNG) State() uint64 { return r.state }

// SetState restores a state returned by State.
func (r *RNG) SetState(s uint64) { r.state = s }

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.state += 0x9E3779B97F4A7C15
	return mix64(r.state)
}

// Float64 returns a uniform number in [0,1).
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// NormFloat64 returns a standard normal number (Box–Muller, one of the pair).
func (r *RNG) NormFloat64() float64 {
	u1 := r.Float64()
	u2 := r.Float64()
	if u1 < 1e-300 {
		u1 = 1e-300
	}
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// mix64 is SplitMix64's output function; it is also the counter-based hash that
// dropout masks are drawn from, so a mask depends only on (seed, index) and not on
// how the work is split across goroutines.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Dropout describes one dropout application: elements are zeroed with probability
// P and survivors scaled by 1/(1-P); element i is kept when its hash of (Seed, i)
// says so. P == 0 means no dropout.
type Dropout struct {
	P    float32
	Seed uint64
}

// Active reports whether d drops anything.
func (d Dropout) Active() bool { return d.P > 0 }

// threshold returns the 24-bit cut below which an element is dropped.
func (d Dropout) threshold() uint32 { return uint32(float64(d.P) * (1 << 24)) }

// scale returns 1/(1-P).
func (d Dropout) scale() float32 { return 1 / (1 - d.P) }

// keepStride spaces the elements' inputs to mix64: element i of seed s is
// element 0 of seed s+i·keepStride (shard.go relies on it).
const keepStride = 0x9E3779B97F4A7C15

// keep reports whether element i survives, given thr = d.threshold().
func keep(seed uint64, i int, thr uint32) bool {
	return uint32(mix64(seed+uint64(i)*keepStride)>>40) >= thr
}
