package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"unicode/utf8"
)

// JSONLReader reads one JSON object per line (plain, .gz or .zst). The text comes
// from ReadOptions.TextField (default "text"), the id from IDField (default "id";
// when the field is absent the id is "source/N", N the 0-based line index, as
// datatrove's JsonlReader does; golem does the same for an empty id, which
// datatrove keeps). The object's "metadata" object and every other
// field go into Meta, plus MetaSource. Blank lines are ignored.
//
// Bad records (invalid UTF-8, malformed JSON, a missing or non-string text field,
// a line over MaxDocBytes, a truncated compressed stream) are errors naming the
// file, line and byte offset, or counted skips with ReadOptions.SkipBad.
//
// Lines are parsed on GOMAXPROCS goroutines in batches while one goroutine reads
// them (and another decompresses), and are returned in file order.
type JSONLReader struct {
	path, source string
	opts         ReadOptions
	s            *stream
	textField    string
	idField      string
	done         bool

	started bool
	order   chan *jsonlBatch // batches in file order, as they are cut
	stop    chan struct{}
	wg      sync.WaitGroup
	cur     *jsonlBatch
	ci      int
}

// jsonlBatch is a run of lines, parsed by one goroutine.
type jsonlBatch struct {
	data    []byte // the lines, concatenated
	ends    []int  // end of line i in data
	lines   []int64
	offs    []int64
	tooLong []bool
	readErr *RecordError // the stream failed after these lines
	res     []jsonlResult
	done    chan struct{}
}

type jsonlResult struct {
	doc     *Doc
	rerr    *RecordError
	ignored bool
}

const (
	jsonlBatchLines = 256
	jsonlBatchBytes = 2 << 20
)

// NewJSONLReader opens a JSONL file.
func NewJSONLReader(path string, opts ReadOptions) (*JSONLReader, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	return &JSONLReader{path: path, source: sourceName(path, opts), opts: opts, s: s,
		textField: opts.textField(), idField: opts.idField()}, nil
}

func (j *JSONLReader) readStats() *ReadStats { return j.opts.Stats }

func (j *JSONLReader) start() {
	j.started = true
	parsers := runtime.GOMAXPROCS(0)
	j.order = make(chan *jsonlBatch, 2*parsers+2)
	j.stop = make(chan struct{})
	work := make(chan *jsonlBatch, 2*parsers+2)
	j.wg.Add(1 + parsers)
	go j.produce(work)
	for i := 0; i < parsers; i++ {
		go func() {
			defer j.wg.Done()
			var jp jsonParser
			for b := range work {
				j.parseBatch(&jp, b)
				close(b.done)
			}
		}()
	}
}

// produce cuts the stream into batches of lines.
func (j *JSONLReader) produce(work chan<- *jsonlBatch) {
	defer j.wg.Done()
	defer close(work)
	defer close(j.order)
	max := j.opts.maxDoc()
	var lineNo int64
	for eof := false; !eof; {
		b := &jsonlBatch{done: make(chan struct{}), data: make([]byte, 0, jsonlBatchBytes+64<<10)}
		for len(b.ends) < jsonlBatchLines && len(b.data) < jsonlBatchBytes {
			data, off, tooLong, err := j.s.appendLine(max, b.data)
			if err == io.EOF {
				eof = true
				break
			}
			lineNo++
			if err != nil {
				reason := "read"
				if truncated(err) {
					reason = "truncated"
				}
				b.readErr = &RecordError{File: j.path, Offset: j.s.off, Line: lineNo, Reason: reason, Err: err}
				eof = true
				break
			}
			b.data = data
			b.ends = append(b.ends, len(b.data))
			b.lines = append(b.lines, lineNo)
			b.offs = append(b.offs, off)
			b.tooLong = append(b.tooLong, tooLong)
		}
		if len(b.ends) == 0 && b.readErr == nil {
			return
		}
		select {
		case j.order <- b:
		case <-j.stop:
			return
		}
		select {
		case work <- b:
		case <-j.stop:
			return
		}
	}
}

