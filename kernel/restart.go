package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
)

// A kernel run by `golem kernel`'s supervisor (Supervise) keeps a small state file
// up to date: the execution count, the history session, the execute_request it is
// running and those it has received but not started. When the kernel dies — Go
// ends the process on a stack overflow or when memory runs out, and the OOM killer
// sends SIGKILL — the supervisor starts a new one on the same connection file, and
// the new kernel reads the file: it answers the request that was running with an
// error that says why the kernel died and what is lost, answers the queued ones
// "aborted", and goes on with the same execution count and history session.

// kernelState is the content of the state file.
type kernelState struct {
	// Ready: the kernel listens on its sockets (a kernel that dies before is not
	// restarted: its error is its configuration's).
	Ready          bool           `json:"ready"`
	ExecutionCount int            `json:"execution_count"`
	HistorySession int            `json:"history_session"`
	Running        *savedRequest  `json:"running,omitempty"`
	Queued         []savedRequest `json:"queued,omitempty"`
}

// savedRequest is what a new kernel needs to answer a request of the one that died.
type savedRequest struct {
	Channel    string          `json:"channel"` // shell or control
	Identities [][]byte        `json:"identities"`
	Header     json.RawMessage `json:"header"`
	// Of the running request only:
	Code           string `json:"code,omitempty"` // the cell, cut as history cuts it
	ExecutionCount int    `json:"execution_count,omitempty"`
	StoreHistory   bool   `json:"store_history,omitempty"`
	Silent         bool   `json:"silent,omitempty"`
	// Of a queued request only, up to maxQueuedContent: a kernel that restarts on
	// purpose (reexec.go) runs it instead of aborting it.
	Content json.RawMessage `json:"content,omitempty"`
}

// maxQueuedContent is the largest queued request content the state file keeps.
const maxQueuedContent = 1 << 20

func saveRequest(ch string, m *Message) savedRequest {
	return savedRequest{Channel: ch, Identities: m.Identities, Header: m.rawHeader}
}

// message rebuilds the request (routing identities and header: enough to answer it).
func (r *savedRequest) message() (*Message, error) {
	m := &Message{Identities: r.Identities, rawHeader: r.Header, Content: r.Content}
	if err := json.Unmarshal(r.Header, &m.Header); err != nil {
		return nil, fmt.Errorf("saved request header: %w", err)
	}
	return m, nil
}

// stateFile writes kernelState to its file on every change: one pwrite and one
// ftruncate, no fsync (the file must survive the process, not the machine).
type stateFile struct {
	mu  sync.Mutex
	f   *os.File
	st  kernelState
	buf bytes.Buffer
	err error // the first write error (logged once)
	log func(format string, args ...any)
}

// openState reads the state a dead kernel left in path (zero when there is none)
// and opens the file for this kernel, which starts from that state.
func openState(path string, logf func(string, ...any)) (*stateFile, kernelState, error) {
	var prev kernelState
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		// A kernel that died between the pwrite and the ftruncate leaves the end of
		// a longer earlier state after the JSON value: the decoder stops at its end.
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&prev); err != nil {
			logf("state file %s: %v (starting without it)", path, err)
			prev = kernelState{}
		}
	} else if err != nil && !os.IsNotExist(err) {
		return nil, prev, fmt.Errorf("read kernel state %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, prev, fmt.Errorf("open kernel state %s: %w", path, err)
	}
	s := &stateFile{f: f, log: logf}
	// Until this kernel has answered them, the dead kernel's requests stay in the
	// file, so that a kernel that dies again before that still answers them.
	s.st.Running, s.st.Queued = prev.Running, prev.Queued
	s.st.ExecutionCount, s.st.HistorySession = prev.ExecutionCount, prev.HistorySession
	return s, prev, nil
}

