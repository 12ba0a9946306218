package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Reader is a stream of documents. Next returns io.EOF after the last one. A Reader
// is used by one goroutine at a time; Close releases its files and read-ahead
// goroutines (ForEach and ReadAll close it), also when it is not read to the end.
//
// It is a plain interface (no generics, no range-over-func) so notebook cells
// interpreted by yaegi can loop over it:
//
//	for d, err := r.Next(); err != io.EOF; d, err = r.Next() { ... }
type Reader interface {
	Next() (*Doc, error)
	Close() error
}

// Formats understood by Open (ReadOptions.Format, or chosen from the file name).
const (
	FormatText    = "text"
	FormatJSONL   = "jsonl"
	FormatWARC    = "warc" // WARC and WET: response and conversion records
	FormatParquet = "parquet"
)

// Ways a plain text file is split into documents (ReadOptions.TextSplit).
const (
	SplitFile      = "file"      // one document per file (the default)
	SplitParagraph = "paragraph" // one per run of non-blank lines
	SplitLine      = "line"      // one per non-blank line
)

// DefaultMaxDocBytes bounds one record (a JSONL line, a WARC block, a text document)
// so a corrupt or hostile input cannot exhaust memory.
const DefaultMaxDocBytes = 64 << 20

// ReadOptions configure readers. The zero value reads text files whole, JSONL with
// fields "text" and "id", and stops at the first bad record.
type ReadOptions struct {
	// Format forces a format (FormatText, FormatJSONL, FormatWARC, FormatParquet);
	// empty chooses from each file's extension (after .gz/.zst).
	Format string
	// TextField and IDField name the JSONL fields or Parquet columns holding the
	// text (default "text") and the id (default "id"; when absent the id is
	// "source/N", N the record's index in the file, as datatrove does).
	TextField, IDField string
	// TextSplit is SplitFile (default), SplitParagraph or SplitLine for text files.
	TextSplit string
	// SkipBad counts and skips bad records (malformed JSON, invalid UTF-8, a broken
	// WARC record, a missing field, a truncated compressed stream) instead of
	// returning an error. Skips are counted in Stats.
	SkipBad bool
	// MaxDocBytes bounds one record; 0 means DefaultMaxDocBytes.
	MaxDocBytes int
	// Stats, when set, receives the reader's counts (shared by every file of a
	// directory or glob). Readers made by Open always have one: see ReadStatsOf.
	Stats *ReadStats
	// Base is the directory that document sources are made relative to (Open sets
	// it to the directory or glob root, so ids do not depend on where a corpus lives).
	Base string
}

func (o ReadOptions) maxDoc() int {
	if o.MaxDocBytes > 0 {
		return o.MaxDocBytes
	}
	return DefaultMaxDocBytes
}

func (o ReadOptions) textField() string {
	if o.TextField == "" {
		return "text"
	}
	return o.TextField
}

func (o ReadOptions) idField() string {
	if o.IDField == "" {
		return "id"
	}
	return o.IDField
}

// ReadCounts are what readers saw: files opened, documents returned, their text
// bytes, bad records skipped (by reason) and records ignored by design.
type ReadCounts struct {
	Files   int64            `json:"files"`
	Docs    int64            `json:"docs"`
	Bytes   int64            `json:"bytes"`   // text bytes of the documents returned
	Skipped int64            `json:"skipped"` // bad records skipped (SkipBad)
	Reasons map[string]int64 `json:"skip_reasons,omitempty"`
	// Ignored counts records that are not documents by design (WARC request,
	// metadata and warcinfo records, non-HTML responses, blank JSONL lines).
	Ignored int64 `json:"ignored"`
	// FirstErrors keeps the first few skipped-record errors, for the report.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// Add adds o's counts to c.
func (c *ReadCounts) Add(o ReadCounts) {
	c.Files += o.Files
	c.Docs += o.Docs
	c.Bytes += o.Bytes
	c.Skipped += o.Skipped
	c.Ignored += o.Ignored
	for k, v := range o.Reasons {
		if c.Reasons == nil {
			c.Reasons = map[string]int64{}
		}
		c.Reasons[k] += v
	}
	for _, e := range o.FirstErrors {
		if len(c.FirstErrors) < 10 {
			c.FirstErrors = append(c.FirstErrors, e)
		}
	}
}

// ReadStats collects ReadCounts from readers; it is safe for concurrent use.
type ReadStats struct {
	mu sync.Mutex
	c  ReadCounts
}

func (s *ReadStats) addDoc(d *Doc) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.c.Docs++
	s.c.Bytes += int64(len(d.Text))
	s.mu.Unlock()
}

func (s *ReadStats) addFile() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.c.Files++
	s.mu.Unlock()
}

func (s *ReadStats) addIgnored() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.c.Ignored++
	s.mu.Unlock()
}

