package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// JSONLReader reads one JSON object per line (plain, .gz or .zst). The text comes
// from ReadOptions.TextField (default "text"), the id from IDField (default "id";
// when the field is absent the id is "source/N", N the 0-based line index, as
// datatrove's JsonlReader does). The object's "metadata" object and every other
// field go into Meta, plus MetaSource. Blank lines are ignored.
//
// Bad records (invalid UTF-8, malformed JSON, a missing or non-string text field,
// a line over MaxDocBytes, a truncated compressed stream) are errors naming the
// file, line and byte offset, or counted skips with ReadOptions.SkipBad.
type JSONLReader struct {
	path, source string
	opts         ReadOptions
	s            *stream
	line         int64
	done         bool
	buf          []byte
	textField    string
	idField      string
	jp           jsonParser
}

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

// Next returns the next document or io.EOF.
func (j *JSONLReader) Next() (*Doc, error) {
	for !j.done {
		line, off, tooLong, err := j.s.readLine(j.opts.maxDoc(), j.buf)
		if err == io.EOF {
			j.done = true
			break
		}
		j.line++
		if err != nil {
			j.done = true // the stream cannot be resynchronised
			reason := "read"
			if truncated(err) {
				reason = "truncated"
			}
			if err := bad(&j.opts, &RecordError{File: j.path, Offset: j.s.off, Line: j.line, Reason: reason, Err: err}); err != nil {
				return nil, err
			}
			break
		}
		j.buf = line[:0]
		if tooLong {
			if err := bad(&j.opts, &RecordError{File: j.path, Offset: off, Line: j.line, Reason: "too-large",
				Err: fmt.Errorf("line longer than %d bytes", j.opts.maxDoc())}); err != nil {
				j.done = true
				return nil, err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			j.opts.Stats.addIgnored()
			continue
		}
		d, rerr := j.parse(line, off)
		if rerr != nil {
			if err := bad(&j.opts, rerr); err != nil {
				j.done = true
				return nil, err
			}
			continue
		}
		j.opts.Stats.addDoc(d)
		return d, nil
	}
	return nil, io.EOF
}

func (j *JSONLReader) parse(line []byte, off int64) (*Doc, *RecordError) {
	fail := func(reason string, err error) *RecordError {
		return &RecordError{File: j.path, Offset: off, Line: j.line, Reason: reason, Err: err}
	}
	if !utf8.Valid(line) {
		i := firstInvalid(line)
		return nil, fail("utf8", fmt.Errorf("invalid UTF-8 at byte %d of the line", i))
	}
	obj, err := j.jp.parse(line)
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
	} else {
		d.ID = j.source + "/" + strconv.FormatInt(j.line-1, 10)
	}
	meta := make(map[string]any, len(obj)+1)
	if m, ok := obj["metadata"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
		delete(obj, "metadata")
	}
	for k, v := range obj {
		meta[k] = v
	}
	if _, ok := meta[MetaSource]; !ok {
		meta[MetaSource] = j.source
	}
	d.Meta = meta
	return d, nil
}

// Close closes the file.
func (j *JSONLReader) Close() error { return j.s.Close() }
