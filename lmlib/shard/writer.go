package shard

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/data"
)

// Encoder turns text into token ids; EncodeOrdinary treats special-token text as
// ordinary text (tiktoken's encode_ordinary, as llm.c's data scripts call it).
// lmlib/tokenizer's Tokenizer satisfies it, and so does CharVocab. The Writer calls
// EncodeOrdinary from several goroutines at once.
type Encoder interface {
	EncodeOrdinary(text string) []int
	EOT() int       // end-of-text id written before every document
	VocabSize() int // every id must be below this
}

// WriterOptions configures a Writer. Zero values take the defaults.
type WriterOptions struct {
	Prefix      string  // file name prefix; default "shard" → shard_train_000000.bin
	ShardTokens int     // tokens per shard at most; default 100,000,000 (llm.c's size)
	ValFraction float64 // share of documents that go to validation, by id hash; 0 = none
	Seed        uint64  // seeds the train/validation hash
	// Context stops AddAll, AddReader and WriteTexts between two documents when
	// cancelled: they return an error wrapping the context's, the Writer fails (Close
	// removes the unfinished shards and returns the error), and the shards completed
	// before stay. [display.Context(): in a notebook, the cell's, which Jupyter's
	// interrupt cancels]
	Context context.Context
}

// Stats summarises what a Writer wrote.
type Stats struct {
	TrainShards, ValShards []string // paths, in order
	TrainTokens, ValTokens int64    // including the EOT before each document
	TrainDocs, ValDocs     int64
}

// Writer writes documents into train and validation shards in a directory.
// Shards are written to a temporary file and renamed into place when complete,
// so a crash never leaves a half-written NAME.bin. It is not safe for concurrent use.
type Writer struct {
	dir   string
	enc   Encoder
	opts  WriterOptions
	train *splitWriter
	val   *splitWriter
	n     int64 // documents seen, for default ids
	stats Stats
	err   error
}

// NewWriter creates dir if needed and returns a Writer encoding with enc.
func NewWriter(dir string, enc Encoder, opts WriterOptions) (*Writer, error) {
	if enc == nil {
		return nil, fmt.Errorf("shard writer %s: nil encoder", dir)
	}
	if opts.Prefix == "" {
		opts.Prefix = "shard"
	}
	if opts.ShardTokens == 0 {
		opts.ShardTokens = 100_000_000
	}
	if opts.ShardTokens < 2 || opts.ShardTokens > MaxShardTokens {
		return nil, fmt.Errorf("shard writer %s: ShardTokens %d out of range [2, %d]", dir, opts.ShardTokens, MaxShardTokens)
	}
	if opts.ValFraction < 0 || opts.ValFraction > 1 {
		return nil, fmt.Errorf("shard writer %s: ValFraction %g not in [0, 1]", dir, opts.ValFraction)
	}
	v := enc.VocabSize()
	if v <= 0 || v > 1<<31-1 {
		return nil, fmt.Errorf("shard writer %s: encoder vocabulary size %d out of range", dir, v)
	}
	if e := enc.EOT(); e < 0 || e >= v {
		return nil, fmt.Errorf("shard writer %s: EOT id %d is not below the vocabulary size %d", dir, e, v)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("shard writer: create %s: %w", dir, err)
	}
	w := &Writer{dir: dir, enc: enc, opts: opts}
	w.train = &splitWriter{w: w, split: "train", paths: &w.stats.TrainShards}
	w.val = &splitWriter{w: w, split: "val", paths: &w.stats.ValShards}
	return w, nil
}

// IsValidation reports whether the document with this id goes to the validation
// split for the given seed and fraction: a seeded 64-bit hash of the id, compared
// with the fraction, so the split is stable across runs and machines.
func IsValidation(id string, seed uint64, fraction float64) bool {
	if fraction <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	x := mix64(h.Sum64() ^ mix64(seed))
	return float64(x>>11)/(1<<53) < fraction
}

// Add encodes one document and appends it to its split. An empty id is replaced by
// the document's ordinal number.
func (w *Writer) Add(id, text string) error {
	return w.AddTokens(id, w.enc.EncodeOrdinary(text))
}

