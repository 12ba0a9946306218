package display

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
)

// A Comm is one end of a Jupyter comm: a channel of JSON messages between an object
// in the kernel and its counterpart in the front end (ipywidgets' models are comms
// with the target "jupyter.widget"). The kernel side opens one with OpenComm, or the
// front end opens one on a target registered with RegisterCommTarget.
//
// Messages from the front end are delivered by the kernel on its shell goroutine,
// between cells (never while a cell runs), so a handler may read and write what the
// cells use without locks of its own.
type Comm struct {
	id, target string

	mu      sync.Mutex
	onMsg   func(data map[string]any) error
	onClose func(data map[string]any)
	closed  bool
}

// CommPublisher is implemented by a Publisher that can carry comms (the kernel's):
// it sends comm_open, comm_msg and comm_close on IOPub with the current output's
// parent, and names that parent's message id (the Output widget routes the output
// published under it). A nil metadata sends {}.
type CommPublisher interface {
	CommOpen(id, target string, data, metadata map[string]any)
	CommMsg(id string, data, metadata map[string]any)
	CommClose(id string, data map[string]any)
	// OutputParentID is the msg_id of the request that output published now belongs
	// to: the running cell's execute_request, or the comm_msg whose handler runs.
	OutputParentID() string
}

// CommTarget is called when the front end opens a comm on a registered target, with
// the comm_open's data; an error closes the comm again.
type CommTarget func(c *Comm, data map[string]any) error

var (
	commMu  sync.Mutex
	comms   = map[string]*Comm{}
	targets = map[string]CommTarget{}
)

func commPublisher() CommPublisher {
	pubMu.RLock()
	defer pubMu.RUnlock()
	cp, _ := pub.(CommPublisher)
	return cp
}

// NewCommID returns a fresh comm id: 32 hex digits, as ipykernel's.
func NewCommID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("display: no random comm id: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// OpenComm opens a comm on target from the kernel side: comm_open with data and
// metadata goes to the front end. Outside a kernel the comm exists but sends nothing.
func OpenComm(target string, data, metadata map[string]any) *Comm {
	c := &Comm{id: NewCommID(), target: target}
	commMu.Lock()
	comms[c.id] = c
	commMu.Unlock()
	if cp := commPublisher(); cp != nil {
		cp.CommOpen(c.id, target, data, metadata)
	}
	return c
}

// ID is the comm's id (a widget's model_id).
func (c *Comm) ID() string { return c.id }

// Target is the comm's target name.
func (c *Comm) Target() string { return c.target }

// Send sends a comm_msg with data (and metadata, nil for {}) to the front end; a
// closed comm sends nothing.
func (c *Comm) Send(data, metadata map[string]any) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	if cp := commPublisher(); cp != nil {
		cp.CommMsg(c.id, data, metadata)
	}
}

// OnMsg sets the handler of the front end's messages on this comm. An error it
// returns is reported by the kernel (log and stderr) and the comm stays open.
func (c *Comm) OnMsg(f func(data map[string]any) error) {
	c.mu.Lock()
	c.onMsg = f
	c.mu.Unlock()
}

// OnClose sets the function called when the front end closes the comm.
func (c *Comm) OnClose(f func(data map[string]any)) {
	c.mu.Lock()
	c.onClose = f
	c.mu.Unlock()
}

// Close closes the comm from the kernel side (comm_close); later Sends do nothing.
func (c *Comm) Close() {
	if !c.forget() {
		return
	}
	if cp := commPublisher(); cp != nil {
		cp.CommClose(c.id, map[string]any{})
	}
}

// Closed reports whether the comm was closed by either side.
func (c *Comm) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// forget marks c closed and removes it from the open comms; false if it already was.
func (c *Comm) forget() bool {
	c.mu.Lock()
	was := c.closed
	c.closed = true
	c.mu.Unlock()
	commMu.Lock()
	delete(comms, c.id)
	commMu.Unlock()
	return !was
}

// RegisterCommTarget registers (nil: removes) the handler of comms the front end
// opens on target.
func RegisterCommTarget(target string, open CommTarget) {
	commMu.Lock()
	defer commMu.Unlock()
	if open == nil {
		delete(targets, target)
		return
	}
	targets[target] = open
}

// OpenComms lists the open comms, comm id to target name, those of target only when
// target is not empty (what comm_info_request answers).
func OpenComms(target string) map[string]string {
	commMu.Lock()
	defer commMu.Unlock()
	out := map[string]string{}
	for id, c := range comms {
		if target == "" || c.target == target {
			out[id] = c.target
		}
	}
	return out
}

// CommIDs lists the ids of the open comms on target, sorted.
func CommIDs(target string) []string {
	var ids []string
	for id := range OpenComms(target) {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ErrUnknownComm is wrapped by the errors of DeliverComm and CloseCommFromFrontend for
// a comm id that is not open.
var ErrUnknownComm = fmt.Errorf("unknown comm")

// OpenCommFromFrontend handles a comm_open from the front end: the target's handler
// is given the new comm. An unknown target or a failing handler is an error, and the
// caller (the kernel) closes the comm.
func OpenCommFromFrontend(id, target string, data map[string]any) error {
	commMu.Lock()
	open := targets[target]
	_, dup := comms[id]
	commMu.Unlock()
	if open == nil {
		return fmt.Errorf("no comm target %q", target)
	}
	if dup {
		return fmt.Errorf("comm %s is already open", id)
	}
	c := &Comm{id: id, target: target}
	commMu.Lock()
	comms[id] = c
	commMu.Unlock()
	if err := open(c, data); err != nil {
		c.forget()
		return fmt.Errorf("comm target %q: %w", target, err)
	}
	return nil
}

// DeliverComm hands a comm_msg from the front end to its comm's handler and returns
// the handler's error; a comm that is not open is an ErrUnknownComm error.
func DeliverComm(id string, data map[string]any) error {
	commMu.Lock()
	c := comms[id]
	commMu.Unlock()
	if c == nil {
		return fmt.Errorf("%w %q (not open, or closed)", ErrUnknownComm, id)
	}
	c.mu.Lock()
	f := c.onMsg
	c.mu.Unlock()
	if f == nil {
		return fmt.Errorf("comm %s (%s) takes no messages", id, c.target)
	}
	return f(data)
}

// CloseCommFromFrontend handles a comm_close from the front end.
func CloseCommFromFrontend(id string, data map[string]any) error {
	commMu.Lock()
	c := comms[id]
	commMu.Unlock()
	if c == nil {
		return fmt.Errorf("%w %q (not open, or closed)", ErrUnknownComm, id)
	}
	c.forget()
	c.mu.Lock()
	f := c.onClose
	c.mu.Unlock()
	if f != nil {
		f(data)
	}
	return nil
}

// OutputParentID is the msg_id of the request that output published now belongs to
// ("" outside a kernel). The Output widget sets its msg_id to it so that the front
// end puts that output in the widget.
func OutputParentID() string {
	if cp := commPublisher(); cp != nil {
		return cp.OutputParentID()
	}
	return ""
}
