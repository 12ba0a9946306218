package data

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/htmlindex"
)

// WARCReader reads WARC and WET files (plain or gzip, including Common Crawl's one
// gzip member per record) record by record, as datatrove's WarcReader does:
//
//   - "response" records whose payload is HTML (WARC-Identified-Payload-Type, else
//     the HTTP Content-Type, else sniffed) become documents holding the HTTP body
//     (headers stripped, chunked transfer and gzip/deflate content encoding undone,
//     decoded to UTF-8 when it is not UTF-8 already: from the declared charset,
//     else windows-1252 as the HTML standard says);
//   - "conversion" records (WET) become documents holding their text;
//   - other records (warcinfo, request, metadata, resource, non-HTML responses)
//     are ignored and counted in ReadStats.Ignored.
//
// The id is WARC-Record-ID; Meta holds MetaURL (WARC-Target-URI), MetaDate
// (WARC-Date) and MetaSource. A broken record (no WARC version line, a bad header,
// a missing or bad Content-Length, a truncated block, an undecodable payload) is an
// error naming the file and the record's byte offset, or a counted skip with
// ReadOptions.SkipBad, after which the reader resynchronises at the next
// "WARC/" version line.
type WARCReader struct {
	path, source string
	opts         ReadOptions
	s            *stream
	done         bool
	resync       bool
	line         []byte
	block        []byte
}

// NewWARCReader opens a WARC or WET file.
func NewWARCReader(path string, opts ReadOptions) (*WARCReader, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	return &WARCReader{path: path, source: sourceName(path, opts), opts: opts, s: s}, nil
}

func (w *WARCReader) readStats() *ReadStats { return w.opts.Stats }

// Close closes the file.
func (w *WARCReader) Close() error { return w.s.Close() }

// Next returns the next document or io.EOF.
func (w *WARCReader) Next() (*Doc, error) {
	for !w.done {
		d, rerr := w.record()
		if rerr != nil {
			if rerr.Reason == "truncated" || rerr.Reason == "read" {
				w.done = true
			} else {
				w.resync = true
			}
			if err := bad(&w.opts, rerr); err != nil {
				w.done = true
				return nil, err
			}
			continue
		}
		if d != nil {
			w.opts.Stats.addDoc(d)
			return d, nil
		}
	}
	return nil, io.EOF
}

const maxWARCHeader = 1 << 20

// warcHeader holds a record's named fields (canonical lower-case names).
type warcHeader map[string]string

func (h warcHeader) get(name string) string { return h[strings.ToLower(name)] }

