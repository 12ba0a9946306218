// Package kernel is golem's Jupyter kernel: the Jupyter messaging protocol (5.3) over
// ZeroMQ (github.com/go-zeromq/zmq4), with HMAC-SHA256 signing and verification of
// every message, busy/idle status around every request, one dispatch table from
// message type to handler, streamed stdout/stderr (the process's real file
// descriptors 1 and 2 are captured, so compiled code and C code stream too), stdin
// input requests, rich display output, interrupts, a persistent history, kernel
// subshells (JEP 91, subshell.go) and a debugger (JEP 47, debug.go).
//
// The cells themselves are run by an Interpreter (golem's is package cell, a live
// yaegi interpreter); this package is everything around it. Jupyter starts the kernel
// as `golem kernel --connection-file FILE`, which calls Supervise: it runs the same
// command again as its child, which calls Run, and starts a new child when Go ends
// the kernel (a stack overflow, running out of memory, SIGKILL), telling the client
// why (see Config.StatePath).
package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"

	"github.com/golem-lm/golem/display"
)

// Interpreter runs cells. Execute returns the execute_result bundle (nil when the cell
// has no value) or an error; a *CellError (or an error that converts to one through
// Config.CellError) becomes the cell's error output. Cancelling ctx is an interrupt.
type Interpreter interface {
	Execute(ctx context.Context, code string) (display.Bundle, error)
	Complete(code string, cursor int) (matches []string, start, end int)
	Inspect(code string, cursor, detail int) (data display.Bundle, found bool)
	IsComplete(code string) (status, indent string)
	Close()
}

// IO is what the kernel hands the interpreter it creates: writers that reach the
// notebook's stdout/stderr streams and a function that asks the frontend for input.
type IO struct {
	Stdout, Stderr io.Writer
	// Stdin asks the frontend for a line (input_request). It returns io.EOF when the
	// current request does not allow stdin, and an error when the cell is interrupted.
	Stdin func(prompt string, password bool) (string, error)
}

// CellError is a failure shown to the user as an error output.
type CellError struct {
	Name, Value string
	Traceback   []string
}

func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// Config configures Run.
type Config struct {
	Connection ConnectionInfo
	// NewInterpreter creates the cell interpreter. It runs concurrently with socket
	// setup, so a slow interpreter start does not delay kernel_info.
	NewInterpreter func(IO) (Interpreter, error)
	// CellError converts an Execute error into its name, value and traceback
	// (nil: *CellError is used as is, other errors become Name "Error").
	CellError func(error) *CellError
	// CaptureFDs redirects the process's file descriptors 1 and 2 into stream
	// messages while the kernel runs (what `golem kernel` does).
	CaptureFDs bool
	// Log receives the kernel's own log (default: standard error as it was at start).
	Log io.Writer
	// HistoryPath is the JSONL history file ("" = <Jupyter data dir>/golem/history.jsonl,
	// "-" = keep history in memory only).
	HistoryPath string
	// StatePath is the state file of a kernel run by Supervise ("" = none): the
	// kernel keeps its execution count, history session and pending execute
	// requests there, and a kernel started on the file of one that died answers
	// that one's requests and continues its count and history session.
	StatePath string
	// RestartReason says why the previous kernel on StatePath died ("" on a
	// first start).
	RestartReason string
	// StderrPipe, when set, is the pipe (read end, write end) that captures
	// descriptor 2; Supervise passes one whose read end it keeps, to read the
	// start of Go's report of a fatal error, which goes to descriptor 2 only.
	StderrPipe [2]*os.File
	// Implementation and Version describe the kernel in kernel_info_reply.
	Implementation, Version string
	Banner                  string
}

// Run binds the sockets described by cfg.Connection and serves until a
// shutdown_request arrives or ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	k, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	return k.wait()
}

