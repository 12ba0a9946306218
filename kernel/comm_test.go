package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/golem-lm/golem/display"
)

// TestCommMessages drives the comm handlers over real sockets with a comm target of
// the test's: comm_open accepted, comm_msg delivered with the comm_msg as the parent
// of the handler's output, comm_info listing it, comm_close; an unknown target closed
// again, an interrupt cancelling a handler's display.Context(), and an unknown comm,
// a malformed message and a panicking handler each reported on stderr with the
// kernel going on.
func TestCommMessages(t *testing.T) {
	var opened *display.Comm
	waiting := make(chan struct{})
	display.RegisterCommTarget("golem.test", func(c *display.Comm, data map[string]any) error {
		if data["refuse"] == true {
			return errors.New("refused")
		}
		opened = c
		c.OnMsg(func(data map[string]any) error {
			switch data["do"] {
			case "wait": // a long call in a callback: the interrupt cancels display.Context()
				close(waiting)
				<-display.Context().Done()
				c.Send(map[string]any{"stopped": display.Context().Err().Error()}, nil)
				return nil
			case "panic":
				panic("handler panic")
			case "fail":
				return errors.New("handler failed")
			}
			c.Send(map[string]any{"echo": data["do"]}, nil)
			display.Text(fmt.Sprint("parent ", display.OutputParentID()))
			return nil
		})
		return nil
	})
	defer display.RegisterCommTarget("golem.test", nil)
	c, _ := startKernel(t)
	c.request("kernel_info_request", map[string]any{})

	stderr := func(outs []*Message) string {
		var b strings.Builder
		for _, m := range outs {
			if m.Header.MsgType == "stream" && content(m)["name"] == "stderr" {
				b.WriteString(fmt.Sprint(content(m)["text"]))
			}
		}
		return b.String()
	}
	openID := c.send(c.shell, "comm_open", map[string]any{"comm_id": "c1", "target_name": "golem.test", "data": map[string]any{}})
	if outs := c.outputs(openID); strings.Contains(strings.Join(types(outs), ","), "comm_close") || opened == nil || opened.ID() != "c1" {
		t.Fatalf("comm_open on a registered target: %v, opened %v", types(outs), opened)
	}
	msgID := c.send(c.shell, "comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"do": "hello"}})
	outs := c.outputs(msgID)
	var echoed, shown bool
	for _, m := range outs {
		switch m.Header.MsgType {
		case "comm_msg":
			echoed = content(m)["comm_id"] == "c1" && content(m)["data"].(map[string]any)["echo"] == "hello"
		case "display_data":
			shown = content(m)["data"].(map[string]any)["text/plain"] == "parent "+msgID
		}
	}
	if !echoed || !shown {
		t.Fatalf("comm_msg: outputs %v (echoed %v, output under the comm_msg %v)", types(outs), echoed, shown)
	}
	r, _ := c.request("comm_info_request", map[string]any{"target_name": "golem.test"})
	if comms := content(r)["comms"].(map[string]any); len(comms) != 1 || comms["c1"].(map[string]any)["target_name"] != "golem.test" {
		t.Fatalf("comm_info: %v", content(r))
	}
	for _, bad := range []struct {
		msgType string
		body    any
		want    string
	}{
		{"comm_msg", map[string]any{"comm_id": "nope", "data": map[string]any{}}, `unknown comm "nope"`},
		{"comm_msg", map[string]any{"comm_id": "c1", "data": "not an object"}, "bad comm_msg content"},
		{"comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"do": "fail"}}, "handler failed"},
		{"comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"do": "panic"}}, "panic in comm handler: handler panic"},
	} {
		id := c.send(c.shell, bad.msgType, bad.body)
		if got := stderr(c.outputs(id)); !strings.Contains(got, bad.want) {
			t.Errorf("%v: stderr %q, want %q", bad.body, got, bad.want)
		}
	}
	waitID := c.send(c.shell, "comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"do": "wait"}})
	<-waiting
	c.send(c.control, "interrupt_request", map[string]any{})
	var stopped bool
	for _, m := range c.outputs(waitID) {
		if m.Header.MsgType == "comm_msg" && content(m)["data"].(map[string]any)["stopped"] == "context canceled" {
			stopped = true
		}
	}
	if !stopped {
		t.Error("interrupt_request did not cancel display.Context() of a running comm handler")
	}
	refuseID := c.send(c.shell, "comm_open", map[string]any{"comm_id": "c2", "target_name": "golem.test", "data": map[string]any{"refuse": true}})
	if got := types(c.outputs(refuseID)); !strings.Contains(strings.Join(got, ","), "comm_close") {
		t.Errorf("refused comm_open not closed: %v", got)
	}
	closeID := c.send(c.shell, "comm_close", map[string]any{"comm_id": "c1", "data": map[string]any{}})
	c.outputs(closeID)
	if !opened.Closed() {
		t.Error("comm_close did not close the comm")
	}
	r, _ = c.request("comm_info_request", map[string]any{})
	if comms := content(r)["comms"].(map[string]any); len(comms) != 0 {
		t.Errorf("comms after close: %v", comms)
	}
	r, _ = c.request("execute_request", map[string]any{"code": "print alive"})
	if content(r)["status"] != "ok" {
		t.Fatalf("kernel after bad comm messages: %v", content(r))
	}
}
