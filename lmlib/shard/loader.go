package shard

import (
	"fmt"
	"path/filepath"
	"sort"
)

// LoaderOptions configures a Loader.
type LoaderOptions struct {
	B, T      int    // batch size and sequence length (required)
	Shuffle   bool   // shuffle shard order and window order every epoch
	Seed      uint64 // seed of the shuffles
	Rank      int    // this process's rank, 0 ≤ Rank < WorldSize
	WorldSize int    // number of ranks sharing the data; 0 means 1
	VocabSize int    // when > 0, every token must be below it (checked per batch)
}

// LoaderState is a Loader's exact position; it marshals to JSON. The fields after
// Batch describe the loader and data it belongs to and are checked by Restore.
type LoaderState struct {
	Epoch     int    `json:"epoch"`
	Shard     int    `json:"shard"` // position in the epoch's shard order
	Batch     int    `json:"batch"` // batch within that shard
	B         int    `json:"b"`
	T         int    `json:"t"`
	Rank      int    `json:"rank"`
	WorldSize int    `json:"world_size"`
	Seed      uint64 `json:"seed"`
	Shuffle   bool   `json:"shuffle"`
	Shards    int    `json:"shards"`
	Tokens    int64  `json:"tokens"`
}

// source is one shard file or an in-memory token slice.
type source struct {
	path   string
	tokens int64
	vocab  int
	mem    []int32 // slice loader
	batch  int     // global batches this source yields per epoch
}

// Loader yields batches of B×T input tokens and the targets shifted by one.
//
// Each source of N tokens is cut into (N-1)/T windows of T+1 tokens at stride T
// (window w covers tokens [w·T, w·T+T]). An epoch visits the sources in order (or a
// seeded permutation when Shuffle), and in each source the windows in order (or a
// seeded permutation), grouped into global batches of B·WorldSize windows; rank r
// takes windows [r·B, r·B+B) of each global batch. Windows left over at the end of a
// source are skipped that epoch. Only the current shard file is held in memory.
type Loader struct {
	opts  LoaderOptions
	srcs  []source
	total int64
	per   int // global batches per epoch

	epoch, pos, batch int
	order             []int // source order of the current epoch
	winFor            [2]int
	windows           []int // window order of the current source
	cur               *Shard
	curIdx            int
	x, y, row         []int32
}

// Glob returns the files matching pattern, sorted, or an error if none match.
func Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("shard glob %q: %w", pattern, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("shard glob %q: no files match", pattern)
	}
	sort.Strings(m)
	return m, nil
}

// NewLoader returns a loader over shard files. Every header is read and checked now.
func NewLoader(paths []string, opts LoaderOptions) (*Loader, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("shard loader: no shard files")
	}
	srcs := make([]source, len(paths))
	for i, p := range paths {
		h, err := ReadHeader(p)
		if err != nil {
			return nil, err
		}
		if opts.VocabSize > 0 && h.VocabSize > opts.VocabSize {
			return nil, fmt.Errorf("shard %s: vocabulary size %d is larger than the loader's %d", p, h.VocabSize, opts.VocabSize)
		}
		srcs[i] = source{path: p, tokens: h.NumTokens, vocab: h.VocabSize}
	}
	return newLoader(srcs, opts, fmt.Sprintf("%d shard files", len(paths)))
}

// NewLoaderGlob is NewLoader over the files matching a pattern such as
// "data/shard_train_*.bin".
func NewLoaderGlob(pattern string, opts LoaderOptions) (*Loader, error) {
	paths, err := Glob(pattern)
	if err != nil {
		return nil, err
	}
	return NewLoader(paths, opts)
}

// NewSliceLoader returns a loader over tokens held in memory (not copied).
func NewSliceLoader(tokens []int32, opts LoaderOptions) (*Loader, error) {
	if opts.VocabSize > 0 {
		for i, t := range tokens {
			if t < 0 || int(t) >= opts.VocabSize {
				return nil, fmt.Errorf("token slice: token id %d at position %d is not below the vocabulary size %d", t, i, opts.VocabSize)
			}
		}
	}
	return newLoader([]source{{path: "token slice", tokens: int64(len(tokens)), mem: tokens}}, opts, fmt.Sprintf("a slice of %d tokens", len(tokens)))
}

func newLoader(srcs []source, opts LoaderOptions, what string) (*Loader, error) {
	if opts.WorldSize == 0 {
		opts.WorldSize = 1
	}
	if opts.B <= 0 || opts.T <= 0 {
		return nil, fmt.Errorf("shard loader: B=%d and T=%d must be positive", opts.B, opts.T)
	}
	if opts.WorldSize < 0 || opts.Rank < 0 || opts.Rank >= opts.WorldSize {
		return nil, fmt.Errorf("shard loader: rank %d not in [0, %d)", opts.Rank, opts.WorldSize)
	}
	l := &Loader{opts: opts, srcs: srcs, curIdx: -1, winFor: [2]int{-1, -1}}
	for i := range l.srcs {
		s := &l.srcs[i]
		l.total += s.tokens
		if s.tokens > 1 {
			s.batch = int((s.tokens-1)/int64(opts.T)) / (opts.B * opts.WorldSize)
		}
		l.per += s.batch
	}
	if l.per == 0 {
		return nil, fmt.Errorf("shard loader: %s (%d tokens) hold no full batch of B=%d × T=%d (+1) tokens per source for %d rank(s)",
			what, l.total, opts.B, opts.T, opts.WorldSize)
	}
	l.x = make([]int32, opts.B*opts.T)
	l.y = make([]int32, opts.B*opts.T)
	l.startEpoch(0)
	return l, nil
}