// AddTokens appends an already tokenized document.
func (w *Writer) AddTokens(id string, tokens []int) error {
	if w.err != nil {
		return w.err
	}
	if id == "" {
		id = strconv.FormatInt(w.n, 10)
	}
	w.n++
	vocab := w.enc.VocabSize()
	for i, t := range tokens {
		if t < 0 || t >= vocab {
			return fmt.Errorf("shard writer %s: document %q: token id %d at position %d is not below the vocabulary size %d", w.dir, id, t, i, vocab)
		}
	}
	sw := w.train
	if IsValidation(id, w.opts.Seed, w.opts.ValFraction) {
		sw = w.val
		w.stats.ValDocs++
		w.stats.ValTokens += int64(len(tokens) + 1)
	} else {
		w.stats.TrainDocs++
		w.stats.TrainTokens += int64(len(tokens) + 1)
	}
	if err := sw.add(tokens); err != nil {
		w.err = err
		return err
	}
	return nil
}

// AddAll adds every text of next (called until ok is false), with ordinal ids,
// encoding batches of documents on all cores.
func (w *Writer) AddAll(next func() (text string, ok bool)) error {
	return w.addStream(func() (string, string, bool, error) {
		text, ok := next()
		return "", text, ok, nil
	})
}

// AddReader adds every document of r (an lmlib/data reader) until io.EOF, keeping
// their ids, encoding batches of documents on all cores. It does not close r.
func (w *Writer) AddReader(r data.Reader) error {
	return w.addStream(func() (string, string, bool, error) {
		d, err := r.Next()
		if err == io.EOF {
			return "", "", false, nil
		}
		if err != nil {
			return "", "", false, err
		}
		return d.ID, d.Text, true, nil
	})
}

// interrupted fails the writer when ctx is cancelled (see WriterOptions.Context).
func (w *Writer) interrupted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		w.err = fmt.Errorf("shard writer %s: interrupted after %d documents: %w", w.dir, w.n, err)
		return w.err
	}
	return nil
}