// update changes the state under the lock and writes it. A nil *stateFile (no
// supervisor) does nothing.
func (s *stateFile) update(change func(*kernelState)) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.st)
	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(&s.st); err != nil {
		s.fail(err)
		return
	}
	if _, err := s.f.WriteAt(s.buf.Bytes(), 0); err != nil {
		s.fail(err)
		return
	}
	if err := s.f.Truncate(int64(s.buf.Len())); err != nil {
		s.fail(err)
	}
}

func (s *stateFile) fail(err error) {
	if s.err == nil {
		s.err = err
		s.log("kernel state %s: %v (a restart after a crash will not know the running cell)", s.f.Name(), err)
	}
}

func (s *stateFile) close() {
	if s != nil {
		s.f.Close()
	}
}

// ready records that the kernel serves requests.
func (s *stateFile) ready(count, histSession int) {
	s.update(func(st *kernelState) {
		st.Ready, st.ExecutionCount, st.HistorySession = true, count, histSession
	})
}

// received records an execute_request that waits in a queue.
func (s *stateFile) received(ch string, m *Message) {
	r := saveRequest(ch, m)
	if len(m.Content) <= maxQueuedContent {
		r.Content = m.Content
	}
	s.update(func(st *kernelState) { st.Queued = append(st.Queued, r) })
}

// started records the execute_request now running (and removes it from the queue).
func (s *stateFile) started(ch string, m *Message, code string, count int, storeHistory, silent bool) {
	r := saveRequest(ch, m)
	r.Code = truncateUTF8(code, maxHistoryInput)
	r.ExecutionCount, r.StoreHistory, r.Silent = count, storeHistory, silent
	s.update(func(st *kernelState) {
		st.Queued = dropSaved(st.Queued, m)
		st.Running = &r
		st.ExecutionCount = count
	})
}

// answered records that m was answered (it ran, or was aborted).
func (s *stateFile) answered(m *Message) {
	s.update(func(st *kernelState) {
		st.Queued = dropSaved(st.Queued, m)
		if st.Running != nil && bytes.Equal(st.Running.Header, m.rawHeader) {
			st.Running = nil
		}
	})
}

func dropSaved(rs []savedRequest, m *Message) []savedRequest {
	for i := range rs {
		if bytes.Equal(rs[i].Header, m.rawHeader) {
			return append(rs[:i], rs[i+1:]...)
		}
	}
	return rs
}

// restartWait is how long a restarted kernel waits for its clients to reconnect
// (ZeroMQ clients retry every 100 ms by default) before it answers the requests
// of the kernel that died.
const restartWait = 10 * time.Second

// peerSettle is how long after a peer's handshake its connection is taken to be
// usable (zmq4 adds it to the socket right after the handshake).
const peerSettle = 100 * time.Millisecond

// restartError is the error a restarted kernel shows for the cell that was
// running when the kernel died.
func restartError(reason string) *CellError {
	v := fmt.Sprintf("the kernel died while running this cell (%s) and was restarted: "+
		"the variables, imports, functions and types of earlier cells are gone; history and the execution count are kept. "+
		"Re-run the cells this notebook needs", reason)
	return &CellError{Name: "KernelRestarted", Value: v, Traceback: []string{"KernelRestarted: " + v}}
}

// restartNotice is written to the stderr of the first cell of a restarted kernel
// when the kernel died between cells.
func restartNotice(reason string) string {
	if bin, ok := strings.CutPrefix(reason, ReexecPrefix); ok {
		return reexecNotice(bin)
	}
	return fmt.Sprintf("golem: the kernel died (%s) and was restarted: the variables, imports, functions and types of earlier cells are gone; "+
		"history and the execution count are kept.\n", reason)
}