// record reads one record; it returns (nil, nil) for a record that is not a
// document and at the end (with w.done set).
func (w *WARCReader) record() (*Doc, *RecordError) {
	max := w.opts.maxDoc()
	// Find the version line, skipping blank lines (and, after a bad record, junk).
	var start int64
	for {
		line, off, tooLong, err := w.s.readLine(maxWARCHeader, w.line)
		if err == io.EOF {
			w.done = true
			return nil, nil
		}
		if err != nil {
			return nil, w.fail(w.s.off, "read", err)
		}
		w.line = line[:0]
		if tooLong {
			if w.resync {
				continue
			}
			return nil, w.fail(off, "warc", fmt.Errorf("expected a WARC version line, got a line over %d bytes", maxWARCHeader))
		}
		if len(trimSpaceBytes(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte("WARC/")) {
			start = off
			w.resync = false
			break
		}
		if w.resync {
			continue
		}
		return nil, w.fail(off, "warc", fmt.Errorf("expected a WARC version line (WARC/1.0), got %q", clip(line)))
	}
	// Named fields up to the blank line.
	h := warcHeader{}
	var last string
	size := 0
	for {
		line, off, tooLong, err := w.s.readLine(maxWARCHeader, w.line)
		if err == io.EOF {
			return nil, w.fail(start, "truncated", fmt.Errorf("file ends inside the record header"))
		}
		if err != nil {
			return nil, w.fail(start, "read", err)
		}
		w.line = line[:0]
		size += len(line)
		if tooLong || size > maxWARCHeader {
			return nil, w.fail(off, "warc", fmt.Errorf("record header longer than %d bytes", maxWARCHeader))
		}
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			h[last] += " " + string(trimSpaceBytes(line))
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return nil, w.fail(off, "warc", fmt.Errorf("bad header line %q (want Name: value)", clip(line)))
		}
		last = strings.ToLower(string(trimSpaceBytes(line[:i])))
		h[last] = string(trimSpaceBytes(line[i+1:]))
	}
	cl := h.get("Content-Length")
	if cl == "" {
		return nil, w.fail(start, "warc", errors.New("record has no Content-Length"))
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		return nil, w.fail(start, "warc", fmt.Errorf("bad Content-Length %q", cl))
	}
	typ := h.get("WARC-Type")
	if typ != "response" && typ != "conversion" {
		if err := w.s.discard(n); err != nil {
			return nil, w.fail(start, "truncated", fmt.Errorf("block of %d bytes: %w", n, err))
		}
		w.opts.Stats.addIgnored()
		return nil, nil
	}
	if n > int64(max) {
		if err := w.s.discard(n); err != nil {
			return nil, w.fail(start, "truncated", fmt.Errorf("block of %d bytes: %w", n, err))
		}
		return nil, w.fail(start, "too-large", fmt.Errorf("block of %d bytes is over MaxDocBytes %d", n, max))
	}
	if int64(cap(w.block)) < n {
		w.block = make([]byte, n)
	}
	block := w.block[:n]
	if err := w.s.readFull(block); err != nil {
		return nil, w.fail(start, "truncated", fmt.Errorf("block of %d bytes: %w", n, err))
	}
	payloadType := h.get("WARC-Identified-Payload-Type")
	if i := strings.IndexByte(payloadType, ';'); i >= 0 {
		payloadType = strings.TrimSpace(payloadType[:i])
	}
	if payloadType != "" && !acceptedType(typ, payloadType) {
		w.opts.Stats.addIgnored()
		return nil, nil
	}
	body := block
	var charset string
	if typ == "response" {
		if bytes.HasPrefix(block, []byte("HTTP/")) {
			var ctype string
			var rerr *RecordError
			body, ctype, rerr = w.httpBody(block, start)
			if rerr != nil {
				return nil, rerr
			}
			mt, params, _ := mime.ParseMediaType(ctype)
			charset = params["charset"]
			if payloadType == "" {
				if mt == "" {
					mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
				}
				if !acceptedType(typ, mt) {
					w.opts.Stats.addIgnored()
					return nil, nil
				}
			}
		} else if payloadType == "" {
			mt, _, _ := mime.ParseMediaType(http.DetectContentType(body))
			if !acceptedType(typ, mt) {
				w.opts.Stats.addIgnored()
				return nil, nil
			}
		}
	}
	text, rerr := w.decodeText(body, charset, typ == "response", start)
	if rerr != nil {
		return nil, rerr
	}
	id := h.get("WARC-Record-ID")
	if id == "" {
		return nil, w.fail(start, "warc", errors.New("record has no WARC-Record-ID"))
	}
	d := &Doc{ID: id, Text: text, Meta: map[string]any{MetaSource: w.source}}
	if u := h.get("WARC-Target-URI"); u != "" {
		d.Meta[MetaURL] = u
	}
	if t := h.get("WARC-Date"); t != "" {
		d.Meta[MetaDate] = t
	}
	return d, nil
}

func acceptedType(recType, mt string) bool {
	return mt == "text/html" || mt == "application/xhtml+xml" || (recType == "conversion" && mt == "text/plain")
}

