package data

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Writer consumes documents. Close completes the output; a Writer whose Write or
// Close failed leaves nothing under its final name.
type Writer interface {
	Write(d *Doc) error
	Close() error
}

// Output formats for writers.
const (
	OutJSONL     = "jsonl"
	OutJSONLGzip = "jsonl.gz"
	OutJSONLZstd = "jsonl.zst"
	OutParquet   = "parquet"
)

// OutFormatOf returns the output format for a file name's extension ("" if none fits).
func OutFormatOf(path string) string {
	name := strings.ToLower(path)
	for _, f := range []string{OutJSONLGzip, OutJSONLZstd, OutJSONL, OutParquet} {
		if strings.HasSuffix(name, "."+f) {
			return f
		}
	}
	return ""
}

func checkOutFormat(f string) error {
	switch f {
	case OutJSONL, OutJSONLGzip, OutJSONLZstd, OutParquet:
		return nil
	}
	return fmt.Errorf("unknown output format %q (want jsonl, jsonl.gz, jsonl.zst or parquet)", f)
}

// atomicFile is written under a temporary name in the final directory and renamed
// into place after fsync on commit; abort removes it.
type atomicFile struct {
	f          *os.File
	final, tmp string
}

func createAtomic(path string) (*atomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; give the final file the usual 0644.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	return &atomicFile{f: f, final: path, tmp: f.Name()}, nil
}

func (a *atomicFile) Write(p []byte) (int, error) { return a.f.Write(p) }

func (a *atomicFile) commit() error {
	if err := a.f.Sync(); err != nil {
		a.abort()
		return fmt.Errorf("data: sync %s: %w", a.tmp, err)
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.tmp)
		return fmt.Errorf("data: close %s: %w", a.tmp, err)
	}
	if err := os.Rename(a.tmp, a.final); err != nil {
		os.Remove(a.tmp)
		return fmt.Errorf("data: rename %s to %s: %w", a.tmp, a.final, err)
	}
	SyncDir(filepath.Dir(a.final))
	return nil
}

func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.tmp)
}

// SyncDir fsyncs a directory so a rename inside it is durable (best effort).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// WriteFileAtomic writes b to path through a temporary file, fsync and rename.
func WriteFileAtomic(path string, b []byte) error {
	a, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(b); err != nil {
		a.abort()
		return fmt.Errorf("data: write %s: %w", path, err)
	}
	return a.commit()
}

// encoder turns docs into one file's bytes.
type encoder interface {
	write(d *Doc) (int, error) // returns the uncompressed bytes added
	close() error              // flushes everything to the file
}