// answerDeadKernel answers the requests the kernel that died left in prev: the
// running one with restartError, the queued ones "aborted". Without a running
// request, the reason is shown on the next cell's stderr instead.
func (k *kernel) answerDeadKernel(prev kernelState) {
	reason := k.cfg.RestartReason
	if reason == "" {
		reason = "no reason was given"
	}
	k.log.Printf("restarted after the previous kernel died: %s", reason)
	if prev.Running == nil {
		k.mu.Lock()
		k.notice = restartNotice(reason)
		k.mu.Unlock()
		if len(prev.Queued) == 0 {
			return
		}
	}
	k.waitSubscriber()
	if r := prev.Running; r != nil {
		m, err := r.message()
		if err != nil {
			k.log.Printf("restart: %v", err)
		} else {
			ch := k.channelNamed(r.Channel)
			k.waitPeer(r.Channel, m.Identities)
			ce := restartError(reason)
			if !r.Silent {
				k.publish(m, "error", map[string]any{"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback})
			}
			if r.StoreHistory {
				k.hist.add(r.Code, "")
			}
			if err := k.reply(ch, m, "execute_reply", map[string]any{
				"status": "error", "execution_count": r.ExecutionCount,
				"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback,
			}); err != nil {
				k.log.Printf("restart: reply to the running request: %v", err)
			}
			k.publish(m, "status", map[string]any{"execution_state": "idle"})
			k.state.answered(m)
		}
	}
	for _, q := range prev.Queued {
		m, err := q.message()
		if err != nil {
			k.log.Printf("restart: %v", err)
			continue
		}
		k.waitPeer(q.Channel, m.Identities)
		if strings.HasPrefix(reason, ReexecPrefix) && len(m.Content) > 0 {
			// the kernel did not die: it restarted on purpose (reexec.go), so the
			// requests it received meanwhile run here
			k.serve(k.channelNamed(q.Channel), m)
			if m.Header.MsgType == "execute_request" {
				k.reexecIfAsked()
			}
			continue
		}
		k.publish(m, "status", map[string]any{"execution_state": "busy"})
		if err := k.reply(k.channelNamed(q.Channel), m, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.currentCount()}); err != nil {
			k.log.Printf("restart: abort reply: %v", err)
		}
		k.publish(m, "status", map[string]any{"execution_state": "idle"})
		k.state.answered(m)
	}
}

func (k *kernel) channelNamed(name string) channel {
	if name == "control" {
		return channel{"control", k.control}
	}
	return channel{"shell", k.shell}
}

// waitPeer waits (at most restartWait after start) until the client with routing
// identity ids has connected to the channel's socket again.
func (k *kernel) waitPeer(ch string, ids [][]byte) {
	pw := k.shellPeers
	if ch == "control" {
		pw = k.controlPeers
	}
	if pw == nil || len(ids) == 0 {
		return
	}
	pw.wait(k.ctx, ids[len(ids)-1], time.Until(k.startedAt.Add(restartWait)))
}

// peerWatch is ZeroMQ's NULL security mechanism (no authentication, no
// encryption: what Jupyter uses) that also records the routing identity of every
// peer that connects, so that a restarted kernel knows when a client is back.
type peerWatch struct {
	zmq4.Security
	mu      sync.Mutex
	seen    map[string]time.Time
	changed chan struct{} // closed and replaced when a peer connects
}

func newPeerWatch(sec zmq4.Security) *peerWatch {
	return &peerWatch{Security: sec, seen: map[string]time.Time{}, changed: make(chan struct{})}
}

func (p *peerWatch) Handshake(conn *zmq4.Conn, server bool) error {
	if err := p.Security.Handshake(conn, server); err != nil {
		return err
	}
	if id := conn.Peer.Meta["Identity"]; id != "" {
		p.mu.Lock()
		p.seen[id] = time.Now()
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	return nil
}

// wait waits until a peer with identity id has connected and peerSettle has
// passed since, or until d has passed.
func (p *peerWatch) wait(ctx context.Context, id []byte, d time.Duration) {
	deadline := time.After(d)
	for {
		p.mu.Lock()
		at, ok := p.seen[string(id)]
		changed := p.changed
		p.mu.Unlock()
		if ok {
			if rest := time.Until(at.Add(peerSettle)); rest > 0 {
				time.Sleep(rest)
			}
			return
		}
		select {
		case <-changed:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}