type kernel struct {
	cfg     Config
	signer  *Signer
	replays *replayGuard // signatures already received on any channel
	session string
	log     *log.Logger
	ctx     context.Context
	cancel  context.CancelFunc

	shell, control, stdin, iopub, hb zmq4.Socket
	handlers                         map[string]handler

	iopubMu    sync.Mutex
	subscribed chan struct{} // closed when the first IOPub subscription arrives
	subWaitEnd time.Time     // publishes stop waiting for a subscriber after this

	interpReady chan struct{}
	interp      Interpreter
	interpErr   error

	streams *streams
	hist    *history

	mu         sync.Mutex
	running    *execution // the execute_request being run, nil between cells
	lastParent *Message   // parent of output that arrives between requests
	execCount  int
	shellQ     chan *Message

	stdinReplies chan *Message
	done         chan struct{}

	subshells subshells  // JEP 91 (subshell.go)
	debug     debugger   // JEP 47 (debug.go)
	shellSend sync.Mutex // replies on shell come from the main shell and subshells

	// After a restart (restart.go): the state file, the dead kernel's state,
	// the peers of shell and control, and a notice for the next cell.
	state                    *stateFile
	prev                     kernelState
	shellPeers, controlPeers *peerWatch
	startedAt                time.Time
	notice                   string
	doneOnce                 sync.Once
	shutdownErr              error
}

// execution is the state of the execute_request that is running.
type execution struct {
	req        *Message
	ctx        context.Context
	cancel     context.CancelFunc
	allowStdin bool
}

// channel is one of the request sockets (shell or control), named for logs.
type channel struct {
	name string
	sock zmq4.Socket
}

// handler serves one request type; every handler has this shape.
type handler func(k *kernel, ch channel, m *Message) error

