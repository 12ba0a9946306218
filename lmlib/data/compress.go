package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Codec names.
const (
	CodecNone = ""
	CodecGzip = "gzip"
	CodecZstd = "zstd"
)

// stream is a decompressed file: a buffered reader of its bytes that counts the
// decompressed offset, plus the compressed bytes consumed so far.
type stream struct {
	f      *os.File
	raw    *countingReader
	dec    io.Reader
	closer func() // before the file is closed
	after  func() // after the file is closed
	codec  string
	br     *bufio.Reader
	off    int64 // decompressed bytes consumed through br
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// openStream opens path and decompresses gzip (any number of members, as Common
// Crawl's per-record .warc.gz) or zstd, detected by magic bytes, so a misnamed file
// still reads; a file with neither magic is read as is.
func openStream(path string) (*stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	s := &stream{f: f, raw: &countingReader{r: f}}
	pre := bufio.NewReaderSize(s.raw, 64<<10)
	head, _ := pre.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(pre)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("data: open %s: gzip header: %w", path, err)
		}
		// Decompress on another goroutine, so that it overlaps with parsing.
		ar := newAsyncReader(zr, 256<<10, 4)
		s.dec, s.codec = ar, CodecGzip
		s.closer = func() { ar.Close() }
		s.after = func() { <-ar.exited; zr.Close() }
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(pre, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxWindow(1<<30))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("data: open %s: zstd header: %w", path, err)
		}
		s.dec, s.codec = zr, CodecZstd
		s.closer = zr.Close
	default:
		s.dec = pre
	}
	s.br = bufio.NewReaderSize(s.dec, 256<<10)
	return s, nil
}

// Close closes the file; it may be called more than once.
func (s *stream) Close() error {
	if s.f == nil {
		return nil
	}
	if s.closer != nil {
		s.closer()
	}
	err := s.f.Close()
	s.f = nil
	if s.after != nil {
		s.after() // the read-ahead goroutine has stopped reading the file
	}
	return err
}

// readLine returns the next line without its "\n" (and "\r"), the offset of its
// start, and whether it was longer than max (its content then is dropped but the
// stream stays in sync). At the end it returns io.EOF; a final line without "\n"
// is returned normally. The line is built in buf's storage.
func (s *stream) readLine(max int, buf []byte) (line []byte, start int64, tooLong bool, err error) {
	return s.appendLine(max, buf[:0])
}

// appendLine is readLine appending the line to dst; out[len(dst):] is the line.
func (s *stream) appendLine(max int, dst []byte) (out []byte, start int64, tooLong bool, err error) {
	base := len(dst)
	start = s.off
	for {
		chunk, err := s.br.ReadSlice('\n')
		s.off += int64(len(chunk))
		if !tooLong {
			if len(dst)-base+len(chunk) > max+1 {
				tooLong = true
				dst = dst[:base]
			} else {
				dst = append(dst, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if s.off == start {
				return dst[:base], start, false, io.EOF
			}
			return dst[:base+len(trimEOL(dst[base:]))], start, tooLong, nil
		}
		if err != nil {
			return dst[:base], start, tooLong, err
		}
		return dst[:base+len(trimEOL(dst[base:]))], start, tooLong, nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// readFull reads exactly n bytes.
func (s *stream) readFull(p []byte) error {
	n, err := io.ReadFull(s.br, p)
	s.off += int64(n)
	return err
}

// discard skips n bytes.
func (s *stream) discard(n int64) error {
	for n > 0 {
		k := n
		if k > 1<<30 {
			k = 1 << 30
		}
		d, err := s.br.Discard(int(k))
		s.off += int64(d)
		n -= int64(d)
		if err != nil {
			return err
		}
	}
	return nil
}

// truncated reports whether err means the compressed or plain stream ended early.
func truncated(err error) bool {
	return err == io.ErrUnexpectedEOF || err == io.EOF
}

// asyncReader reads ahead from r on its own goroutine, in chunks of size bytes,
// at most depth chunks ahead.
type asyncReader struct {
	ch     chan asyncChunk
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	cur    []byte
	buf    []byte
	err    error
	once   sync.Once
}

type asyncChunk struct {
	b   []byte
	err error
}

func newAsyncReader(r io.Reader, size, depth int) *asyncReader {
	a := &asyncReader{ch: make(chan asyncChunk, depth), free: make(chan []byte, depth+2), done: make(chan struct{}),
		exited: make(chan struct{})}
	for i := 0; i < depth+2; i++ {
		a.free <- make([]byte, size)
	}
	go func() {
		defer close(a.exited)
		defer close(a.ch)
		for {
			var b []byte
			select {
			case b = <-a.free:
			case <-a.done:
				return
			}
			n := 0
			var err error
			for n < len(b) && err == nil {
				var k int
				k, err = r.Read(b[n:])
				n += k
			}
			select {
			case a.ch <- asyncChunk{b[:n], err}:
			case <-a.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *asyncReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		c, ok := <-a.ch
		if !ok {
			if a.err == nil {
				a.err = io.EOF
			}
			return 0, a.err
		}
		a.buf, a.cur = c.b, c.b
		if c.err != nil {
			a.err = c.err
		}
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the read-ahead goroutine.
func (a *asyncReader) Close() { a.once.Do(func() { close(a.done) }) }
