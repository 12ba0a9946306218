package kernel

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/golem-lm/golem/display"
)

// Comms (the messages of ipywidgets and of any other comm): the comms themselves and
// their targets live in package display (display.OpenComm, display.RegisterCommTarget;
// the widgets of display/widgets are comms on "jupyter.widget"); this file carries
// their messages. comm_open, comm_msg and comm_close from the front end arrive on the
// shell channel and are served on the shell goroutine like execute_request, so a
// handler — a widget's Go callback, interpreted code of an earlier cell — runs between
// cells, never beside one. While it runs it is treated as a short cell: its output
// (streams, display) has the comm_msg as parent, an interrupt cancels
// display.Context(), and a panic is caught and reported.

func commInfo(k *kernel, ch channel, m *Message) error {
	var req struct {
		TargetName string `json:"target_name"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	out := map[string]any{}
	for id, target := range display.OpenComms(req.TargetName) {
		out[id] = map[string]any{"target_name": target}
	}
	return k.reply(ch, m, "comm_info_reply", map[string]any{"status": "ok", "comms": out})
}

type commContent struct {
	CommID     string         `json:"comm_id"`
	TargetName string         `json:"target_name"`
	Data       map[string]any `json:"data"`
}

// commOpen opens a comm the front end asked for on a registered target; any other
// is closed again at once (comm_close), as ipykernel does.
func commOpen(k *kernel, ch channel, m *Message) error {
	var req commContent
	if err := decode(m, &req); err != nil {
		return err
	}
	if req.CommID == "" {
		return fmt.Errorf("comm_open without a comm_id")
	}
	err := k.runComm(m, func() error { return display.OpenCommFromFrontend(req.CommID, req.TargetName, req.Data) })
	if err != nil {
		k.log.Printf("comm_open %s: %v: closing it", req.CommID, err)
		k.publish(m, "comm_close", map[string]any{"comm_id": req.CommID, "data": map[string]any{}})
	}
	return nil
}

// commMsg delivers a comm_msg to its comm's handler. A message for a comm that is
// not open, or one its handler refuses, is logged and told on stderr; the kernel
// goes on.
func commMsg(k *kernel, ch channel, m *Message) error {
	var req commContent
	if err := decode(m, &req); err != nil {
		k.commError(m, err)
		return nil
	}
	if err := k.runComm(m, func() error { return display.DeliverComm(req.CommID, req.Data) }); err != nil {
		k.commError(m, fmt.Errorf("comm %s: %w", req.CommID, err))
	}
	return nil
}

func commClose(k *kernel, ch channel, m *Message) error {
	var req commContent
	if err := decode(m, &req); err != nil {
		k.commError(m, err)
		return nil
	}
	if err := k.runComm(m, func() error { return display.CloseCommFromFrontend(req.CommID, req.Data) }); err != nil {
		k.log.Printf("comm_close: %v", err) // closing what is gone is harmless
	}
	return nil
}

// commError reports a comm message that failed: on the kernel's log and as stderr
// output under that message (JupyterLab shows it in the log console, or in an
// Output widget capturing it).
func (k *kernel) commError(m *Message, err error) {
	k.log.Printf("%s: %v", m.Header.MsgType, err)
	k.publish(m, "stream", map[string]any{"name": "stderr", "text": fmt.Sprintf("golem: %s: %v\n", m.Header.MsgType, err)})
}

// runComm runs a comm handler as a short cell whose request is m: output goes out
// with m as parent, an interrupt cancels display.Context(), a panic is an error.
func (k *kernel) runComm(m *Message, f func() error) (err error) {
	ctx, cancel := context.WithCancel(k.ctx)
	defer cancel()
	k.mu.Lock()
	if k.running != nil { // cannot happen on the shell goroutine; never run beside a cell
		k.mu.Unlock()
		return fmt.Errorf("a cell is running")
	}
	k.running = &execution{req: m, ctx: ctx, cancel: cancel}
	k.mu.Unlock()
	restore := display.SetContext(ctx)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in comm handler: %v", r)
			k.log.Printf("%v\n%s", err, debug.Stack())
		}
		restore()
		k.streams.sync() // what the handler printed belongs to m
		k.mu.Lock()
		k.running = nil
		k.mu.Unlock()
	}()
	return f()
}

// publishMeta is publish with message metadata (a widget's comm_open carries
// {"version": "2.1.0"}).
func (k *kernel) publishMeta(m *Message, msgType string, content, metadata any) {
	k.waitSubscriber()
	topic := []byte("kernel." + k.session + "." + msgType)
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	if err := k.sendTo(k.iopub, [][]byte{topic}, m, msgType, content, metadata); err != nil {
		k.log.Printf("iopub: %v", err)
	}
}

// The kernel's display publisher carries comms (display.CommPublisher). Pending
// output is flushed first, so that comm messages and streams keep their order (an
// Output widget's msg_id is reset only after what it captured went out).

func (p publisher) CommOpen(id, target string, data, metadata map[string]any) {
	p.k.streams.sync()
	p.k.publishMeta(p.k.outputParent(), "comm_open", map[string]any{"comm_id": id, "target_name": target, "data": orEmpty(data)}, orEmpty(metadata))
}

func (p publisher) CommMsg(id string, data, metadata map[string]any) {
	p.k.streams.sync()
	p.k.publishMeta(p.k.outputParent(), "comm_msg", map[string]any{"comm_id": id, "data": orEmpty(data)}, orEmpty(metadata))
}

func (p publisher) CommClose(id string, data map[string]any) {
	p.k.streams.sync()
	p.k.publish(p.k.outputParent(), "comm_close", map[string]any{"comm_id": id, "data": orEmpty(data)})
}

func (p publisher) OutputParentID() string {
	if m := p.k.outputParent(); m != nil {
		return m.Header.MsgID
	}
	return ""
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