// B is the batch size.
func (l *Loader) B() int { return l.opts.B }

// T is the sequence length.
func (l *Loader) T() int { return l.opts.T }

// Epoch is the current epoch (0 first).
func (l *Loader) Epoch() int { return l.epoch }

// BatchesPerEpoch is the number of batches each rank gets per epoch.
func (l *Loader) BatchesPerEpoch() int { return l.per }

// NumTokens is the number of tokens in all sources.
func (l *Loader) NumTokens() int64 { return l.total }

func (l *Loader) startEpoch(e int) {
	l.epoch, l.pos, l.batch = e, 0, 0
	if l.opts.Shuffle {
		l.order = permutation(len(l.srcs), epochSeed(l.opts.Seed, e, -1))
	} else {
		l.order = make([]int, len(l.srcs))
		for i := range l.order {
			l.order[i] = i
		}
	}
}

// Next returns the next batch: x holds B rows of T input tokens, y the same rows
// shifted by one (the targets). Both are reused by the following call.
func (l *Loader) Next() (x, y []int32, err error) {
	for l.batch >= l.srcs[l.order[l.pos]].batch {
		l.pos++
		l.batch = 0
		if l.pos == len(l.order) {
			l.startEpoch(l.epoch + 1)
		}
	}
	si := l.order[l.pos]
	src := &l.srcs[si]
	T, B := l.opts.T, l.opts.B
	if l.winFor != [2]int{l.epoch, si} {
		n := int((src.tokens - 1) / int64(T))
		if l.opts.Shuffle {
			l.windows = permutation(n, epochSeed(l.opts.Seed, l.epoch, si))
		} else {
			l.windows = make([]int, n)
			for i := range l.windows {
				l.windows[i] = i
			}
		}
		l.winFor = [2]int{l.epoch, si}
	}
	if src.mem == nil && l.curIdx != si {
		s, err := ReadShard(src.path)
		if err != nil {
			return nil, nil, err
		}
		if s.Header.NumTokens != src.tokens {
			return nil, nil, fmt.Errorf("shard %s changed: %d tokens, was %d", src.path, s.Header.NumTokens, src.tokens)
		}
		l.cur, l.curIdx = s, si
	}
	first := (l.batch*l.opts.WorldSize + l.opts.Rank) * B
	if len(l.row) != T+1 {
		l.row = make([]int32, T+1)
	}
	row := l.row
	for b := 0; b < B; b++ {
		start := l.windows[first+b] * T
		if src.mem != nil {
			copy(row, src.mem[start:start+T+1])
		} else {
			l.cur.copyTo(row, start)
		}
		if v := l.opts.VocabSize; v > 0 {
			for i, t := range row {
				if t < 0 || int(t) >= v {
					return nil, nil, fmt.Errorf("%s: token id %d at position %d is not below the vocabulary size %d", src.path, t, start+i, v)
				}
			}
		}
		copy(l.x[b*T:], row[:T])
		copy(l.y[b*T:], row[1:])
	}
	l.batch++
	return l.x, l.y, nil
}

// Reset goes back to the first batch of epoch 0.
func (l *Loader) Reset() { l.startEpoch(0) }

// State returns the loader's position.
func (l *Loader) State() LoaderState {
	return LoaderState{Epoch: l.epoch, Shard: l.pos, Batch: l.batch,
		B: l.opts.B, T: l.opts.T, Rank: l.opts.Rank, WorldSize: l.opts.WorldSize,
		Seed: l.opts.Seed, Shuffle: l.opts.Shuffle, Shards: len(l.srcs), Tokens: l.total}
}

// Restore moves the loader to a position saved by State. It fails, naming the
// field, if the state belongs to a loader with other options or data. The
// position counts global batches of B·WorldSize windows, so a state saved by one
// rank of N restores into a loader with another number of ranks as long as the
// global batch is the same (2 ranks of B=4 ↔ 1 rank of B=8): data-parallel
// training resumes with a different number of ranks.
func (l *Loader) Restore(s LoaderState) error {
	cur := l.State()
	if s.WorldSize == 0 {
		s.WorldSize = 1
	}
	if s.B*s.WorldSize != cur.B*cur.WorldSize {
		return fmt.Errorf("restore loader: saved state has B=%d × WorldSize=%d = %d windows per global batch, this loader has B=%d × WorldSize=%d = %d",
			s.B, s.WorldSize, s.B*s.WorldSize, cur.B, cur.WorldSize, cur.B*cur.WorldSize)
	}
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"T", s.T, cur.T},
		{"Seed", s.Seed, cur.Seed}, {"Shuffle", s.Shuffle, cur.Shuffle}, {"Shards", s.Shards, cur.Shards}, {"Tokens", s.Tokens, cur.Tokens},
	} {
		if f.got != f.want {
			return fmt.Errorf("restore loader: saved state has %s=%v, this loader has %s=%v", f.name, f.got, f.name, f.want)
		}
	}
	if s.Epoch < 0 || s.Shard < 0 || s.Shard >= len(l.srcs) || s.Batch < 0 {
		return fmt.Errorf("restore loader: position epoch %d shard %d batch %d is out of range", s.Epoch, s.Shard, s.Batch)
	}
	l.startEpoch(s.Epoch)
	if s.Batch > l.srcs[l.order[s.Shard]].batch {
		err := fmt.Errorf("restore loader: batch %d is past the %d batches of shard position %d", s.Batch, l.srcs[l.order[s.Shard]].batch, s.Shard)
		l.startEpoch(cur.Epoch)
		l.pos, l.batch = cur.Shard, cur.Batch
		return err
	}
	l.pos, l.batch = s.Shard, s.Batch
	return nil
}
