package data

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// TextReader reads a plain text file (optionally .gz/.zst) as one document, or one
// per paragraph or line (ReadOptions.TextSplit). Ids are "source" for a whole file
// and "source/OFFSET" (byte offset of the paragraph or line) otherwise; Meta holds
// MetaSource. Invalid UTF-8 is a bad record.
type TextReader struct {
	path, source string
	opts         ReadOptions
	s            *stream
	done         bool
	buf, para    []byte
}

// NewTextReader opens a plain text file.
func NewTextReader(path string, opts ReadOptions) (*TextReader, error) {
	switch opts.TextSplit {
	case "", SplitFile, SplitParagraph, SplitLine:
	default:
		return nil, fmt.Errorf("data: open %s: unknown TextSplit %q (want file, paragraph or line)", path, opts.TextSplit)
	}
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	return &TextReader{path: path, source: sourceName(path, opts), opts: opts, s: s}, nil
}

func (t *TextReader) readStats() *ReadStats { return t.opts.Stats }

// Next returns the next document or io.EOF.
func (t *TextReader) Next() (*Doc, error) {
	for !t.done {
		d, err := t.next()
		if err != nil {
			if re, ok := err.(*RecordError); ok {
				if re.Reason == "truncated" || re.Reason == "read" {
					t.done = true
				}
				if err = bad(&t.opts, re); err == nil {
					continue
				}
			}
			t.done = true
			return nil, err
		}
		if d != nil {
			t.opts.Stats.addDoc(d)
			return d, nil
		}
	}
	return nil, io.EOF
}

func (t *TextReader) recErr(off, line int64, reason string, err error) *RecordError {
	if truncated(err) {
		reason = "truncated"
	}
	return &RecordError{File: t.path, Offset: off, Line: line, Reason: reason, Err: err}
}

func (t *TextReader) next() (*Doc, error) {
	max := t.opts.maxDoc()
	if t.opts.TextSplit == "" || t.opts.TextSplit == SplitFile {
		t.done = true
		buf := make([]byte, 0, 64<<10)
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := t.s.br.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			t.s.off += int64(n)
			if len(buf) > max {
				return nil, &RecordError{File: t.path, Reason: "too-large", Err: fmt.Errorf("document longer than %d bytes", max)}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, t.recErr(t.s.off, 0, "read", err)
			}
		}
		if !utf8.Valid(buf) {
			return nil, t.recErr(int64(firstInvalid(buf)), 0, "utf8", fmt.Errorf("invalid UTF-8"))
		}
		return &Doc{ID: t.source, Text: string(buf), Meta: map[string]any{MetaSource: t.source}}, nil
	}
	// Paragraph or line mode.
	t.para = t.para[:0]
	var start int64 = -1
	for {
		line, off, tooLong, err := t.s.readLine(max, t.buf)
		if err == io.EOF {
			t.done = true
			break
		}
		if err != nil {
			return nil, t.recErr(t.s.off, 0, "read", err)
		}
		t.buf = line[:0]
		if tooLong {
			return nil, &RecordError{File: t.path, Offset: off, Reason: "too-large", Err: fmt.Errorf("line longer than %d bytes", max)}
		}
		blank := len(trimSpaceBytes(line)) == 0
		if t.opts.TextSplit == SplitLine {
			if blank {
				continue
			}
			start = off
			t.para = append(t.para, line...)
			break
		}
		if blank {
			if start >= 0 {
				break
			}
			continue
		}
		if start < 0 {
			start = off
		} else {
			t.para = append(t.para, '\n')
		}
		t.para = append(t.para, line...)
		if len(t.para) > max {
			return nil, &RecordError{File: t.path, Offset: start, Reason: "too-large", Err: fmt.Errorf("paragraph longer than %d bytes", max)}
		}
	}
	if start < 0 {
		return nil, nil
	}
	if !utf8.Valid(t.para) {
		return nil, t.recErr(start+int64(firstInvalid(t.para)), 0, "utf8", fmt.Errorf("invalid UTF-8"))
	}
	id := t.source + "/" + strconv.FormatInt(start, 10)
	return &Doc{ID: id, Text: string(t.para), Meta: map[string]any{MetaSource: t.source}}, nil
}

// Close closes the file.
func (t *TextReader) Close() error { return t.s.Close() }

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func trimSpaceBytes(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\f' || b[i] == '\v') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\r' || b[j-1] == '\f' || b[j-1] == '\v') {
		j--
	}
	return b[i:j]
}
