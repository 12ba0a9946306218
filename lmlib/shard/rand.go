package shard

// The loader's shuffles use SplitMix64 and a plain Fisher–Yates shuffle, written
// out here so that the order is fixed forever (math/rand's algorithms may change)
// and easy to reproduce in other languages (tools/trainref does).

// mix64 is the SplitMix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// splitMix64 is the SplitMix64 generator.
type splitMix64 struct{ s uint64 }

func (r *splitMix64) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// permutation returns a random permutation of 0..n-1 from seed:
// for i = n-1 down to 1, swap p[i] with p[next() mod (i+1)].
func permutation(n int, seed uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r := splitMix64{seed}
	for i := n - 1; i > 0; i-- {
		j := int(r.next() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// epochSeed derives the seed of one shuffle: the shard order of an epoch
// (shard = -1) or the window order of one shard in an epoch.
func epochSeed(seed uint64, epoch, shard int) uint64 {
	return mix64(seed ^ mix64(uint64(epoch)+1) ^ mix64(uint64(shard+1)<<32))
}