func start(parent context.Context, cfg Config) (*kernel, error) {
	ci := cfg.Connection
	ctx, cancel := context.WithCancel(parent)
	k := &kernel{
		cfg:          cfg,
		signer:       NewSigner([]byte(ci.Key)),
		replays:      newReplayGuard(digestHistorySize),
		session:      newID(),
		ctx:          ctx,
		cancel:       cancel,
		subscribed:   make(chan struct{}),
		subWaitEnd:   time.Now().Add(5 * time.Second),
		interpReady:  make(chan struct{}),
		shellQ:       make(chan *Message, 1024),
		stdinReplies: make(chan *Message, 16),
		done:         make(chan struct{}),
		handlers:     dispatchTable(),
	}
	logw := cfg.Log
	if logw == nil {
		logw = os.Stderr
	}
	var err error
	k.streams, logw, err = newStreams(k, cfg.CaptureFDs, cfg.StderrPipe, logw)
	if err != nil {
		cancel()
		return nil, err
	}
	k.log = log.New(logw, "golem kernel: ", log.LstdFlags|log.Lmsgprefix)
	zlog := log.New(logw, "golem kernel: zmq4: ", log.LstdFlags|log.Lmsgprefix)
	k.startedAt = time.Now()
	if cfg.StatePath != "" {
		k.state, k.prev, err = openState(cfg.StatePath, k.log.Printf)
		if err != nil {
			k.log.Printf("%v", err)
		}
		if k.recovering() {
			k.subWaitEnd = k.startedAt.Add(restartWait) // clients reconnect after the crash
		}
	}

	k.shellPeers, k.controlPeers = newPeerWatch(null.Security()), newPeerWatch(null.Security())
	k.shell = zmq4.NewRouter(ctx, zmq4.WithLogger(zlog), zmq4.WithSecurity(k.shellPeers))
	k.control = zmq4.NewRouter(ctx, zmq4.WithLogger(zlog), zmq4.WithSecurity(k.controlPeers))
	// A client may allow stdin without ever connecting its stdin socket: do not
	// wait minutes (zmq4's default) for one to send an input_request to.
	k.stdin = zmq4.NewRouter(ctx, zmq4.WithLogger(zlog), zmq4.WithTimeout(2*time.Second))
	k.iopub = zmq4.NewXPub(ctx, zmq4.WithLogger(zlog))
	k.hb = zmq4.NewRep(ctx, zmq4.WithLogger(zlog))
	for _, s := range []struct {
		name string
		sock zmq4.Socket
		port int
	}{{"shell", k.shell, ci.ShellPort}, {"control", k.control, ci.ControlPort}, {"stdin", k.stdin, ci.StdinPort}, {"iopub", k.iopub, ci.IOPubPort}, {"hb", k.hb, ci.HBPort}} {
		if err := s.sock.Listen(ci.endpoint(s.port)); err != nil {
			k.closeSockets()
			k.streams.close()
			cancel()
			return nil, fmt.Errorf("listen on %s channel %s: %w", s.name, ci.endpoint(s.port), err)
		}
	}

	k.hist, err = openHistory(cfg.HistoryPath)
	if err != nil {
		k.log.Printf("history disabled: %v", err)
		k.hist, _ = openHistory("-")
	}
	if k.prev.HistorySession > 0 {
		k.hist.resume(k.prev.HistorySession)
	}
	k.execCount = k.prev.ExecutionCount
	k.state.ready(k.execCount, k.hist.session)
	if k.hist.skipped > 0 {
		k.log.Printf("history: skipped %d lines of %s that were not entries (too long or not JSON); the others are kept", k.hist.skipped, k.hist.path)
	}

	go func() { // the interpreter starts while clients connect
		defer close(k.interpReady)
		if cfg.NewInterpreter == nil {
			k.interpErr = errors.New("no interpreter configured")
			return
		}
		k.interp, k.interpErr = cfg.NewInterpreter(IO{Stdout: k.streams.stdoutWriter(), Stderr: k.streams.stderrWriter(), Stdin: k.readInput})
		if k.interpErr != nil {
			k.log.Printf("start interpreter: %v", k.interpErr)
		}
	}()

	display.SetPublisher(publisher{k})
	go k.watchSubscription()
	go k.heartbeat()
	go k.readLoop(channel{"shell", k.shell}, k.shellQ)
	controlQ := make(chan *Message, 64)
	go k.readLoop(channel{"control", k.control}, controlQ)
	go k.readStdin()
	go k.serveShell()
	go func() {
		for m := range controlQ {
			k.serve(channel{"control", k.control}, m)
		}
	}()
	if cfg.CaptureFDs || cfg.StatePath != "" {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt)
		go func() {
			for range sigs {
				k.interrupt()
			}
		}()
	}
	go func() {
		<-ctx.Done()
		k.finish(nil)
	}()
	return k, nil
}

// wait blocks until shutdown and releases everything.
func (k *kernel) wait() error {
	<-k.done
	k.interrupt()
	k.cancel()
	display.SetPublisher(nil)
	select {
	case <-k.interpReady:
		if k.interp != nil {
			k.interp.Close()
		}
	case <-time.After(2 * time.Second):
	}
	k.streams.close()
	k.closeSockets()
	k.hist.close()
	k.state.close()
	return k.shutdownErr
}

func (k *kernel) finish(err error) {
	k.doneOnce.Do(func() {
		k.shutdownErr = err
		close(k.done)
	})
}

func (k *kernel) closeSockets() {
	for _, s := range []zmq4.Socket{k.shell, k.control, k.stdin, k.iopub, k.hb} {
		if s != nil {
			s.Close()
		}
	}
}

// readLoop receives, verifies and queues the requests of one socket. A message
// that fails verification is logged and dropped.
func (k *kernel) readLoop(ch channel, out chan<- *Message) {
	defer close(out)
	for {
		zm, err := ch.sock.Recv()
		if err != nil {
			if k.ctx.Err() == nil {
				k.log.Printf("%s: receive: %v", ch.name, err)
			}
			return
		}
		m, err := k.signer.Decode(zm.Frames)
		if err != nil {
			k.log.Printf("%s: dropped message: %v", ch.name, err)
			continue
		}
		if !k.replays.fresh(m.signature) {
			k.log.Printf("%s: dropped replayed message: duplicate signature (%s %s)", ch.name, m.Header.MsgType, m.Header.MsgID)
			continue
		}
		if ch.name == "shell" && k.routeSubshell(m) {
			continue
		}
		if m.Header.MsgType == "execute_request" && ch.name != "stdin" {
			k.state.received(ch.name, m)
		}
		out <- m
	}
}

