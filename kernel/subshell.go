package kernel

// Kernel subshells (JEP 91). A client creates a subshell with a
// create_subshell_request on the control channel and then sends shell requests
// with "subshell_id" in their header; each subshell has its own queue and its
// own goroutine, so its requests are answered while the main shell is busy with
// a long cell. Replies carry the request's header as their parent header, and
// with it the subshell_id.
//
// Cells of a subshell run in the same interpreter as the main shell's, through
// ConcurrentInterpreter when the interpreter has it (package cell: beside the
// main shell's cell while that cell is inside a long library call such as
// train.Train; see cell/concurrent.go for what is safe), and otherwise one after
// the other with the main shell's.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/golem-lm/golem/display"
)

// ConcurrentInterpreter is an Interpreter that can run a subshell's cell beside
// the main shell's.
type ConcurrentInterpreter interface {
	ExecuteConcurrent(ctx context.Context, code string) (display.Bundle, error)
}

// subshellQueue is how many requests a subshell holds before the shell's read
// loop waits for it.
const subshellQueue = 256

// subshells are the kernel's subshells, by id.
type subshells struct {
	mu    sync.Mutex
	byID  map[string]*subshell
	order []string      // ids in creation order (list_subshell_reply)
	out   []*subshellEx // subshell cells running, the last one's request gets the output
}

type subshell struct {
	id     string
	mu     sync.Mutex // guards sends on q against its close
	q      chan *Message
	closed bool
}

// send queues m and reports false when the subshell was deleted meanwhile.
func (sub *subshell) send(m *Message) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return false
	}
	sub.q <- m // a full queue makes the read loop wait rather than drop m
	return true
}

func (sub *subshell) close() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.closed {
		sub.closed = true
		close(sub.q)
	}
}

type subshellEx struct{ ex *execution }

func supportedFeatures() []string { return []string{"kernel subshells"} }

// requestSubshell is the subshell_id of a request's header: "" for the main
// shell (absent or null).
func requestSubshell(m *Message) (string, error) {
	var h struct {
		SubshellID *string `json:"subshell_id"`
	}
	if err := json.Unmarshal(m.rawHeader, &h); err != nil {
		return "", fmt.Errorf("header of %s: %w", m.Header.MsgType, err)
	}
	if h.SubshellID == nil {
		return "", nil
	}
	return *h.SubshellID, nil
}

// routeSubshell hands a shell request for a subshell to its queue and reports
// whether it did; a request for a subshell that does not exist is answered with
// an error here.
//
// Comm messages stay on the main shell even with a subshell_id: JupyterLab 4.6
// sends them over a subshell per comm target by default when a kernel
// advertises subshells, and a widget's callback is interpreted Go, which must
// not run beside a cell's interpreted code (cell/concurrent.go); they are served
// between cells, as by a kernel without subshells.
func (k *kernel) routeSubshell(m *Message) bool {
	if strings.HasPrefix(m.Header.MsgType, "comm_") {
		return false
	}
	id, err := requestSubshell(m)
	if err == nil && id == "" && m.Header.MsgType == "kernel_info_request" && k.mainBusy() {
		// A new connection (JupyterLab's subshell console) asks for kernel_info
		// before it creates its subshell; behind a training cell it would wait
		// for the cell's end. kernel_info touches no interpreter state: answer it.
		k.serve(channel{"shell", k.shell}, m)
		return true
	}
	if err == nil && id == "" {
		return false
	}
	var sub *subshell
	if err == nil {
		k.subshells.mu.Lock()
		sub = k.subshells.byID[id]
		k.subshells.mu.Unlock()
		if sub == nil || !sub.send(m) {
			err = fmt.Errorf("no subshell with subshell_id %q (create_subshell_request creates one; list_subshell_request lists them)", id)
		}
	}
	if err != nil {
		k.log.Printf("shell: %s: %v", m.Header.MsgType, err)
		k.publish(m, "status", map[string]any{"execution_state": "busy"})
		if rerr := replyError(k, channel{"shell", k.shell}, m, "SubshellNotFound", err.Error()); rerr != nil {
			k.log.Printf("shell: %v", rerr)
		}
		k.publish(m, "status", map[string]any{"execution_state": "idle"})
	}
	return true
}

// serveSubshell serves one subshell's requests in order until it is deleted.
func (k *kernel) serveSubshell(sub *subshell) {
	ch := channel{subshellPrefix + sub.id, k.shell}
	for m := range sub.q {
		k.serve(ch, m)
	}
}