func (s *ReadStats) addSkip(err *RecordError) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.Add(ReadCounts{Skipped: 1, Reasons: map[string]int64{err.Reason: 1}, FirstErrors: []string{err.Error()}})
}

// Counts returns a copy of the counts, safe to read while readers run.
func (s *ReadStats) Counts() ReadCounts {
	var c ReadCounts
	if s == nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Add(s.c)
	return c
}

// RecordError is a bad record: the file, where in it, and what was wrong.
// Offset is a byte offset in the decompressed stream; Line is set for line-based
// formats (1-based), Row for Parquet (0-based).
type RecordError struct {
	File   string
	Offset int64
	Line   int64
	Row    int64
	Reason string // short class: "json", "utf8", "field", "warc", "truncated", "too-large", "parquet"
	Err    error
}

func (e *RecordError) Error() string {
	var where string
	switch {
	case e.Line > 0:
		where = fmt.Sprintf("line %d (offset %d)", e.Line, e.Offset)
	case e.Row >= 0 && e.Reason == "parquet":
		where = fmt.Sprintf("row %d", e.Row)
	default:
		where = fmt.Sprintf("offset %d", e.Offset)
	}
	return fmt.Sprintf("%s: %s: %s: %v", e.File, where, e.Reason, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// bad reports a bad record: an error, or with SkipBad a counted skip (nil).
func bad(opts *ReadOptions, e *RecordError) error {
	if opts.SkipBad {
		opts.Stats.addSkip(e)
		return nil
	}
	return e
}

// Open opens spec as a stream of documents. spec is a file, a directory (read
// recursively, without hidden files, temporary files and a Pipeline's
// stats.json, so a pipeline's output directory reads as its shards), or a glob where "**" matches any number of directories
// ("crawl/**/*.warc.gz"). Each file's format comes from opts.Format or its
// extension: .jsonl/.ndjson/.json → JSONL, .warc/.wet → WARC, .parquet → Parquet,
// anything else → text; .gz and .zst are decompressed (also detected by their
// magic bytes). Files are read in lexical order, one at a time.
func Open(spec string, opts ReadOptions) (Reader, error) {
	files, base, err := expand(spec)
	if err != nil {
		return nil, err
	}
	if opts.Base == "" {
		opts.Base = base
	}
	if opts.Stats == nil {
		opts.Stats = &ReadStats{}
	}
	return &multiReader{files: files, opts: opts}, nil
}

// Expand lists the files that Open(spec) reads, in order.
func Expand(spec string) ([]string, error) {
	files, _, err := expand(spec)
	return files, err
}

func expand(spec string) (files []string, base string, err error) {
	if spec == "" {
		return nil, "", errors.New("data: empty input spec")
	}
	if !hasMeta(spec) {
		st, err := os.Stat(spec)
		if err != nil {
			return nil, "", fmt.Errorf("data: open %s: %w", spec, err)
		}
		if !st.IsDir() {
			return []string{spec}, filepath.Dir(spec), nil
		}
		err = filepath.WalkDir(spec, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != spec && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || isTempName(d.Name()) || isPipelineStats(p) {
				return nil
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("data: walk %s: %w", spec, err)
		}
		if len(files) == 0 {
			return nil, "", fmt.Errorf("data: directory %s holds no files", spec)
		}
		return files, spec, nil
	}
	files, base, err = glob(spec)
	if err != nil {
		return nil, "", err
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("data: glob %s matches no files", spec)
	}
	return files, base, nil
}

// isPipelineStats reports whether path is the stats.json of a Pipeline output
// directory (which holds a MarkerDir), so that such a directory reads as its shards.
func isPipelineStats(path string) bool {
	if filepath.Base(path) != "stats.json" {
		return false
	}
	st, err := os.Stat(filepath.Join(filepath.Dir(path), MarkerDir))
	return err == nil && st.IsDir()
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

func isTempName(name string) bool { return strings.Contains(name, ".tmp-") }

// glob matches pattern with filepath.Match semantics per path element, plus "**"
// for zero or more directories. It walks only below the longest literal prefix.
func glob(pattern string) ([]string, string, error) {
	pattern = filepath.Clean(pattern)
	parts := strings.Split(filepath.ToSlash(pattern), "/")
	i := 0
	for i < len(parts) && !hasMeta(parts[i]) {
		i++
	}
	root := filepath.FromSlash(strings.Join(parts[:i], "/"))
	if root == "" {
		if strings.HasPrefix(pattern, "/") {
			root = "/"
		} else {
			root = "."
		}
	}
	rest := parts[i:]
	for _, p := range rest {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, "", fmt.Errorf("data: bad glob %s: %w", pattern, err)
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		segs := strings.Split(filepath.ToSlash(rel), "/")
		if strings.HasPrefix(d.Name(), ".") && !strings.HasPrefix(rest[min(len(segs), len(rest))-1], ".") {
			// Hidden files and directories match only a pattern that names them.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if !matchPrefix(rest, segs) {
				return filepath.SkipDir
			}
			return nil
		}
		if !isTempName(d.Name()) && matchSegs(rest, segs) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, "", fmt.Errorf("data: glob %s: %w", pattern, err)
	}
	sort.Strings(files)
	return files, root, nil
}

// matchSegs reports whether path segments segs match pattern segments pat.
func matchSegs(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for k := 0; k <= len(segs); k++ {
			if matchSegs(pat[1:], segs[k:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := filepath.Match(pat[0], segs[0])
	return ok && matchSegs(pat[1:], segs[1:])
}

// matchPrefix reports whether a directory with segments segs may contain matches.
func matchPrefix(pat, segs []string) bool {
	if len(segs) == 0 {
		return true
	}
	if len(pat) == 0 {
		return false
	}
	if pat[0] == "**" {
		return true
	}
	ok, _ := filepath.Match(pat[0], segs[0])
	return ok && matchPrefix(pat[1:], segs[1:])
}

// FormatOf returns the format Open uses for path (with .gz/.zst removed).
func FormatOf(path string) string {
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")
	switch {
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".json"):
		return FormatJSONL
	case strings.HasSuffix(name, ".warc"), strings.HasSuffix(name, ".wet"):
		return FormatWARC
	case strings.HasSuffix(name, ".parquet"):
		return FormatParquet
	}
	return FormatText
}

// OpenFile opens one file with the format from opts.Format or its name.
func OpenFile(path string, opts ReadOptions) (Reader, error) {
	if opts.Stats == nil {
		opts.Stats = &ReadStats{}
	}
	if opts.Base == "" {
		opts.Base = filepath.Dir(path)
	}
	format := opts.Format
	if format == "" {
		format = FormatOf(path)
	}
	var r Reader
	var err error
	switch format {
	case FormatText:
		r, err = NewTextReader(path, opts)
	case FormatJSONL:
		r, err = NewJSONLReader(path, opts)
	case FormatWARC:
		r, err = NewWARCReader(path, opts)
	case FormatParquet:
		r, err = NewParquetReader(path, opts)
	default:
		return nil, fmt.Errorf("data: open %s: unknown format %q", path, format)
	}
	if err != nil {
		return nil, err
	}
	opts.Stats.addFile()
	return r, nil
}

// sourceName is path relative to opts.Base (slash-separated), or path itself.
func sourceName(path string, opts ReadOptions) string {
	if opts.Base != "" {
		if rel, err := filepath.Rel(opts.Base, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

type multiReader struct {
	files []string
	opts  ReadOptions
	i     int
	cur   Reader
}

func (m *multiReader) Next() (*Doc, error) {
	for {
		if m.cur == nil {
			if m.i >= len(m.files) {
				return nil, io.EOF
			}
			r, err := OpenFile(m.files[m.i], m.opts)
			m.i++
			if err != nil {
				return nil, err
			}
			m.cur = r
		}
		d, err := m.cur.Next()
		if err == io.EOF {
			cerr := m.cur.Close()
			m.cur = nil
			if cerr != nil {
				return nil, cerr
			}
			continue
		}
		return d, err
	}
}

func (m *multiReader) Close() error {
	m.i = len(m.files) // a closed reader stays at its end
	if m.cur != nil {
		err := m.cur.Close()
		m.cur = nil
		return err
	}
	return nil
}

// ReadStatsOf returns the counts of a reader made by Open or OpenFile (nil for others).
func ReadStatsOf(r Reader) *ReadStats {
	switch r := r.(type) {
	case *multiReader:
		return r.opts.Stats
	case interface{ readStats() *ReadStats }:
		return r.readStats()
	}
	return nil
}

// ForEach calls fn for every document of r, then closes r. It stops at the first
// error from r or fn and returns it.
func ForEach(r Reader, fn func(d *Doc) error) error {
	defer r.Close()
	for {
		d, err := r.Next()
		if err == io.EOF {
			return r.Close()
		}
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
}

// ReadAll returns every document of r (for small inputs and tests) and closes r.
func ReadAll(r Reader) ([]*Doc, error) {
	var docs []*Doc
	err := ForEach(r, func(d *Doc) error { docs = append(docs, d); return nil })
	return docs, err
}

// SliceReader returns a Reader over docs already in memory.
func SliceReader(docs []*Doc) Reader { return &sliceReader{docs: docs} }

type sliceReader struct {
	docs []*Doc
	i    int
}

func (s *sliceReader) Next() (*Doc, error) {
	if s.i >= len(s.docs) {
		return nil, io.EOF
	}
	s.i++
	return s.docs[s.i-1], nil
}

func (s *sliceReader) Close() error { return nil }