// recovering reports whether this kernel replaces one that died.
func (k *kernel) recovering() bool {
	return k.cfg.RestartReason != "" || k.prev.Running != nil || len(k.prev.Queued) > 0
}

func (k *kernel) serveShell() {
	sh := channel{"shell", k.shell}
	if k.recovering() {
		k.answerDeadKernel(k.prev)
	}
	for m := range k.shellQ {
		k.serve(sh, m)
		if m.Header.MsgType == "execute_request" {
			k.reexecIfAsked()
		}
	}
}

// serve runs the handler of m between busy and idle status messages.
func (k *kernel) serve(ch channel, m *Message) {
	k.publish(m, "status", map[string]any{"execution_state": "busy"})
	h, ok := k.handlers[m.Header.MsgType]
	var err error
	if ok {
		err = h(k, ch, m)
	} else {
		err = unknownRequest(k, ch, m)
	}
	if err != nil {
		k.log.Printf("%s: %s: %v", ch.name, m.Header.MsgType, err)
	}
	k.publish(m, "status", map[string]any{"execution_state": "idle"})
}

// reply sends a reply of msgType to request m on ch.
func (k *kernel) reply(ch channel, m *Message, msgType string, content any) error {
	return k.sendTo(ch.sock, m.Identities, m, msgType, content, nil)
}

func (k *kernel) sendTo(sock zmq4.Socket, ids [][]byte, parent *Message, msgType string, content any, metadata any) error {
	c, err := json.Marshal(content)
	if err != nil {
		return fmt.Errorf("encode %s: %w", msgType, err)
	}
	out := &Message{Identities: ids, Header: NewHeader(msgType, k.session), Content: c}
	if parent != nil {
		out.Parent = parent.rawHeader
	}
	if metadata != nil {
		if out.Metadata, err = json.Marshal(metadata); err != nil {
			return fmt.Errorf("encode %s metadata: %w", msgType, err)
		}
	}
	frames, err := k.signer.Encode(out)
	if err != nil {
		return err
	}
	if sock == k.shell {
		k.shellSend.Lock()
		defer k.shellSend.Unlock()
	}
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("send %s: %w", msgType, err)
	}
	return nil
}

// publish sends an IOPub message whose parent is m (nil: no parent).
func (k *kernel) publish(m *Message, msgType string, content any) {
	k.waitSubscriber()
	topic := []byte("kernel." + k.session + "." + msgType)
	if msgType == "stream" {
		if c, ok := content.(map[string]any); ok {
			topic = []byte("stream." + fmt.Sprint(c["name"]))
		}
	}
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	if err := k.sendTo(k.iopub, [][]byte{topic}, m, msgType, content, nil); err != nil {
		k.log.Printf("iopub: %v", err)
	}
}

// waitSubscriber holds IOPub messages until the first client has subscribed (PUB
// sockets drop messages sent before that; papermill waits for the status message of
// its first kernel_info_request). It gives up a few seconds after start.
func (k *kernel) waitSubscriber() {
	select {
	case <-k.subscribed:
		return
	default:
	}
	d := time.Until(k.subWaitEnd)
	if d <= 0 {
		return
	}
	select {
	case <-k.subscribed:
	case <-time.After(d):
	case <-k.ctx.Done():
	}
}

