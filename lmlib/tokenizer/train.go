package tokenizer

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/data"
)

// TrainOptions configures Train.
type TrainOptions struct {
	// VocabSize is the final number of ids: special tokens + 256 bytes + merges (fewer
	// when the corpus runs out of pairs, or MinFrequency stops training).
	VocabSize int
	// SpecialTokens get the first ids, in this order (HF's BpeTrainer does the same).
	// "<|endoftext|>" becomes the EOT token.
	SpecialTokens []string
	// MinFrequency stops training when the best pair occurs fewer times (0: never).
	MinFrequency int
	// Pattern is the pre-tokenizer: "gpt2" (default), "cl100k" or "o200k".
	Pattern string
	// Name names the vocabulary (default "trained").
	Name string
	// Progress shows a progress bar (a live one in a notebook).
	Progress bool
	// Workers is the number of counting goroutines (default GOMAXPROCS).
	Workers int
	// Context stops training when cancelled (an error, no vocabulary).
	// [display.Context(): in a notebook, the cell's, which Jupyter's interrupt cancels]
	Context context.Context
}

// Train learns a byte-level BPE vocabulary from texts. See TrainFunc.
func Train(texts []string, opts TrainOptions) (*Tokenizer, error) {
	i := 0
	return TrainFunc(func() (string, bool) {
		if i == len(texts) {
			return "", false
		}
		i++
		return texts[i-1], true
	}, opts)
}

// TrainReader learns a vocabulary from the documents of a data.Reader (JSONL, Parquet,
// text files, WARC …), up to io.EOF; the caller closes r. See TrainFunc.
func TrainReader(r data.Reader, opts TrainOptions) (*Tokenizer, error) {
	var rerr error
	t, err := TrainFunc(func() (string, bool) {
		d, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
			return "", false
		}
		return d.Text, true
	}, opts)
	if rerr != nil {
		return nil, fmt.Errorf("tokenizer: train: read documents: %w", rerr)
	}
	return t, err
}

// TrainFunc learns a byte-level BPE vocabulary from the documents next returns (until it
// returns false). It gives the merges of HF tokenizers' BpeTrainer with a ByteLevel
// pre-tokenizer and the full 256-byte initial alphabet:
//
//  1. pre-tokenize every document and count the pieces, in parallel;
//  2. ids: special tokens, then the 256 bytes in the order of their byte-level
//     characters, then one id per merge;
//  3. repeatedly merge the most frequent adjacent pair; ties go to the pair with the
//     smallest (left id, right id), exactly HF's rule. Pair counts are updated
//     incrementally from the words that contain the merged pair (a pair → words index
//     and a lazy max-heap), never recounted.
//
// A merge whose result equals an existing token reuses its id, as HF does.
func TrainFunc(next func() (string, bool), opts TrainOptions) (*Tokenizer, error) {
	if opts.Pattern == "" {
		opts.Pattern = PatternGPT2
	}
	split, ok := splitters[opts.Pattern]
	if !ok {
		return nil, fmt.Errorf("tokenizer: train: unknown pattern %q (want gpt2, cl100k or o200k)", opts.Pattern)
	}
	if opts.Name == "" {
		opts.Name = "trained"
	}
	base := len(opts.SpecialTokens) + 256
	if opts.VocabSize < base {
		return nil, fmt.Errorf("tokenizer: train: VocabSize %d is below %d (special tokens + 256 bytes)", opts.VocabSize, base)
	}
	seen := map[string]bool{}
	for _, s := range opts.SpecialTokens {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer: train: special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var end func()
	opts.Context, end = display.Call(opts.Context)
	defer end()
	ctx := opts.Context
	// Reading stops at the first document after a cancel; the check below reports it.
	source := next
	next = func() (string, bool) {
		if ctx.Err() != nil {
			return "", false
		}
		return source()
	}
	var prog *display.Progress
	if opts.Progress {
		prog = display.NewProgress("BPE: count pieces", 0)
	}
	counts := countPieces(next, split, workers, prog)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: train: interrupted while counting: %w", err)
	}
	if prog != nil {
		prog.Done(fmt.Sprintf("%d distinct pieces", len(counts)))
		prog = display.NewProgress("BPE: merges", int64(opts.VocabSize-base))
	}
	t, err := learnMerges(counts, opts, prog)
	if prog != nil && err == nil {
		prog.Done(fmt.Sprintf("vocabulary of %d", t.VocabSize()))
	}
	return t, err
}

