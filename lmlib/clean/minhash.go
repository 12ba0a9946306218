package clean

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/golem-lm/golem/lmlib/data"
)

const mersennePrime = (1 << 61) - 1

// MinHashConfig configures MinHash near-duplicate detection. The defaults are
// FineWeb's (datatrove's MinhashConfig): word 5-gram shingles of SimplifyText'ed
// text hashed with 64-bit xxhash, 14 buckets of 8 hashes, parameters drawn from
// numpy's RandomState(1). Two documents are duplicates when all 8 hashes of any one
// bucket are equal; with 14×8 a pair of Jaccard similarity 0.8 is caught with
// probability 0.92, one of 0.5 with 0.05.
type MinHashConfig struct {
	NGrams          int    // words per shingle (5)
	NumBuckets      int    // LSH bands (14)
	HashesPerBucket int    // rows per band (8)
	Seed            uint32 // RandomState seed of the permutation parameters (1)
}

// DefaultMinHashConfig returns FineWeb's MinHash settings.
func DefaultMinHashConfig() MinHashConfig {
	return MinHashConfig{NGrams: 5, NumBuckets: 14, HashesPerBucket: 8, Seed: 1}
}

// MinHasher computes MinHash signatures exactly as datatrove's MinhashDedupSignature.
type MinHasher struct {
	cfg  MinHashConfig
	a, b []uint64
}

// NewMinHasher draws the permutation parameters for cfg.
func NewMinHasher(cfg MinHashConfig) (*MinHasher, error) {
	if cfg.NGrams <= 0 || cfg.NumBuckets <= 0 || cfg.HashesPerBucket <= 0 {
		return nil, fmt.Errorf("minhash config %+v: n-grams, buckets and hashes per bucket must be positive", cfg)
	}
	n := cfg.NumBuckets * cfg.HashesPerBucket
	rs := newMT19937(cfg.Seed)
	m := &MinHasher{cfg: cfg, a: make([]uint64, n), b: make([]uint64, n)}
	for i := range m.a {
		m.a[i] = rs.randUint64(1, mersennePrime)
	}
	for i := range m.b {
		m.b[i] = rs.randUint64(0, mersennePrime)
	}
	return m, nil
}

// Config returns the configuration.
func (m *MinHasher) Config() MinHashConfig { return m.cfg }

// Shingles returns the 64-bit xxhash of every word n-gram of the simplified text
// (words joined by one space). A text with fewer than NGrams words has none.
func (m *MinHasher) Shingles(text string) []uint64 {
	words := Words(SimplifyText(text))
	n := m.cfg.NGrams
	if len(words) < n {
		return nil
	}
	out := make([]uint64, 0, len(words)-n+1)
	buf := make([]byte, 0, 128)
	for i := 0; i+n <= len(words); i++ {
		buf = buf[:0]
		for j, w := range words[i : i+n] {
			if j > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, w...)
		}
		out = append(out, xxhash.Sum64(buf))
	}
	return out
}

// Signature returns the NumBuckets×HashesPerBucket minimum hashes of text, bucket
// after bucket, or nil when the text has no shingles (it then has no duplicates).
func (m *MinHasher) Signature(text string) []uint64 {
	sh := m.Shingles(text)
	if len(sh) == 0 {
		return nil
	}
	sig := make([]uint64, len(m.a))
	for i := range sig {
		sig[i] = ^uint64(0)
	}
	for _, s := range sh {
		for i, a := range m.a {
			// numpy's uint64 arithmetic wraps before the modulo
			v := (s*a + m.b[i]) % mersennePrime
			if v < sig[i] {
				sig[i] = v
			}
		}
	}
	return sig
}