func (w *Writer) addStream(next func() (id, text string, ok bool, err error)) error {
	ctx, end := display.Call(w.opts.Context)
	defer end()
	// Batches of documents are encoded on all cores while the previous batch is
	// written, so encoding and writing overlap.
	const batch = 1024
	type job struct {
		ids, texts []string
		toks       [][]int
		done       chan struct{}
	}
	encode := func(j *job) {
		j.toks = make([][]int, len(j.texts))
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := g; i < len(j.texts); i += workers {
					j.toks[i] = w.enc.EncodeOrdinary(j.texts[i])
				}
			}(g)
		}
		wg.Wait()
		close(j.done)
	}
	write := func(j *job) error {
		<-j.done
		for i := range j.toks {
			if err := w.AddTokens(j.ids[i], j.toks[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var pending *job
	for {
		j := &job{done: make(chan struct{})}
		var readErr error
		for len(j.texts) < batch {
			if err := w.interrupted(ctx); err != nil {
				readErr = err
				break
			}
			id, text, ok, err := next()
			if err != nil {
				readErr = fmt.Errorf("shard writer %s: read documents: %w", w.dir, err)
				break
			}
			if !ok {
				break
			}
			j.ids, j.texts = append(j.ids, id), append(j.texts, text)
		}
		go encode(j)
		if pending != nil {
			if err := write(pending); err != nil {
				<-j.done
				return err
			}
		}
		if readErr != nil {
			<-j.done
			return readErr
		}
		if len(j.texts) < batch {
			return write(j)
		}
		pending = j
	}
}

// Int32s converts token ids (as tokenizers return them) to the int32 tokens that
// NewSliceLoader takes.
func Int32s(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Close finishes the open shards and returns what was written.
func (w *Writer) Close() (*Stats, error) {
	if w.err != nil {
		w.train.abort()
		w.val.abort()
		return nil, w.err
	}
	if err := w.train.finish(); err != nil {
		w.val.abort()
		return nil, err
	}
	if err := w.val.finish(); err != nil {
		return nil, err
	}
	st := w.stats
	return &st, nil
}

// WriteTexts writes texts (ids are their indices) into shards in dir.
func WriteTexts(dir string, enc Encoder, texts []string, opts WriterOptions) (*Stats, error) {
	w, err := NewWriter(dir, enc, opts)
	if err != nil {
		return nil, err
	}
	ctx, end := display.Call(opts.Context)
	defer end()
	for i, t := range texts {
		if err := w.interrupted(ctx); err != nil {
			w.Close()
			return nil, err
		}
		if err := w.Add(strconv.Itoa(i), t); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w.Close()
}

// splitWriter writes the shards of one split.
type splitWriter struct {
	w     *Writer
	split string
	paths *[]string
	index int // next shard number

	f     *os.File // temp file of the open shard, nil if none
	bw    *bufio.Writer
	n     int64   // tokens in the open shard
	docs  []int64 // EOT offsets in the open shard
	bytes []byte
}

func (s *splitWriter) path() string {
	return filepath.Join(s.w.dir, fmt.Sprintf("%s_%s_%06d.bin", s.w.opts.Prefix, s.split, s.index))
}

func (s *splitWriter) open() error {
	f, err := os.CreateTemp(s.w.dir, ".tmp-"+filepath.Base(s.path())+"-*")
	if err != nil {
		return fmt.Errorf("create shard %s: %w", s.path(), err)
	}
	s.f, s.bw, s.n, s.docs = f, bufio.NewWriterSize(f, 1<<20), 0, s.docs[:0]
	if _, err := s.bw.Write(make([]byte, HeaderBytes)); err != nil {
		return fmt.Errorf("write shard %s: %w", s.path(), err)
	}
	return nil
}

func (s *splitWriter) add(tokens []int) error {
	limit := int64(s.w.opts.ShardTokens)
	need := int64(len(tokens) + 1)
	// A document that does not fit starts a new shard unless it is larger than a
	// whole shard; then it is split, and only its first part is in the index.
	if s.f != nil && s.n > 0 && s.n+need > limit && need <= limit {
		if err := s.finish(); err != nil {
			return err
		}
	}
	eot := []int{s.w.enc.EOT()}
	doc := tokens
	first := true
	for first || len(doc) > 0 {
		if s.f == nil {
			if err := s.open(); err != nil {
				return err
			}
		}
		if first {
			s.docs = append(s.docs, s.n)
			if err := s.write(eot); err != nil {
				return err
			}
			first = false
		}
		room := limit - s.n
		take := int64(len(doc))
		if take > room {
			take = room
		}
		if err := s.write(doc[:take]); err != nil {
			return err
		}
		doc = doc[take:]
		if s.n == limit {
			if err := s.finish(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *splitWriter) write(toks []int) error {
	width := 2
	if VersionFor(s.w.enc.VocabSize()) == Version32 {
		width = 4
	}
	s.bytes = s.bytes[:0]
	for _, t := range toks {
		if width == 2 {
			s.bytes = binary.LittleEndian.AppendUint16(s.bytes, uint16(t))
		} else {
			s.bytes = binary.LittleEndian.AppendUint32(s.bytes, uint32(t))
		}
	}
	if _, err := s.bw.Write(s.bytes); err != nil {
		return fmt.Errorf("write shard %s: %w", s.path(), err)
	}
	s.n += int64(len(toks))
	return nil
}

// finish writes the header and index of the open shard and renames both into place
// (index first, so a NAME.bin never lacks its NAME.idx).
func (s *splitWriter) finish() error {
	if s.f == nil {
		return nil
	}
	path := s.path()
	fail := func(err error) error {
		s.abort()
		return fmt.Errorf("write shard %s: %w", path, err)
	}
	if err := s.bw.Flush(); err != nil {
		return fail(err)
	}
	h := Header{Version: VersionFor(s.w.enc.VocabSize()), NumTokens: s.n, VocabSize: s.w.enc.VocabSize(), NumDocs: len(s.docs)}
	if _, err := s.f.WriteAt(h.Bytes(), 0); err != nil {
		return fail(err)
	}
	idx := make([]byte, 0, 8*len(s.docs))
	for _, d := range s.docs {
		idx = binary.LittleEndian.AppendUint64(idx, uint64(d))
	}
	if err := data.WriteFileAtomic(IndexPath(path), idx); err != nil {
		return fail(err)
	}
	if err := s.f.Sync(); err != nil {
		return fail(err)
	}
	tmp := s.f.Name()
	if err := s.f.Close(); err != nil {
		return fail(err)
	}
	s.f = nil
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write shard %s: %w", path, err)
	}
	data.SyncDir(s.w.dir)
	*s.paths = append(*s.paths, path)
	s.index++
	return nil
}

func (s *splitWriter) abort() {
	if s.f != nil {
		name := s.f.Name()
		s.f.Close()
		os.Remove(name)
		s.f = nil
	}
}