// httpBody strips the HTTP status line and headers and undoes chunked transfer
// encoding and gzip/deflate content encoding.
func (w *WARCReader) httpBody(block []byte, start int64) (body []byte, ctype string, rerr *RecordError) {
	end, sep := bytes.Index(block, []byte("\r\n\r\n")), 4
	if e2 := bytes.Index(block, []byte("\n\n")); e2 >= 0 && (end < 0 || e2 < end) {
		end, sep = e2, 2
	}
	if end < 0 {
		return nil, "", w.fail(start, "http", errors.New("HTTP response without the blank line that ends its headers"))
	}
	var chunked bool
	var cenc string
	for _, l := range strings.Split(string(block[:end]), "\n")[1:] {
		i := strings.IndexByte(l, ':')
		if i <= 0 {
			continue
		}
		name, val := strings.ToLower(strings.TrimSpace(l[:i])), strings.TrimSpace(l[i+1:])
		switch name {
		case "content-type":
			ctype = val
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(val), "chunked")
		case "content-encoding":
			cenc = strings.ToLower(val)
		}
	}
	body = block[end+sep:]
	if chunked {
		b, err := dechunk(body)
		if err != nil {
			return nil, "", w.fail(start, "http", fmt.Errorf("chunked body: %w", err))
		}
		body = b
	}
	switch cenc {
	case "gzip", "x-gzip", "deflate":
		var r io.Reader
		if cenc == "deflate" {
			r = flate.NewReader(bytes.NewReader(body))
		} else {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, "", w.fail(start, "http", fmt.Errorf("gzip content encoding: %w", err))
			}
			r = zr
		}
		b, err := io.ReadAll(io.LimitReader(r, int64(w.opts.maxDoc())+1))
		if err != nil {
			return nil, "", w.fail(start, "http", fmt.Errorf("%s content encoding: %w", cenc, err))
		}
		if len(b) > w.opts.maxDoc() {
			return nil, "", w.fail(start, "too-large", fmt.Errorf("decoded body over MaxDocBytes %d", w.opts.maxDoc()))
		}
		body = b
	}
	return body, ctype, nil
}

func dechunk(b []byte) ([]byte, error) {
	var out []byte
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, errors.New("missing chunk size line")
		}
		sz := strings.TrimSpace(string(b[:i]))
		if j := strings.IndexByte(sz, ';'); j >= 0 {
			sz = sz[:j]
		}
		n, err := strconv.ParseInt(sz, 16, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad chunk size %q", clip([]byte(sz)))
		}
		b = b[i+1:]
		if n == 0 {
			return out, nil
		}
		if int64(len(b)) < n {
			return nil, errors.New("chunk longer than the body")
		}
		out = append(out, b[:n]...)
		b = bytes.TrimLeft(b[n:], "\r\n")
	}
}

var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)`)

// decodeText returns body as UTF-8: as is when valid, else decoded from the
// declared charset (HTTP header, then <meta charset> in the first 2 KB), else for
// HTML from windows-1252 (the HTML standard's fallback). Invalid UTF-8 in a WET
// conversion record is a bad record.
func (w *WARCReader) decodeText(body []byte, charset string, html bool, start int64) (string, *RecordError) {
	if utf8.Valid(body) {
		return string(body), nil
	}
	if charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8") {
		head := body
		if len(head) > 2048 {
			head = head[:2048]
		}
		if m := metaCharset.FindSubmatch(head); m != nil {
			charset = string(m[1])
		}
	}
	if charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8") {
		if !html {
			return "", w.fail(start, "utf8", fmt.Errorf("text is not valid UTF-8 (byte %d)", firstInvalid(body)))
		}
		// The HTML standard's fallback for an undeclared legacy encoding.
		charset = "windows-1252"
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return "", w.fail(start, "charset", fmt.Errorf("payload is not UTF-8 and its charset %q is unknown", charset))
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil || !utf8.Valid(out) {
		return "", w.fail(start, "charset", fmt.Errorf("payload does not decode from %s", charset))
	}
	return string(out), nil
}

func (w *WARCReader) fail(off int64, reason string, err error) *RecordError {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		reason = "truncated"
	}
	return &RecordError{File: w.path, Offset: off, Reason: reason, Err: err}
}

func clip(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}
