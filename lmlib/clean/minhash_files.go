package clean

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/golem-lm/golem/lmlib/data"
)

// The files of a staged MinHash dedup (StagedRun), all little-endian and written
// atomically (a file under its final name is complete):
//
//	part-SSSSS.sig     per input shard: "GMHSIG01", n-grams, buckets, hashes per
//	                   bucket, seed, shard (u32 each, then u32 0), the size and
//	                   modification time (ns) of the filter output it was made from
//	                   (i64 each), the record count of each bucket (u64 each), then
//	                   each bucket's records sorted by (key, position): bucket key
//	                   u64, position of the document in the filter output u32.
//	bucket-BBB.dups    per bucket: "GMHDUP01", bucket u32, u32 0, the hex SHA-256
//	                   of the signature files it was made from (64 bytes), then
//	                   pairs of documents with equal keys: shard u32, position u32,
//	                   shard u32, position u32 (the first of each run of equal keys
//	                   with each later one).
//	part-SSSSS.remove  per input shard with removals: "GMHREM01", count u64, the
//	                   positions to remove, ascending (u32 each).

const (
	sigMagic  = "GMHSIG01"
	dupsMagic = "GMHDUP01"
	rmMagic   = "GMHREM01"
	sigRecLen = 12
	pairLen   = 16
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

type sigRec struct {
	key uint64
	pos uint32
}

type sigHeader struct {
	cfg        MinHashConfig
	shard      uint32
	inputSize  int64
	inputMtime int64
	counts     []uint64
	dataStart  int64
}

func sigHeaderLen(buckets int) int64 { return int64(8 + 6*4 + 2*8 + 8*buckets) }

func readSigHeader(path string) (sigHeader, error) {
	var hd sigHeader
	f, err := os.Open(path)
	if err != nil {
		return hd, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return hd, err
	}
	fixed := make([]byte, 8+6*4+2*8)
	if _, err := io.ReadFull(f, fixed); err != nil || string(fixed[:8]) != sigMagic {
		return hd, fmt.Errorf("%s is not a MinHash signature file (bad header)", path)
	}
	u := func(i int) uint32 { return binary.LittleEndian.Uint32(fixed[8+4*i:]) }
	hd.cfg = MinHashConfig{NGrams: int(u(0)), NumBuckets: int(u(1)), HashesPerBucket: int(u(2)), Seed: u(3)}
	hd.shard = u(4)
	hd.inputSize = int64(binary.LittleEndian.Uint64(fixed[32:]))
	hd.inputMtime = int64(binary.LittleEndian.Uint64(fixed[40:]))
	if hd.cfg.NumBuckets <= 0 || hd.cfg.NumBuckets > 1<<16 {
		return hd, fmt.Errorf("%s: %d buckets is not a valid count", path, hd.cfg.NumBuckets)
	}
	counts := make([]byte, 8*hd.cfg.NumBuckets)
	if _, err := io.ReadFull(f, counts); err != nil {
		return hd, fmt.Errorf("%s: truncated header: %w", path, err)
	}
	var total uint64
	for b := 0; b < hd.cfg.NumBuckets; b++ {
		c := binary.LittleEndian.Uint64(counts[8*b:])
		hd.counts = append(hd.counts, c)
		total += c
	}
	hd.dataStart = sigHeaderLen(hd.cfg.NumBuckets)
	if want := hd.dataStart + int64(total)*sigRecLen; st.Size() != want {
		return hd, fmt.Errorf("%s: %d bytes, the header says %d", path, st.Size(), want)
	}
	return hd, nil
}

// writeSignatures writes the signature file of one shard of the filter stage's
// output, unless a current one exists (done is then false).
func writeSignatures(ctx context.Context, h *MinHasher, shard int, in, out string, maxDoc, workers int) (done bool, err error) {
	st, err := os.Stat(in)
	if err != nil {
		return false, fmt.Errorf("filter output of shard %d: %w", shard, err)
	}
	if hd, err := readSigHeader(out); err == nil && hd.cfg == h.cfg && hd.shard == uint32(shard) &&
		hd.inputSize == st.Size() && hd.inputMtime == st.ModTime().UnixNano() {
		return false, nil
	}
	rd, err := data.OpenFile(in, data.ReadOptions{MaxDocBytes: maxDoc})
	if err != nil {
		return false, err
	}
	defer rd.Close()
	nb := h.cfg.NumBuckets
	recs := make([][]sigRec, nb)
	const batchLen = 256
	batch := make([]*data.Doc, 0, batchLen)
	keys := make([][]uint64, batchLen)
	pos := 0
	flush := func() error {
		var wg sync.WaitGroup
		w := max(1, min(workers, len(batch)))
		for g := 0; g < w; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := g; i < len(batch); i += w {
					keys[i] = h.BucketKeys(h.Signature(batch[i].Text))
				}
			}(g)
		}
		wg.Wait()
		for i := range batch {
			if pos+i > 1<<32-1 {
				return fmt.Errorf("%s: more than 2^32-1 documents in one shard", in)
			}
			for b, k := range keys[i] {
				recs[b] = append(recs[b], sigRec{k, uint32(pos + i)})
			}
			keys[i] = nil
		}
		pos += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		d, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		batch = append(batch, d)
		if len(batch) == batchLen {
			if err := ctxErr(ctx); err != nil {
				return false, err
			}
			if err := flush(); err != nil {
				return false, err
			}
		}
	}
	if err := flush(); err != nil {
		return false, err
	}
	for b := range recs {
		slices.SortFunc(recs[b], func(p, q sigRec) int {
			if p.key != q.key {
				if p.key < q.key {
					return -1
				}
				return 1
			}
			return int(p.pos) - int(q.pos)
		})
	}
	f, err := data.CreateAtomic(out)
	if err != nil {
		return false, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	hdr := make([]byte, 0, sigHeaderLen(nb))
	hdr = append(hdr, sigMagic...)
	for _, v := range []uint32{uint32(h.cfg.NGrams), uint32(nb), uint32(h.cfg.HashesPerBucket), h.cfg.Seed, uint32(shard), 0} {
		hdr = binary.LittleEndian.AppendUint32(hdr, v)
	}
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(st.Size()))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(st.ModTime().UnixNano()))
	for b := range recs {
		hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(recs[b])))
	}
	bw.Write(hdr)
	var rec [sigRecLen]byte
	for b := range recs {
		for _, r := range recs[b] {
			binary.LittleEndian.PutUint64(rec[:8], r.key)
			binary.LittleEndian.PutUint32(rec[8:], r.pos)
			if _, err := bw.Write(rec[:]); err != nil {
				f.Abort()
				return false, fmt.Errorf("write %s: %w", out, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return false, fmt.Errorf("write %s: %w", out, err)
	}
	return true, f.Commit()
}

// sigStream reads one bucket's records of one signature file in order.
type sigStream struct {
	path  string
	shard uint32
	r     *bufio.Reader
	left  uint64
	cur   sigRec
	buf   [sigRecLen]byte
	first bool
}

func (s *sigStream) next() (bool, error) {
	if s.left == 0 {
		return false, nil
	}
	if _, err := io.ReadFull(s.r, s.buf[:]); err != nil {
		return false, fmt.Errorf("read %s: %w", s.path, err)
	}
	s.left--
	r := sigRec{binary.LittleEndian.Uint64(s.buf[:8]), binary.LittleEndian.Uint32(s.buf[8:])}
	if !s.first && (r.key < s.cur.key || (r.key == s.cur.key && r.pos <= s.cur.pos)) {
		return false, fmt.Errorf("%s: records out of order (a corrupt file): run the filter stage for shard %d again", s.path, s.shard)
	}
	s.cur, s.first = r, false
	return true, nil
}

type sigHeap []*sigStream

func (h sigHeap) Len() int { return len(h) }
func (h sigHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.cur.key != b.cur.key {
		return a.cur.key < b.cur.key
	}
	if a.shard != b.shard {
		return a.shard < b.shard
	}
	return a.cur.pos < b.cur.pos
}
func (h sigHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sigHeap) Push(x any)   { *h = append(*h, x.(*sigStream)) }
func (h *sigHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func dupsHeaderLen() int64 { return 8 + 8 + 64 }

// readDupsHeader returns the signature fingerprint a bucket file was made from
// and its size.
func readDupsHeader(path string, bucket int) (fp string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	hdr := make([]byte, dupsHeaderLen())
	if _, err := io.ReadFull(f, hdr); err != nil || string(hdr[:8]) != dupsMagic {
		return "", 0, fmt.Errorf("%s is not a MinHash duplicate pairs file (bad header)", path)
	}
	if b := binary.LittleEndian.Uint32(hdr[8:]); int(b) != bucket {
		return "", 0, fmt.Errorf("%s holds bucket %d, not %d", path, b, bucket)
	}
	if (st.Size()-dupsHeaderLen())%pairLen != 0 {
		return "", 0, fmt.Errorf("%s: %d bytes is not a header and whole pairs", path, st.Size())
	}
	return string(hdr[16:]), st.Size(), nil
}

// findDuplicatePairs merges bucket b of every signature file (a k-way merge, so
// memory is one buffer per file) and writes the pairs of documents with equal
// keys, unless a current pairs file exists (done is then false).
func findDuplicatePairs(ctx context.Context, h *MinHasher, b int, sigs []string, out, fp string) (pairs int64, done bool, err error) {
	if got, size, err := readDupsHeader(out, b); err == nil && got == fp {
		return (size - dupsHeaderLen()) / pairLen, false, nil
	}
	var streams sigHeap
	for s, path := range sigs {
		hd, err := readSigHeader(path)
		if err != nil {
			return 0, false, err
		}
		if hd.cfg != h.cfg {
			return 0, false, fmt.Errorf("%s was made with %+v, not %+v", path, hd.cfg, h.cfg)
		}
		off := hd.dataStart
		for k := 0; k < b; k++ {
			off += int64(hd.counts[k]) * sigRecLen
		}
		if hd.counts[b] == 0 {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return 0, false, err
		}
		defer f.Close()
		st := &sigStream{path: path, shard: uint32(s), left: hd.counts[b], first: true,
			r: bufio.NewReaderSize(io.NewSectionReader(f, off, int64(hd.counts[b])*sigRecLen), 16<<10)}
		ok, err := st.next()
		if err != nil {
			return 0, false, err
		}
		if ok {
			streams = append(streams, st)
		}
	}
	heap.Init(&streams)
	f, err := data.CreateAtomic(out)
	if err != nil {
		return 0, false, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	hdr := append([]byte(dupsMagic), make([]byte, 8)...)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(b))
	bw.Write(append(hdr, fp...))
	var runKey uint64
	var runShard, runPos uint32
	inRun := false
	var rec [pairLen]byte
	n := 0
	for streams.Len() > 0 {
		if n++; n%(1<<16) == 0 {
			if err := ctxErr(ctx); err != nil {
				f.Abort()
				return 0, false, err
			}
		}
		s := streams[0]
		cur := s.cur
		if inRun && cur.key == runKey {
			binary.LittleEndian.PutUint32(rec[0:], runShard)
			binary.LittleEndian.PutUint32(rec[4:], runPos)
			binary.LittleEndian.PutUint32(rec[8:], s.shard)
			binary.LittleEndian.PutUint32(rec[12:], cur.pos)
			bw.Write(rec[:])
			pairs++
		} else {
			runKey, runShard, runPos, inRun = cur.key, s.shard, cur.pos, true
		}
		ok, err := s.next()
		if err != nil {
			f.Abort()
			return 0, false, err
		}
		if ok {
			heap.Fix(&streams, 0)
		} else {
			heap.Pop(&streams)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return 0, false, fmt.Errorf("write %s: %w", out, err)
	}
	return pairs, true, f.Commit()
}

// clusterPairs joins the documents of every pair with union-find (each
// document's root is the lowest (shard, position) of its cluster) and returns,
// per shard, the ascending positions of every document that is not its cluster's
// root, and the number of clusters.
func clusterPairs(dups []string) (map[int][]uint32, int64, error) {
	parent := map[uint64]uint64{}
	find := func(v uint64) uint64 {
		p, ok := parent[v]
		if !ok {
			parent[v] = v
			return v
		}
		root := v
		for p != root {
			root = p
			p = parent[root]
		}
		for v != root { // path compression
			next := parent[v]
			parent[v] = root
			v = next
		}
		return root
	}
	for b, path := range dups {
		if _, _, err := readDupsHeader(path, b); err != nil {
			return nil, 0, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		r := bufio.NewReaderSize(f, 1<<16)
		if _, err := r.Discard(int(dupsHeaderLen())); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
		var rec [pairLen]byte
		for {
			if _, err := io.ReadFull(r, rec[:]); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				f.Close()
				return nil, 0, fmt.Errorf("read %s: %w", path, err)
			}
			a := uint64(binary.LittleEndian.Uint32(rec[0:]))<<32 | uint64(binary.LittleEndian.Uint32(rec[4:]))
			c := uint64(binary.LittleEndian.Uint32(rec[8:]))<<32 | uint64(binary.LittleEndian.Uint32(rec[12:]))
			ra, rc := find(a), find(c)
			switch {
			case ra < rc:
				parent[rc] = ra
			case rc < ra:
				parent[ra] = rc
			}
		}
		f.Close()
	}
	remove := map[int][]uint32{}
	var clusters int64
	for v := range parent {
		if root := find(v); root != v {
			remove[int(v>>32)] = append(remove[int(v>>32)], uint32(v))
		} else {
			clusters++
		}
	}
	for s := range remove {
		slices.Sort(remove[s])
	}
	return remove, clusters, nil
}

func writeRemoveList(path string, list []uint32) error {
	b := make([]byte, 0, 16+4*len(list))
	b = append(b, rmMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(list)))
	for _, p := range list {
		b = binary.LittleEndian.AppendUint32(b, p)
	}
	return data.WriteFileAtomic(path, b)
}

// readRemoveList reads a removal list; a missing file is an empty list.
func readRemoveList(path string) ([]uint32, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) < 16 || string(b[:8]) != rmMagic {
		return nil, fmt.Errorf("%s is not a MinHash removal list (bad header)", path)
	}
	n := binary.LittleEndian.Uint64(b[8:])
	if uint64(len(b)-16) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes for %d positions", path, len(b), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[16+4*i:])
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i] < out[j] }) {
		return nil, fmt.Errorf("%s: positions not ascending (a corrupt file)", path)
	}
	return out, nil
}

// minhashRemoveStep is the dedup stage's filter: it drops the documents the
// clusters stage listed, by (shard, position).
type minhashRemoveStep struct {
	path  func(shard int) string
	lists []*removeList
}

type removeList struct {
	once sync.Once
	pos  []uint32
	err  error
}

func (s *minhashRemoveStep) Name() string { return "minhash_dedup" }

func (s *minhashRemoveStep) Process(d *data.Doc) (string, error) {
	return "", errors.New("the staged MinHash filter needs document positions (run it inside data.Pipeline)")
}

func (s *minhashRemoveStep) ProcessAt(shard, pos int, d *data.Doc) (string, error) {
	if shard < 0 || shard >= len(s.lists) {
		return "", fmt.Errorf("shard %d is not one of the %d shards the clusters were made for", shard, len(s.lists))
	}
	l := s.lists[shard]
	l.once.Do(func() { l.pos, l.err = readRemoveList(s.path(shard)) })
	if l.err != nil {
		return "", l.err
	}
	if _, ok := slices.BinarySearch(l.pos, uint32(pos)); ok {
		return "minhash_duplicate", nil
	}
	return "", nil
}