// subshellPrefix starts the channel name of a subshell's requests.
const subshellPrefix = "subshell "

// subshell reports whether ch is a subshell's (its requests arrive on shell).
func (ch channel) subshell() bool { return strings.HasPrefix(ch.name, subshellPrefix) }

// runOn runs a cell on the main shell or, for a subshell, beside it.
func (k *kernel) runOn(ch channel, ctx context.Context, code string) (display.Bundle, error) {
	if !ch.subshell() {
		return k.run(ctx, code)
	}
	interp, err := k.interpreter()
	if err != nil {
		return nil, &CellError{Name: "KernelError", Value: fmt.Sprintf("the Go interpreter did not start: %v", err)}
	}
	ci, ok := interp.(ConcurrentInterpreter)
	if !ok {
		return k.run(ctx, code)
	}
	return k.runConcurrent(ctx, ci, code)
}

func (k *kernel) runConcurrent(ctx context.Context, ci ConcurrentInterpreter, code string) (b display.Bundle, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CellError{Name: "panic", Value: fmt.Sprint(r), Traceback: []string{fmt.Sprintf("panic: %v", r)}}
		}
	}()
	return ci.ExecuteConcurrent(ctx, code)
}

// begin marks a subshell's execution as running: the output produced while it
// runs goes to it (the process has one stdout; the cell started last gets it)
// and an interrupt cancels it.
func (ss *subshells) begin(ex *execution) (end func()) {
	e := &subshellEx{ex}
	ss.mu.Lock()
	ss.out = append(ss.out, e)
	ss.mu.Unlock()
	return func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		for i, o := range ss.out {
			if o == e {
				ss.out = append(ss.out[:i], ss.out[i+1:]...)
				return
			}
		}
	}
}

func (ss *subshells) outputParent() *Message {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if n := len(ss.out); n > 0 {
		return ss.out[n-1].ex.req
	}
	return nil
}

func (ss *subshells) interrupt() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, o := range ss.out {
		o.ex.cancel()
	}
}

func createSubshell(k *kernel, ch channel, m *Message) error {
	if ch.name != "control" {
		return replyError(k, ch, m, "BadRequest", "create_subshell_request must be sent on the control channel")
	}
	sub := &subshell{id: newID(), q: make(chan *Message, subshellQueue)}
	ss := &k.subshells
	ss.mu.Lock()
	if ss.byID == nil {
		ss.byID = map[string]*subshell{}
	}
	ss.byID[sub.id] = sub
	ss.order = append(ss.order, sub.id)
	ss.mu.Unlock()
	go k.serveSubshell(sub)
	k.log.Printf("subshell %s created", sub.id)
	return k.reply(ch, m, "create_subshell_reply", map[string]any{"status": "ok", "subshell_id": sub.id})
}

func listSubshells(k *kernel, ch channel, m *Message) error {
	if ch.name != "control" {
		return replyError(k, ch, m, "BadRequest", "list_subshell_request must be sent on the control channel")
	}
	ss := &k.subshells
	ss.mu.Lock()
	ids := append([]string{}, ss.order...)
	ss.mu.Unlock()
	return k.reply(ch, m, "list_subshell_reply", map[string]any{"status": "ok", "subshell_id": ids})
}

func deleteSubshell(k *kernel, ch channel, m *Message) error {
	if ch.name != "control" {
		return replyError(k, ch, m, "BadRequest", "delete_subshell_request must be sent on the control channel")
	}
	var req struct {
		SubshellID *string `json:"subshell_id"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	if req.SubshellID == nil {
		return replyError(k, ch, m, "BadRequest", "delete_subshell_request needs content.subshell_id")
	}
	id := *req.SubshellID
	ss := &k.subshells
	ss.mu.Lock()
	sub := ss.byID[id]
	if sub != nil {
		delete(ss.byID, id)
		for i, o := range ss.order {
			if o == id {
				ss.order = append(ss.order[:i], ss.order[i+1:]...)
				break
			}
		}
	}
	ss.mu.Unlock()
	if sub == nil {
		return replyError(k, ch, m, "SubshellNotFound", fmt.Sprintf("no subshell with subshell_id %q", id))
	}
	// Requests already queued are still answered; a cell running goes on to its
	// end (interrupt it first to stop it).
	sub.close()
	return k.reply(ch, m, "delete_subshell_reply", map[string]any{"status": "ok"})
}

// mainBusy reports whether the main shell is running a cell.
func (k *kernel) mainBusy() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running != nil
}