// BucketKeys condenses each bucket of a signature into one 64-bit key: equal buckets
// have equal keys (different ones collide with probability 2⁻⁶⁴).
func (m *MinHasher) BucketKeys(sig []uint64) []uint64 {
	if sig == nil {
		return nil
	}
	keys := make([]uint64, m.cfg.NumBuckets)
	var buf [8]byte
	var d xxhash.Digest
	for b := range keys {
		d.Reset()
		for _, h := range sig[b*m.cfg.HashesPerBucket : (b+1)*m.cfg.HashesPerBucket] {
			binary.LittleEndian.PutUint64(buf[:], h)
			d.Write(buf[:])
		}
		keys[b] = d.Sum64()
	}
	return keys
}

// MinHashDeduper is the streaming form of MinHash dedup, a data.Step: it drops a
// document ("minhash_duplicate") when one of its buckets equals a bucket of any
// document seen before. It keeps only 14 bucket keys per document in memory (about
// 0.3 KB), never the text. Bucket keys of dropped documents are remembered too, so a
// chain of near-duplicates A~B~C is removed after A, like datatrove's clusters. In a
// parallel pipeline "seen before" follows processing order; use MinHashIndex for a
// result that does not depend on it.
type MinHashDeduper struct {
	h      *MinHasher
	shards [64]struct {
		sync.Mutex
		seen map[uint64]struct{}
	}
}

// NewMinHashDeduper returns a streaming MinHash dedup step.
func NewMinHashDeduper(cfg MinHashConfig) (*MinHashDeduper, error) {
	h, err := NewMinHasher(cfg)
	if err != nil {
		return nil, err
	}
	m := &MinHashDeduper{h: h}
	for i := range m.shards {
		m.shards[i].seen = map[uint64]struct{}{}
	}
	return m, nil
}

// Name implements data.Step.
func (m *MinHashDeduper) Name() string { return "minhash_dedup" }

// Process implements data.Step.
func (m *MinHashDeduper) Process(d *data.Doc) (string, error) {
	keys := m.h.BucketKeys(m.h.Signature(d.Text))
	dup := false
	for b, k := range keys {
		k ^= uint64(b) * 0x9e3779b97f4a7c15 // buckets are separate namespaces
		s := &m.shards[k%uint64(len(m.shards))]
		s.Lock()
		if _, ok := s.seen[k]; ok {
			dup = true
		} else {
			s.seen[k] = struct{}{}
		}
		s.Unlock()
	}
	if dup {
		return "minhash_duplicate", nil
	}
	return "", nil
}

// MinHashIndex is the two-pass form of MinHash dedup, with datatrove's result: pass
// one Adds every document (its Step does it inside a pipeline); Clusters then sorts
// each bucket's keys, joins documents with equal keys with union-find and returns
// the clusters; pass two runs FilterStep, which keeps the first-added document of
// each cluster and drops the others ("minhash_duplicate"). With a directory, bucket
// records (12 bytes per document and bucket) go to disk and only one bucket is in
// memory while clustering; ids go to disk too, so millions of documents need little
// RAM (a 4-byte union-find parent per document plus one bucket's records).
type MinHashIndex struct {
	h   *MinHasher
	dir string

	mu      sync.Mutex
	n       int      // documents added
	ids     []string // their ids (in memory mode)
	idFile  *os.File // their ids, length-prefixed (on-disk mode)
	idW     *bufio.Writer
	mem     [][]bucketRec
	files   []*os.File
	writers []*bufio.Writer
}

type bucketRec struct {
	key uint64
	doc uint32
}

// NewMinHashIndex returns an index; dir may be "" to keep the bucket records in memory.
func NewMinHashIndex(cfg MinHashConfig, dir string) (*MinHashIndex, error) {
	h, err := NewMinHasher(cfg)
	if err != nil {
		return nil, err
	}
	x := &MinHashIndex{h: h, dir: dir}
	if dir == "" {
		x.mem = make([][]bucketRec, cfg.NumBuckets)
		return x, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("minhash index dir %s: %w", dir, err)
	}
	for b := 0; b < cfg.NumBuckets; b++ {
		p := filepath.Join(dir, fmt.Sprintf("bucket_%03d.sig", b))
		f, err := os.Create(p)
		if err != nil {
			x.closeFiles()
			return nil, fmt.Errorf("create minhash bucket %s: %w", p, err)
		}
		x.files = append(x.files, f)
		x.writers = append(x.writers, bufio.NewWriterSize(f, 1<<16))
	}
	p := filepath.Join(dir, "ids.bin")
	f, err := os.Create(p)
	if err != nil {
		x.closeFiles()
		return nil, fmt.Errorf("create minhash id file %s: %w", p, err)
	}
	x.idFile, x.idW = f, bufio.NewWriterSize(f, 1<<16)
	return x, nil
}