// countPieces pre-tokenizes documents on workers goroutines and returns piece → count.
func countPieces(next func() (string, bool), split splitter, workers int, prog *display.Progress) map[string]int {
	batches := make(chan []string, workers*2)
	results := make(chan map[string]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]int{}
			for batch := range batches {
				n := 0
				for _, text := range batch {
					n += len(text)
					for i := 0; i < len(text); {
						j := split(text, i)
						piece := text[i:j]
						if c, ok := local[piece]; ok {
							local[piece] = c + 1
						} else {
							local[strings.Clone(piece)] = 1
						}
						i = j
					}
				}
				if prog != nil {
					prog.Add(int64(n), "bytes")
				}
			}
			results <- local
		}()
	}
	go func() {
		var batch []string
		size := 0
		for {
			text, ok := next()
			if !ok {
				break
			}
			batch = append(batch, text)
			size += len(text)
			if size >= 256<<10 {
				batches <- batch
				batch, size = nil, 0
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		close(batches)
		wg.Wait()
		close(results)
	}()
	var total map[string]int
	for m := range results {
		if total == nil || len(m) > len(total) {
			m, total = total, m
		}
		for k, v := range m {
			total[k] += v
		}
	}
	if total == nil {
		total = map[string]int{}
	}
	return total
}

type pairKey uint64

func mkPair(a, b int32) pairKey         { return pairKey(uint64(uint32(a))<<32 | uint64(uint32(b))) }
func (p pairKey) parts() (int32, int32) { return int32(uint32(p >> 32)), int32(uint32(p)) }

// trainMerge is a heap entry: a pair, its count when pushed, and the words that held it.
type trainMerge struct {
	pair  pairKey
	count int64
	pos   []int32
}

type mergeQueue []*trainMerge

func (q mergeQueue) Len() int { return len(q) }
func (q mergeQueue) Less(i, j int) bool {
	if q[i].count != q[j].count {
		return q[i].count > q[j].count
	}
	return q[i].pair < q[j].pair
}
func (q mergeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *mergeQueue) Push(x any)   { *q = append(*q, x.(*trainMerge)) }
func (q *mergeQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// pairChange is one pair-count update from merging inside one word.
type pairChange struct {
	pair  pairKey
	delta int32
	word  int32
}

func learnMerges(counts map[string]int, opts TrainOptions, prog *display.Progress) (*Tokenizer, error) {
	// ids: special tokens, then bytes sorted by their byte-level character
	var idToTok []string
	tokToID := map[string]int32{}
	for _, s := range opts.SpecialTokens {
		idToTok = append(idToTok, s)
	}
	order := make([]int, 256)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return byteToRune[order[i]] < byteToRune[order[j]] })
	var byteID [256]int32
	for _, b := range order {
		byteID[b] = int32(len(idToTok))
		tokToID[string([]byte{byte(b)})] = int32(len(idToTok))
		idToTok = append(idToTok, string([]byte{byte(b)}))
	}
	nSpecial := len(opts.SpecialTokens)

	// words, sorted for a deterministic layout
	pieces := make([]string, 0, len(counts))
	for p := range counts {
		pieces = append(pieces, p)
	}
	sort.Strings(pieces)
	words := make([][]int32, len(pieces))
	wcount := make([]int64, len(pieces))
	for i, p := range pieces {
		w := make([]int32, len(p))
		for k := 0; k < len(p); k++ {
			w[k] = byteID[p[k]]
		}
		words[i] = w
		wcount[i] = int64(counts[p])
	}

	pairCounts := map[pairKey]int64{}
	where := map[pairKey][]int32{}
	for wi, w := range words {
		for k := 0; k+1 < len(w); k++ {
			pk := mkPair(w[k], w[k+1])
			pairCounts[pk] += wcount[wi]
			if pos := where[pk]; len(pos) == 0 || pos[len(pos)-1] != int32(wi) {
				where[pk] = append(pos, int32(wi))
			}
		}
	}
	q := make(mergeQueue, 0, len(where))
	for pk, pos := range where {
		if c := pairCounts[pk]; c > 0 {
			q = append(q, &trainMerge{pk, c, pos})
		}
	}
	heap.Init(&q)
	where = map[pairKey][]int32{}

	var merges [][2]int
	var changes []pairChange
	for len(tokToID)+nSpecial < opts.VocabSize && q.Len() > 0 {
		if err := opts.Context.Err(); err != nil {
			return nil, fmt.Errorf("tokenizer: train: interrupted after %d merges: %w", len(merges), err)
		}
		top := heap.Pop(&q).(*trainMerge)
		if c := pairCounts[top.pair]; top.count != c {
			top.count = c
			heap.Push(&q, top)
			continue
		}
		if top.count < 1 || int64(opts.MinFrequency) > top.count {
			break
		}
		a, b := top.pair.parts()
		newTok := idToTok[a] + idToTok[b]
		newID, ok := tokToID[newTok]
		if !ok {
			newID = int32(len(idToTok))
			idToTok = append(idToTok, newTok)
			tokToID[newTok] = newID
		}
		merges = append(merges, [2]int{int(a), int(b)})
		if prog != nil {
			prog.Add(1, "")
		}
		changes = changes[:0]
		for _, wi := range top.pos {
			words[wi], changes = mergeWord(words[wi], a, b, newID, wi, changes)
		}
		for _, ch := range changes {
			pairCounts[ch.pair] += int64(ch.delta) * wcount[ch.word]
			if ch.delta > 0 {
				if pos := where[ch.pair]; len(pos) == 0 || pos[len(pos)-1] != ch.word {
					where[ch.pair] = append(pos, ch.word)
				}
			}
		}
		for pk, pos := range where {
			if c := pairCounts[pk]; c > 0 {
				heap.Push(&q, &trainMerge{pk, c, pos})
			}
			delete(where, pk)
		}
	}

	ranks := map[string]int{}
	for id := nSpecial; id < len(idToTok); id++ {
		ranks[idToTok[id]] = id
	}
	specials := map[string]int{}
	for i, s := range opts.SpecialTokens {
		specials[s] = i
	}
	t, err := New(opts.Name, opts.Pattern, ranks, specials)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	t.merges = merges
	return t, nil
}

// mergeWord replaces every non-overlapping (a, b) in w, left to right, by id and records
// the pair-count changes, as HF's Word::merge does.
func mergeWord(w []int32, a, b, id int32, wi int32, changes []pairChange) ([]int32, []pairChange) {
	out := w[:0]
	for i := 0; i < len(w); i++ {
		if w[i] == a && i+1 < len(w) && w[i+1] == b {
			if len(out) > 0 {
				prev := out[len(out)-1]
				changes = append(changes, pairChange{mkPair(prev, a), -1, wi}, pairChange{mkPair(prev, id), 1, wi})
			}
			if i+2 < len(w) {
				nxt := w[i+2]
				changes = append(changes, pairChange{mkPair(b, nxt), -1, wi}, pairChange{mkPair(id, nxt), 1, wi})
			}
			out = append(out, id)
			i++
			continue
		}
		out = append(out, w[i])
	}
	return out, changes
}