type jsonlEncoder struct {
	bw   *bufio.Writer
	comp io.WriteCloser // nil for plain
	enc  *json.Encoder
	cw   countingWriter
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newJSONLEncoder(out io.Writer, format string) (*jsonlEncoder, error) {
	e := &jsonlEncoder{bw: bufio.NewWriterSize(out, 256<<10)}
	var w io.Writer = e.bw
	switch format {
	case OutJSONLGzip:
		zw, err := gzip.NewWriterLevel(e.bw, gzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		e.comp, w = zw, zw
	case OutJSONLZstd:
		zw, err := zstd.NewWriter(e.bw, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(2))
		if err != nil {
			return nil, err
		}
		e.comp, w = zw, zw
	}
	e.cw.w = w
	e.enc = json.NewEncoder(&e.cw)
	e.enc.SetEscapeHTML(false)
	return e, nil
}

func (e *jsonlEncoder) write(d *Doc) (int, error) {
	before := e.cw.n
	err := e.enc.Encode(d)
	return int(e.cw.n - before), err
}

func (e *jsonlEncoder) close() error {
	if e.comp != nil {
		if err := e.comp.Close(); err != nil {
			return err
		}
	}
	return e.bw.Flush()
}

// FileWriter writes documents to one file, atomically: the file appears under its
// name only when Close succeeds.
type FileWriter struct {
	path  string
	af    *atomicFile
	enc   encoder
	docs  int64
	bytes int64
	err   error
}

// NewFileWriter creates a writer for path. format is OutJSONL, OutJSONLGzip,
// OutJSONLZstd or OutParquet; "" takes it from the name (default jsonl).
func NewFileWriter(path, format string) (*FileWriter, error) {
	if format == "" {
		format = OutFormatOf(path)
		if format == "" {
			format = OutJSONL
		}
	}
	if err := checkOutFormat(format); err != nil {
		return nil, fmt.Errorf("data: create %s: %w", path, err)
	}
	af, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	w := &FileWriter{path: path, af: af}
	if format == OutParquet {
		w.enc = newParquetEncoder(af)
	} else {
		e, err := newJSONLEncoder(af, format)
		if err != nil {
			af.abort()
			return nil, fmt.Errorf("data: create %s: %w", path, err)
		}
		w.enc = e
	}
	return w, nil
}

// Write appends d. After an error the writer is failed: its temporary file is
// removed and every later call returns the error.
func (w *FileWriter) Write(d *Doc) error {
	if w.err != nil {
		return w.err
	}
	if w.af == nil {
		return fmt.Errorf("data: write %s: writer is closed", w.path)
	}
	n, err := w.enc.write(d)
	if err != nil {
		w.fail(fmt.Errorf("data: write %s: doc %q: %w", w.path, d.ID, err))
		return w.err
	}
	w.docs++
	w.bytes += int64(n)
	return nil
}

func (w *FileWriter) fail(err error) {
	w.err = err
	if w.af != nil {
		w.af.abort()
		w.af = nil
	}
}

// Docs and Bytes count what was written (bytes before compression).
func (w *FileWriter) Docs() int64  { return w.docs }
func (w *FileWriter) Bytes() int64 { return w.bytes }

// Path is the final file name.
func (w *FileWriter) Path() string { return w.path }

// Close flushes, fsyncs and renames the file into place.
func (w *FileWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.af == nil {
		return nil
	}
	if err := w.enc.close(); err != nil {
		w.fail(fmt.Errorf("data: write %s: %w", w.path, err))
		return w.err
	}
	af := w.af
	w.af = nil
	if err := af.commit(); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Abort discards the file being written.
func (w *FileWriter) Abort() {
	if w.af != nil {
		w.af.abort()
		w.af = nil
	}
	if w.err == nil {
		w.err = errors.New("data: writer aborted")
	}
}

// WriteOptions configure a ShardedWriter.
type WriteOptions struct {
	// Format is OutJSONLZstd (default), OutJSONLGzip, OutJSONL or OutParquet.
	Format string
	// MaxDocs and MaxBytes (uncompressed) bound one shard; 0 means no bound.
	MaxDocs  int64
	MaxBytes int64
}

// ShardedWriter writes documents to dir/prefix-00000.<format>, prefix-00001…,
// starting a new shard when MaxDocs or MaxBytes is reached. Each shard is written
// atomically and appears when complete.
type ShardedWriter struct {
	dir, prefix string
	opts        WriteOptions
	cur         *FileWriter
	n           int
	files       []string
	docs, bytes int64
	err         error
}

// NewShardedWriter creates the directory if needed.
func NewShardedWriter(dir, prefix string, opts WriteOptions) (*ShardedWriter, error) {
	if opts.Format == "" {
		opts.Format = OutJSONLZstd
	}
	if err := checkOutFormat(opts.Format); err != nil {
		return nil, fmt.Errorf("data: sharded writer %s: %w", dir, err)
	}
	if prefix == "" {
		prefix = "part"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data: sharded writer %s: %w", dir, err)
	}
	return &ShardedWriter{dir: dir, prefix: prefix, opts: opts}, nil
}

// ShardName is the file name of shard i: prefix-%05d.format.
func ShardName(prefix string, i int, format string) string {
	return fmt.Sprintf("%s-%05d.%s", prefix, i, format)
}

// Write appends d to the current shard, rotating first when it is full.
func (s *ShardedWriter) Write(d *Doc) error {
	if s.err != nil {
		return s.err
	}
	if s.cur != nil && ((s.opts.MaxDocs > 0 && s.cur.Docs() >= s.opts.MaxDocs) ||
		(s.opts.MaxBytes > 0 && s.cur.Bytes() >= s.opts.MaxBytes)) {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	if s.cur == nil {
		w, err := NewFileWriter(filepath.Join(s.dir, ShardName(s.prefix, s.n, s.opts.Format)), s.opts.Format)
		if err != nil {
			s.err = err
			return err
		}
		s.cur = w
		s.n++
	}
	if err := s.cur.Write(d); err != nil {
		s.err = err
		s.cur = nil
		return err
	}
	return nil
}

func (s *ShardedWriter) rotate() error {
	w := s.cur
	s.cur = nil
	if err := w.Close(); err != nil {
		s.err = err
		return err
	}
	s.files = append(s.files, w.Path())
	s.docs += w.Docs()
	s.bytes += w.Bytes()
	return nil
}

// Close completes the last shard.
func (s *ShardedWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	if s.cur != nil {
		return s.rotate()
	}
	return nil
}

// Abort discards the shard being written (completed shards stay).
func (s *ShardedWriter) Abort() {
	if s.cur != nil {
		s.cur.Abort()
		s.cur = nil
	}
}

// Files lists the completed shards.
func (s *ShardedWriter) Files() []string { return append([]string(nil), s.files...) }

// Docs and Bytes count the documents and uncompressed bytes in completed shards.
func (s *ShardedWriter) Docs() int64  { return s.docs }
func (s *ShardedWriter) Bytes() int64 { return s.bytes }

// AtomicFile is a file written under a temporary name (NAME.tmp-XXXX in the same
// directory) and renamed to its final name by Commit, after fsync; Abort removes
// it. Readers never see a partial file under the final name.
type AtomicFile struct{ a *atomicFile }

// CreateAtomic starts writing path (creating its directory).
func CreateAtomic(path string) (*AtomicFile, error) {
	a, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{a}, nil
}

// Write appends to the temporary file.
func (f *AtomicFile) Write(p []byte) (int, error) { return f.a.Write(p) }

// Commit fsyncs, closes and renames the file into place (and fsyncs the directory).
func (f *AtomicFile) Commit() error { return f.a.commit() }

// Abort closes and removes the temporary file.
func (f *AtomicFile) Abort() { f.a.abort() }