func (x *MinHashIndex) closeFiles() {
	for _, f := range x.files {
		f.Close()
	}
	if x.idFile != nil {
		x.idFile.Close()
	}
}

// eachID calls fn with every document number and id, in the order added.
func (x *MinHashIndex) eachID(fn func(doc uint32, id string)) error {
	if x.idFile == nil {
		for i, id := range x.ids {
			fn(uint32(i), id)
		}
		return nil
	}
	if err := x.idW.Flush(); err != nil {
		return fmt.Errorf("flush minhash ids %s: %w", x.idFile.Name(), err)
	}
	f, err := os.Open(x.idFile.Name())
	if err != nil {
		return fmt.Errorf("open minhash ids: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	buf := make([]byte, 0, 64)
	for doc := 0; doc < x.n; doc++ {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("read minhash ids %s: record %d: %w", f.Name(), doc, err)
		}
		buf = slices.Grow(buf[:0], int(l))[:l]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("read minhash ids %s: record %d: %w", f.Name(), doc, err)
		}
		fn(uint32(doc), string(buf))
	}
	return nil
}

// Add records a document's bucket keys; safe for concurrent use. Documents are
// numbered in the order Add is called.
func (x *MinHashIndex) Add(id, text string) error {
	keys := x.h.BucketKeys(x.h.Signature(text))
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.n >= 1<<32-1 {
		return fmt.Errorf("minhash index: more than 2^32-1 documents")
	}
	doc := uint32(x.n)
	x.n++
	if x.idW != nil {
		var lb [binary.MaxVarintLen64]byte
		x.idW.Write(lb[:binary.PutUvarint(lb[:], uint64(len(id)))])
		if _, err := x.idW.WriteString(id); err != nil {
			return fmt.Errorf("write minhash ids %s: %w", x.idFile.Name(), err)
		}
	} else {
		x.ids = append(x.ids, id)
	}
	var rec [12]byte
	for b, k := range keys {
		if x.mem != nil {
			x.mem[b] = append(x.mem[b], bucketRec{k, doc})
			continue
		}
		binary.LittleEndian.PutUint64(rec[:8], k)
		binary.LittleEndian.PutUint32(rec[8:], doc)
		if _, err := x.writers[b].Write(rec[:]); err != nil {
			return fmt.Errorf("write minhash bucket %s: %w", x.files[b].Name(), err)
		}
	}
	return nil
}

// Len returns the number of documents added.
func (x *MinHashIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.n
}

func (x *MinHashIndex) bucket(b int) ([]bucketRec, error) {
	if x.mem != nil {
		return x.mem[b], nil
	}
	if err := x.writers[b].Flush(); err != nil {
		return nil, fmt.Errorf("flush minhash bucket %s: %w", x.files[b].Name(), err)
	}
	f := x.files[b]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek minhash bucket %s: %w", f.Name(), err)
	}
	raw, err := io.ReadAll(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read minhash bucket %s: %w", f.Name(), err)
	}
	if len(raw)%12 != 0 {
		return nil, fmt.Errorf("minhash bucket %s: %d bytes is not a whole number of 12-byte records", f.Name(), len(raw))
	}
	recs := make([]bucketRec, len(raw)/12)
	for i := range recs {
		recs[i] = bucketRec{binary.LittleEndian.Uint64(raw[i*12:]), binary.LittleEndian.Uint32(raw[i*12+8:])}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return nil, fmt.Errorf("seek minhash bucket %s: %w", f.Name(), err)
	}
	return recs, nil
}

