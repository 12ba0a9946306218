package kernel

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"
)

// flushInterval is the longest a partial line waits before it is sent; a
// complete line waits lineDelay, so a burst of lines becomes one message.
const (
	flushInterval = 50 * time.Millisecond
	lineDelay     = 5 * time.Millisecond
)

// streams turns what a cell writes into IOPub stream messages. With fd capture,
// the process's descriptors 1 and 2 are pipes read by the kernel, so fmt.Print in
// a cell, compiled lmlib code and C code all stream alike.
type streams struct {
	out, err   *forwarder
	capOut     *fdCapture // nil without capture
	capErr     *fdCapture
	syncMu     sync.Mutex
	closeOnce  sync.Once
	restoreFDs func()
}

func newStreams(k *kernel, capture bool, errPipe [2]*os.File, logw io.Writer) (*streams, io.Writer, error) {
	s := &streams{out: newForwarder(k, "stdout"), err: newForwarder(k, "stderr")}
	if !capture {
		return s, logw, nil
	}
	origErr, restore, err := captureFDs(s, errPipe)
	if err != nil {
		// Not fatal: interpreted output still streams through the writers.
		fmt.Fprintf(logw, "golem kernel: output of compiled code is not captured: %v\n", err)
		return s, logw, nil
	}
	s.restoreFDs = restore
	if logw == os.Stderr {
		logw = origErr
	}
	return s, logw, nil
}

// stdoutWriter is what the interpreter should use as standard output.
func (s *streams) stdoutWriter() io.Writer {
	if s.capOut != nil {
		return os.Stdout // fd 1: the capture pipe, in order with compiled code
	}
	return s.out
}

func (s *streams) stderrWriter() io.Writer {
	if s.capErr != nil {
		return os.Stderr
	}
	return s.err
}

// sync publishes everything written so far (on both streams) before returning.
func (s *streams) sync() {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.capOut != nil {
		s.capOut.sync()
		s.capErr.sync()
	}
	s.out.flush(true)
	s.err.flush(true)
}

func (s *streams) close() {
	s.closeOnce.Do(func() {
		s.sync()
		if s.restoreFDs != nil {
			s.restoreFDs()
		}
		s.out.stop()
		s.err.stop()
	})
}

// forwarder buffers one stream and publishes it when a line ends (batched: one
// message per flush, however many lines arrived) or flushInterval after a partial line.
type forwarder struct {
	k       *kernel
	name    string
	mu      sync.Mutex
	buf     []byte
	armed   bool // a timed flush is pending
	flushMu sync.Mutex
	wake    chan struct{}
	quit    chan struct{}
}

func newForwarder(k *kernel, name string) *forwarder {
	f := &forwarder{k: k, name: name, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	go f.loop()
	return f
}

func (f *forwarder) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.buf = append(f.buf, p...)
	nl := bytes.IndexByte(p, '\n') >= 0
	arm := !nl && !f.armed
	if arm {
		f.armed = true
	}
	f.mu.Unlock()
	if nl {
		f.signal()
	} else if arm {
		time.AfterFunc(flushInterval, f.signal)
	}
	return len(p), nil
}

func (f *forwarder) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *forwarder) loop() {
	for {
		select {
		case <-f.wake:
			time.Sleep(lineDelay)
			f.flush(false)
		case <-f.quit:
			return
		}
	}
}

func (f *forwarder) stop() { close(f.quit) }

// flush publishes the buffer; unless all is set, an incomplete UTF-8 sequence at
// the end waits for the rest of its bytes.
func (f *forwarder) flush(all bool) {
	f.flushMu.Lock()
	defer f.flushMu.Unlock()
	f.mu.Lock()
	n := len(f.buf)
	if !all {
		n = completeUTF8(f.buf)
	}
	if n == 0 {
		f.armed = false
		f.mu.Unlock()
		return
	}
	text := string(f.buf[:n])
	f.buf = append(f.buf[:0], f.buf[n:]...)
	f.armed = false
	f.mu.Unlock()
	f.k.publish(f.k.outputParent(), "stream", map[string]any{"name": f.name, "text": text})
}

// completeUTF8 is the length of the longest prefix of b that does not end inside
// a UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		c := b[i]
		if c < 0x80 {
			return len(b)
		}
		if c >= 0xC0 { // a leading byte: is its sequence complete?
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			if len(b)-i < need {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}

// syncMarker is written into a captured descriptor to learn that everything
// written before it has been read. It cannot appear in UTF-8 text.
var syncMarker = []byte("\x00\xffgolem-sync\xff\x00")

// fdCapture reads a pipe that replaced a file descriptor and forwards its bytes.
type fdCapture struct {
	fd     int
	r      *os.File
	dst    *forwarder
	synced chan struct{}
	// fatal, when set, receives a copy of each line that begins Go's report of a
	// fatal error (see fatalLine): the runtime writes those to descriptor 2 only,
	// and this reader may take them from the pipe just before the runtime stops
	// it, so that they never reach the notebook. fatal is the kernel's original
	// standard error, where the supervisor reads them.
	fatal io.Writer
	carry []byte // the unfinished last line, for fatal
}

// fatalLine is a line of Go's report of a fatal error that is written to
// descriptor 2 only.
var fatalLine = regexp.MustCompile(`^(fatal error: |runtime: goroutine stack exceeds|runtime: out of memory)`)

// copyFatal writes the lines of b (after what carry holds) that fatalLine matches
// to c.fatal.
func (c *fdCapture) copyFatal(b []byte) {
	c.carry = append(c.carry, b...)
	for {
		i := bytes.IndexByte(c.carry, '\n')
		if i < 0 {
			break
		}
		if line := c.carry[:i+1]; fatalLine.Match(line) {
			c.fatal.Write(line)
		}
		c.carry = c.carry[i+1:]
	}
	if len(c.carry) > 1024 {
		c.carry = c.carry[len(c.carry)-1024:]
	}
	c.carry = append([]byte(nil), c.carry...)
}

func (c *fdCapture) read() {
	buf := make([]byte, 32*1024)
	var pending []byte
	for {
		n, err := c.r.Read(buf)
		if n > 0 && c.fatal != nil {
			c.copyFatal(buf[:n])
		}
		if n > 0 {
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.Index(pending, syncMarker)
				if i < 0 {
					break
				}
				c.dst.Write(pending[:i])
				pending = pending[i+len(syncMarker):]
				select {
				case c.synced <- struct{}{}:
				default:
				}
			}
			keep := markerPrefixLen(pending)
			if len(pending) > keep {
				c.dst.Write(pending[:len(pending)-keep])
				pending = append(pending[:0], pending[len(pending)-keep:]...)
			}
		}
		if err != nil {
			if len(pending) > 0 {
				c.dst.Write(pending)
			}
			return
		}
	}
}

// markerPrefixLen is the length of the longest suffix of b that is a proper prefix of syncMarker.
func markerPrefixLen(b []byte) int {
	for k := min(len(syncMarker)-1, len(b)); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], syncMarker[:k]) {
			return k
		}
	}
	return 0
}

// sync writes the marker into the descriptor and waits until the reader has seen it.
func (c *fdCapture) sync() {
	for {
		select { // forget a stale signal
		case <-c.synced:
			continue
		default:
		}
		break
	}
	if err := writeFD(c.fd, syncMarker); err != nil {
		return
	}
	select {
	case <-c.synced:
	case <-time.After(2 * time.Second):
	}
}