// watchSubscription notices the first IOPub subscription and greets it with an
// iopub_welcome message (JEP 65).
func (k *kernel) watchSubscription() {
	tp, ok := k.iopub.(zmq4.Topics)
	if !ok {
		close(k.subscribed)
		return
	}
	for {
		if topics := tp.Topics(); len(topics) > 0 {
			close(k.subscribed)
			k.publish(nil, "iopub_welcome", map[string]any{"subscription": topics[0]})
			return
		}
		poll := time.Millisecond // fast while a client is expected to connect
		if time.Now().After(k.subWaitEnd) {
			poll = 50 * time.Millisecond
		}
		select {
		case <-k.ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

func (k *kernel) heartbeat() {
	for {
		m, err := k.hb.Recv()
		if err != nil {
			return
		}
		if err := k.hb.Send(m); err != nil && k.ctx.Err() == nil {
			k.log.Printf("heartbeat: %v", err)
		}
	}
}

// readStdin receives input_reply messages for a pending input_request.
func (k *kernel) readStdin() {
	msgs := make(chan *Message, 16)
	go k.readLoop(channel{"stdin", k.stdin}, msgs)
	for m := range msgs {
		if m.Header.MsgType != "input_reply" {
			k.log.Printf("stdin: ignored %s", m.Header.MsgType)
			continue
		}
		select {
		case k.stdinReplies <- m:
		default:
			k.log.Printf("stdin: dropped input_reply nobody waits for")
		}
	}
}

// readInput asks the frontend of the running cell for a line of input.
func (k *kernel) readInput(prompt string, password bool) (string, error) {
	k.mu.Lock()
	ex := k.running
	k.mu.Unlock()
	if ex == nil || !ex.allowStdin {
		return "", io.EOF
	}
	k.streams.sync()
	for drained := false; !drained; { // forget replies to earlier requests
		select {
		case <-k.stdinReplies:
		default:
			drained = true
		}
	}
	if err := k.sendTo(k.stdin, ex.req.Identities, ex.req, "input_request", map[string]any{"prompt": prompt, "password": password}, nil); err != nil {
		return "", err
	}
	select {
	case r := <-k.stdinReplies:
		var c struct {
			Value  *string `json:"value"`
			Status string  `json:"status"`
		}
		if err := json.Unmarshal(r.Content, &c); err != nil {
			return "", fmt.Errorf("input_reply: %w", err)
		}
		if c.Value == nil {
			return "", io.EOF
		}
		return *c.Value, nil
	case <-ex.ctx.Done():
		return "", fmt.Errorf("input interrupted: %w", ex.ctx.Err())
	case <-k.ctx.Done():
		return "", io.EOF
	}
}

// interrupt cancels the running cell, if any.
func (k *kernel) interrupt() {
	k.mu.Lock()
	if k.running != nil {
		k.running.cancel()
	}
	k.mu.Unlock()
	k.subshells.interrupt()
}

// outputParent is the request that output produced now belongs to.
func (k *kernel) outputParent() *Message {
	if m := k.subshells.outputParent(); m != nil {
		return m
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running != nil {
		return k.running.req
	}
	return k.lastParent
}

// interpreter waits for the interpreter to be ready.
func (k *kernel) interpreter() (Interpreter, error) {
	<-k.interpReady
	return k.interp, k.interpErr
}

// publisher routes the display package's output to IOPub.
type publisher struct{ k *kernel }

func (p publisher) Display(data display.Bundle, metadata map[string]any, displayID string, update bool) {
	p.k.streams.sync()
	if metadata == nil {
		metadata = map[string]any{}
	}
	content := map[string]any{"data": data, "metadata": metadata, "transient": map[string]any{}}
	if displayID != "" {
		content["transient"] = map[string]any{"display_id": displayID}
	}
	typ := "display_data"
	if update {
		typ = "update_display_data"
	}
	p.k.publish(p.k.outputParent(), typ, content)
}

func (p publisher) ClearOutput(wait bool) {
	p.k.streams.sync()
	p.k.publish(p.k.outputParent(), "clear_output", map[string]any{"wait": wait})
}

var goVersion = runtime.Version()