func (j *JSONLReader) parseBatch(jp *jsonParser, b *jsonlBatch) {
	b.res = make([]jsonlResult, len(b.ends))
	start := 0
	for i, end := range b.ends {
		line := b.data[start:end]
		start = end
		switch {
		case b.tooLong[i]:
			b.res[i].rerr = &RecordError{File: j.path, Offset: b.offs[i], Line: b.lines[i], Reason: "too-large",
				Err: fmt.Errorf("line longer than %d bytes", j.opts.maxDoc())}
		case len(bytes.TrimSpace(line)) == 0:
			b.res[i].ignored = true
		default:
			b.res[i].doc, b.res[i].rerr = j.parse(jp, line, b.lines[i], b.offs[i])
		}
	}
}

// Next returns the next document or io.EOF.
func (j *JSONLReader) Next() (*Doc, error) {
	if !j.started && !j.done {
		j.start()
	}
	for {
		if b := j.cur; b != nil {
			for j.ci < len(b.res) {
				r := b.res[j.ci]
				j.ci++
				switch {
				case r.ignored:
					j.opts.Stats.addIgnored()
				case r.rerr != nil:
					if err := bad(&j.opts, r.rerr); err != nil {
						j.done = true
						j.cur = nil
						return nil, err
					}
				default:
					j.opts.Stats.addDoc(r.doc)
					return r.doc, nil
				}
			}
			j.cur = nil
			if b.readErr != nil {
				j.done = true // the stream cannot be resynchronised
				if err := bad(&j.opts, b.readErr); err != nil {
					return nil, err
				}
			}
		}
		if j.done {
			return nil, io.EOF
		}
		b, ok := <-j.order
		if !ok {
			j.done = true
			return nil, io.EOF
		}
		<-b.done
		j.cur, j.ci = b, 0
	}
}

// Close stops the reading goroutines and closes the file.
func (j *JSONLReader) Close() error {
	if j.started {
		j.started = false
		close(j.stop)
		j.wg.Wait()
	}
	j.done, j.cur = true, nil
	return j.s.Close()
}

func (j *JSONLReader) parse(jp *jsonParser, line []byte, lineNo, off int64) (*Doc, *RecordError) {
	fail := func(reason string, err error) *RecordError {
		return &RecordError{File: j.path, Offset: off, Line: lineNo, Reason: reason, Err: err}
	}
	if !utf8.Valid(line) {
		i := firstInvalid(line)
		return nil, fail("utf8", fmt.Errorf("invalid UTF-8 at byte %d of the line", i))
	}
	obj, err := jp.parse(line)
	if err != nil {
		return nil, fail("json", err)
	}
	tv, ok := obj[j.textField]
	if !ok {
		return nil, fail("field", fmt.Errorf("no text field %q", j.textField))
	}
	text, ok := tv.(string)
	if !ok {
		return nil, fail("field", fmt.Errorf("text field %q is %T, not a string", j.textField, tv))
	}
	delete(obj, j.textField)
	d := &Doc{Text: text}
	if iv, ok := obj[j.idField]; ok {
		switch v := iv.(type) {
		case string:
			d.ID = v
		case json.Number:
			d.ID = v.String()
		default:
			return nil, fail("field", fmt.Errorf("id field %q is %T, not a string or number", j.idField, iv))
		}
		delete(obj, j.idField)
	}
	if d.ID == "" { // absent or empty: an id must name the document (dedup, shards)
		d.ID = j.source + "/" + strconv.FormatInt(lineNo-1, 10)
	}
	// Meta is the "metadata" object's map (or the line's own map), with the other
	// top-level fields over it: no second map per document.
	meta := obj
	if m, ok := obj["metadata"].(map[string]any); ok {
		delete(obj, "metadata")
		for k, v := range obj {
			m[k] = v
		}
		meta = m
	}
	if _, ok := meta[MetaSource]; !ok {
		meta[MetaSource] = j.source
	}
	d.Meta = meta
	return d, nil
}