// clusterRoots runs union-find over all buckets; each document's root is the
// lowest-numbered document of its cluster.
func (x *MinHashIndex) clusterRoots() ([]uint32, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	parent := make([]uint32, x.n)
	for i := range parent {
		parent[i] = uint32(i)
	}
	find := func(v uint32) uint32 {
		for parent[v] != v {
			parent[v] = parent[parent[v]]
			v = parent[v]
		}
		return v
	}
	for b := 0; b < x.h.cfg.NumBuckets; b++ {
		recs, err := x.bucket(b)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(recs, func(p, q bucketRec) int {
			if p.key != q.key {
				if p.key < q.key {
					return -1
				}
				return 1
			}
			return int(p.doc) - int(q.doc)
		})
		for i := 1; i < len(recs); i++ {
			if recs[i].key == recs[i-1].key {
				ra, rb := find(recs[i-1].doc), find(recs[i].doc)
				if ra < rb {
					parent[rb] = ra
				} else if rb < ra {
					parent[ra] = rb
				}
			}
		}
	}
	for i := range parent {
		parent[i] = find(uint32(i))
	}
	return parent, nil
}

// Clusters returns every group of two or more near-duplicate documents (their ids,
// in the order they were added), ordered by their first member.
func (x *MinHashIndex) Clusters() ([][]string, error) {
	roots, err := x.clusterRoots()
	if err != nil {
		return nil, err
	}
	size := map[uint32]int{}
	for _, r := range roots {
		size[r]++
	}
	groups := map[uint32][]string{}
	var order []uint32
	err = x.eachID(func(doc uint32, id string) {
		r := roots[doc]
		if size[r] < 2 {
			return
		}
		if _, ok := groups[r]; !ok {
			order = append(order, r)
		}
		groups[r] = append(groups[r], id)
	})
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, r := range order {
		if len(groups[r]) > 1 {
			out = append(out, groups[r])
		}
	}
	return out, nil
}

// Duplicates returns the ids to remove: every member of a cluster but the first added.
func (x *MinHashIndex) Duplicates() (map[string]bool, error) {
	roots, err := x.clusterRoots()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	err = x.eachID(func(doc uint32, id string) {
		if roots[doc] != doc {
			out[id] = true
		}
	})
	return out, err
}

// Close removes the on-disk bucket files.
func (x *MinHashIndex) Close() error {
	x.closeFiles()
	for _, f := range x.files {
		os.Remove(f.Name())
	}
	if x.idFile != nil {
		os.Remove(x.idFile.Name())
	}
	return nil
}

// Step returns the pass-one step: it Adds each document and keeps it. It is a
// data.Finisher: the pipeline's Finish clusters the index, so FilterStep is ready.
func (x *MinHashIndex) Step() data.Step { return minhashAddStep{x} }

type minhashAddStep struct{ x *MinHashIndex }

func (s minhashAddStep) Name() string { return "minhash_signature" }
func (s minhashAddStep) Process(d *data.Doc) (string, error) {
	return "", s.x.Add(d.ID, d.Text)
}

// Finish implements data.Finisher: it clusters the index once.
func (s minhashAddStep) Finish() error {
	_, err := s.x.Duplicates()
	return err
}

// FilterStep clusters (once) and returns the pass-two step that drops duplicates by id.
func (x *MinHashIndex) FilterStep() (data.Step, error) {
	dups, err := x.Duplicates()
	if err != nil {
		return nil, err
	}
	return minhashFilterStep{dups}, nil
}

type minhashFilterStep struct{ dups map[string]bool }

func (s minhashFilterStep) Name() string { return "minhash_filter" }
func (s minhashFilterStep) Process(d *data.Doc) (string, error) {
	if s.dups[d.ID] {
		return "minhash_duplicate", nil
	}
	return "", nil
}
