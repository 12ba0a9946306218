package tokenizer

import "container/heap"

// largePiece is the length above which a piece is merged with a heap, O(n log n),
// instead of tiktoken's O(n²) scan; both give the same result.
const largePiece = 256

type part struct {
	start int32 // byte offset of the part in the piece
	rank  int32 // rank of the merge of this part with the next one, noRank if none
	tok   int32 // rank of the part itself
}

// rankOf returns the rank of s, noRank when s is not a token.
func (t *Tokenizer) rankOf(s string) int32 {
	if len(s) == 2 {
		return t.pairRank[int(s[0])<<8|int(s[1])]
	}
	return t.table.get(s)
}

// mergeSmall is tiktoken's _byte_pair_merge: repeatedly merge the adjacent pair whose
// concatenation has the lowest rank, the leftmost on ties, then emit the parts' ranks.
// scratch, when not nil, is reused for the parts (it is grown as needed).
func (t *Tokenizer) mergeSmall(out []int, piece string, scratch *[]part) []int {
	var parts []part
	if scratch != nil && cap(*scratch) >= len(piece)+1 {
		parts = (*scratch)[:0]
	} else {
		parts = make([]part, 0, max(len(piece)+1, 32))
		if scratch != nil {
			*scratch = parts
		}
	}
	minRank, minIdx := int32(noRank), -1
	pr := t.pairRank
	for i := 0; i+1 < len(piece); i++ {
		r := pr[int(piece[i])<<8|int(piece[i+1])]
		if r < minRank {
			minRank, minIdx = r, i
		}
		parts = append(parts, part{int32(i), r, t.byteRank[piece[i]]})
	}
	parts = append(parts, part{int32(len(piece) - 1), noRank, t.byteRank[piece[len(piece)-1]]}, part{int32(len(piece)), noRank, noRank})
	for minRank != noRank {
		i := minIdx
		parts[i].tok = minRank
		if i > 0 {
			parts[i-1].rank = t.rankAfter(piece, parts, i-1)
		}
		parts[i].rank = t.rankAfter(piece, parts, i)
		copy(parts[i+1:], parts[i+2:])
		parts = parts[:len(parts)-1]
		minRank, minIdx = noRank, -1
		for j, p := range parts[:len(parts)-1] {
			if p.rank < minRank {
				minRank, minIdx = p.rank, j
			}
		}
	}
	for _, p := range parts[:len(parts)-1] {
		out = append(out, int(p.tok))
	}
	return out
}

// rankAfter is the rank of parts i and i+1 merged together with part i+2 as the merge
// candidate: the bytes from parts[i] to parts[i+3] (before i+1 is removed).
func (t *Tokenizer) rankAfter(piece string, parts []part, i int) int32 {
	if i+3 < len(parts) {
		return t.rankOf(piece[parts[i].start:parts[i+3].start])
	}
	return noRank
}

// mergeLarge gives mergeSmall's result for long pieces in O(n log n): parts form a
// linked list and candidate merges sit in a heap ordered by (rank, start), which is
// tiktoken's choice (lowest rank, leftmost). Stale heap entries are skipped.
func (t *Tokenizer) mergeLarge(out []int, piece string) []int {
	n := len(piece)
	next := make([]int32, n+1) // next[start] = start of the following part
	prev := make([]int32, n+1)
	alive := make([]bool, n+1)
	for i := 0; i <= n; i++ {
		next[i] = int32(i + 1)
		prev[i] = int32(i - 1)
		alive[i] = true
	}
	h := &mergeHeap{}
	for i := 0; i+1 < n; i++ {
		if r := t.pairRank[int(piece[i])<<8|int(piece[i+1])]; r != noRank {
			h.items = append(h.items, mergeItem{r, int32(i), int32(i + 2)})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		it := heap.Pop(h).(mergeItem)
		a := it.start
		if !alive[a] {
			continue
		}
		b := next[a] // start of the second part
		if b > int32(n) || next[b] != it.end {
			continue // stale: one of the parts changed since the entry was pushed
		}
		// merge a and b
		alive[b] = false
		next[a] = next[b]
		if next[a] <= int32(n) {
			prev[next[a]] = a
		}
		// new candidates: (prev(a), a) and (a, next(a))
		if p := prev[a]; p >= 0 {
			if r := t.rankOf(piece[p:next[a]]); r != noRank {
				heap.Push(h, mergeItem{r, p, next[a]})
			}
		}
		if c := next[a]; c < int32(n) {
			if r := t.rankOf(piece[a:next[c]]); r != noRank {
				heap.Push(h, mergeItem{r, a, next[c]})
			}
		}
	}
	for i := int32(0); i < int32(n); i = next[i] {
		out = append(out, int(t.rankOf(piece[i:next[i]])))
	}
	return out
}

type mergeItem struct {
	rank       int32
	start, end int32 // byte range of the merged token
}

type mergeHeap struct{ items []mergeItem }

func (h *mergeHeap) Len() int { return len(h.items) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.start < b.start
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}
