package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/golem-lm/golem/display"
)

// scriptInterpreter is a stand-in for the Go session in protocol tests: it runs a
// few commands, so the tests exercise the wire protocol and dispatch only.
type scriptInterpreter struct{ io IO }

func (s *scriptInterpreter) Execute(ctx context.Context, code string) (display.Bundle, error) {
	switch {
	case code == "boom":
		time.Sleep(100 * time.Millisecond) // the requests sent after it are queued by now
		return nil, &CellError{Name: "panic", Value: "boom", Traceback: []string{"panic: boom", "cell:1"}}
	case code == "block":
		<-ctx.Done()
		return nil, &CellError{Name: "Interrupted", Value: "interrupted"}
	case code == "input":
		v, err := s.io.Stdin("name? ", false)
		if err != nil {
			return nil, &CellError{Name: "InputError", Value: err.Error()}
		}
		return display.Bundle{"text/plain": "got " + v}, nil
	case strings.HasPrefix(code, "print "):
		fmt.Fprint(s.io.Stdout, strings.TrimPrefix(code, "print "))
		return nil, nil
	case code == "html":
		display.HTML("<b>hi</b>")
		return nil, nil
	}
	return display.Bundle{"text/plain": code}, nil
}
func (s *scriptInterpreter) Complete(code string, cursor int) ([]string, int, int) {
	return []string{"Println", "Printf"}, cursor - 3, cursor
}
func (s *scriptInterpreter) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	return display.Bundle{"text/plain": "func Println(a ...any)"}, code == "fmt.Println"
}
func (s *scriptInterpreter) IsComplete(code string) (string, string) {
	if strings.HasSuffix(code, "{") {
		return "incomplete", "\t"
	}
	return "complete", ""
}
func (s *scriptInterpreter) Close() {}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

type client struct {
	t                     *testing.T
	ctx                   context.Context
	signer                *Signer
	shell, control, stdin zmq4.Socket
	iopub                 zmq4.Socket
	iopubMsgs             chan *Message
	inbox                 map[zmq4.Socket]chan *Message
}

func startKernel(t *testing.T) (*client, chan error) {
	t.Helper()
	return startKernelWith(t, nil)
}

// startKernelWith starts a kernel whose configuration set changes, and a client.
func startKernelWith(t *testing.T, set func(*Config)) (*client, chan error) {
	t.Helper()
	p := freePorts(t, 5)
	ci := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2], ControlPort: p[3], HBPort: p[4], Key: "secret", SignatureScheme: "hmac-sha256"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	cfg := Config{Connection: ci, HistoryPath: "-", Version: "test", Log: testLog,
		NewInterpreter: func(io IO) (Interpreter, error) { return &scriptInterpreter{io}, nil }}
	if set != nil {
		set(&cfg)
	}
	go func() {
		done <- Run(ctx, cfg)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Error("kernel did not stop")
		}
	})
	return dialKernel(t, ci), done
}

// dialKernel connects a client to the kernel at ci.
func dialKernel(t *testing.T, ci ConnectionInfo) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &client{t: t, ctx: ctx, signer: NewSigner([]byte(ci.Key))}
	id := zmq4.SocketIdentity("test-client")
	// A client reconnects to a kernel that the supervisor restarted, as ZeroMQ
	// clients do.
	opts := []zmq4.Option{zmq4.WithDialerRetry(20 * time.Millisecond), zmq4.WithAutomaticReconnect(true), zmq4.WithDialerMaxRetries(-1)}
	c.shell = zmq4.NewDealer(ctx, append(opts, zmq4.WithID(id))...)
	c.control = zmq4.NewDealer(ctx, append(opts, zmq4.WithID(id))...)
	c.stdin = zmq4.NewDealer(ctx, append(opts, zmq4.WithID(id))...)
	c.iopub = zmq4.NewSub(ctx, opts...)
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.stdin, ci.StdinPort}, {c.iopub, ci.IOPubPort}} {
		if err := d.s.Dial(ci.endpoint(d.port)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	c.iopubMsgs = c.pump(c.iopub)
	c.inbox = map[zmq4.Socket]chan *Message{c.shell: c.pump(c.shell), c.control: c.pump(c.control), c.stdin: c.pump(c.stdin)}
	return c
}

func (c *client) send(sock zmq4.Socket, msgType string, content any) string {
	c.t.Helper()
	b, _ := json.Marshal(content)
	m := &Message{Header: NewHeader(msgType, "client-session"), Content: b}
	frames, err := c.signer.Encode(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	return m.Header.MsgID
}

func (c *client) recv(sock zmq4.Socket, timeout time.Duration) *Message {
	c.t.Helper()
	select {
	case m := <-c.inbox[sock]:
		return m
	case <-time.After(timeout):
		return nil
	}
}

// pump decodes every message of sock into a channel, so a timed-out recv never
// leaves a reader behind that would steal the next message.
func (c *client) pump(sock zmq4.Socket) chan *Message {
	ch := make(chan *Message, 256)
	go func() {
		for {
			zm, err := sock.Recv()
			if err != nil {
				select { // a kernel that died: the socket reconnects to the next one
				case <-c.ctx.Done():
					return
				case <-time.After(10 * time.Millisecond):
					continue
				}
			}
			m, err := c.signer.Decode(zm.Frames)
			if err != nil {
				c.t.Errorf("decode: %v", err)
				return
			}
			ch <- m
		}
	}()
	return ch
}

func parentID(m *Message) string {
	var h Header
	json.Unmarshal(m.Parent, &h)
	return h.MsgID
}

// outputs collects the IOPub messages of request id up to its idle status.
func (c *client) outputs(id string) []*Message {
	c.t.Helper()
	var out []*Message
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.iopubMsgs:
			if parentID(m) != id {
				continue
			}
			out = append(out, m)
			if m.Header.MsgType == "status" && strings.Contains(string(m.Content), `"idle"`) {
				return out
			}
		case <-deadline:
			c.t.Fatalf("no idle status for %s; got %d messages", id, len(out))
		}
	}
}

func types(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Header.MsgType)
	}
	return out
}

func content(m *Message) map[string]any {
	var c map[string]any
	json.Unmarshal(m.Content, &c)
	return c
}

func (c *client) request(msgType string, body any) (*Message, []*Message) {
	c.t.Helper()
	id := c.send(c.shell, msgType, body)
	r := c.recv(c.shell, 5*time.Second)
	if r == nil {
		c.t.Fatalf("no reply to %s", msgType)
	}
	if parentID(r) != id {
		c.t.Fatalf("reply parent %s, want %s", parentID(r), id)
	}
	return r, c.outputs(id)
}

func TestKernelProtocol(t *testing.T) {
	c, done := startKernel(t)

	r, outs := c.request("kernel_info_request", map[string]any{})
	if r.Header.MsgType != "kernel_info_reply" || content(r)["protocol_version"] != ProtocolVersion {
		t.Fatalf("kernel_info: %s %s", r.Header.MsgType, r.Content)
	}
	if got := strings.Join(types(outs), ","); got != "status,status" {
		t.Fatalf("kernel_info iopub: %s", got)
	}

	t.Run("execute", func(t *testing.T) {
		r, outs := c.request("execute_request", map[string]any{"code": "1 + 1", "silent": false})
		rc := content(r)
		if rc["status"] != "ok" || rc["execution_count"] != 1.0 {
			t.Fatalf("reply %v", rc)
		}
		if got := strings.Join(types(outs), ","); got != "status,execute_input,execute_result,status" {
			t.Fatalf("iopub %s", got)
		}
		if d := content(outs[2])["data"].(map[string]any); d["text/plain"] != "1 + 1" {
			t.Fatalf("result %v", d)
		}
	})
	t.Run("stream and display", func(t *testing.T) {
		_, outs := c.request("execute_request", map[string]any{"code": "print hello"})
		if got := strings.Join(types(outs), ","); got != "status,execute_input,stream,status" {
			t.Fatalf("iopub %s", got)
		}
		if sc := content(outs[2]); sc["name"] != "stdout" || sc["text"] != "hello" {
			t.Fatalf("stream %v", sc)
		}
		_, outs = c.request("execute_request", map[string]any{"code": "html"})
		if got := strings.Join(types(outs), ","); got != "status,execute_input,display_data,status" {
			t.Fatalf("iopub %s", got)
		}
	})
	t.Run("error aborts queued executes", func(t *testing.T) {
		ids := []string{
			c.send(c.shell, "execute_request", map[string]any{"code": "boom", "stop_on_error": true}),
			c.send(c.shell, "execute_request", map[string]any{"code": "2"}),
			c.send(c.shell, "execute_request", map[string]any{"code": "3"}),
		}
		want := []string{"error", "aborted", "aborted"}
		for i := range ids {
			r := c.recv(c.shell, 5*time.Second)
			if r == nil || parentID(r) != ids[i] || content(r)["status"] != want[i] {
				t.Fatalf("reply %d: %v", i, r)
			}
		}
		outs := c.outputs(ids[0])
		if got := strings.Join(types(outs), ","); got != "status,execute_input,error,status" {
			t.Fatalf("iopub %s", got)
		}
		if ec := content(outs[2]); ec["ename"] != "panic" || ec["evalue"] != "boom" {
			t.Fatalf("error %v", ec)
		}
		r, _ := c.request("execute_request", map[string]any{"code": "4"})
		if content(r)["status"] != "ok" {
			t.Fatalf("after abort: %v", content(r))
		}
	})
	t.Run("bad signature is dropped", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"code": "print pwned"})
		m := &Message{Header: NewHeader("execute_request", "attacker"), Content: b}
		frames, _ := NewSigner([]byte("wrong key")).Encode(m)
		c.shell.Send(zmq4.NewMsgFrom(frames...))
		if r := c.recv(c.shell, 300*time.Millisecond); r != nil {
			t.Fatalf("kernel answered a forged message: %s", r.Content)
		}
		r, _ := c.request("kernel_info_request", map[string]any{})
		if r.Header.MsgType != "kernel_info_reply" {
			t.Fatal("kernel did not survive")
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		id := c.send(c.shell, "execute_request", map[string]any{"code": "block"})
		time.Sleep(50 * time.Millisecond)
		c.send(c.control, "interrupt_request", map[string]any{})
		if r := c.recv(c.control, 5*time.Second); r == nil || r.Header.MsgType != "interrupt_reply" {
			t.Fatalf("interrupt reply %v", r)
		}
		r := c.recv(c.shell, 5*time.Second)
		if r == nil || parentID(r) != id || content(r)["ename"] != "Interrupted" {
			t.Fatalf("interrupted reply %v", r)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		id := c.send(c.shell, "execute_request", map[string]any{"code": "input", "allow_stdin": true})
		req := c.recv(c.stdin, 5*time.Second)
		if req == nil || req.Header.MsgType != "input_request" || content(req)["prompt"] != "name? " {
			t.Fatalf("input_request %v", req)
		}
		b, _ := json.Marshal(map[string]any{"value": "gopher"})
		rep := &Message{Header: NewHeader("input_reply", "client-session"), Parent: req.rawHeader, Content: b}
		frames, _ := c.signer.Encode(rep)
		c.stdin.Send(zmq4.NewMsgFrom(frames...))
		if r := c.recv(c.shell, 5*time.Second); r == nil || parentID(r) != id {
			t.Fatal("no execute_reply")
		}
		outs := c.outputs(id)
		if d := content(outs[2])["data"].(map[string]any); d["text/plain"] != "got gopher" {
			t.Fatalf("result %v", d)
		}
		r, _ := c.request("execute_request", map[string]any{"code": "input", "allow_stdin": false})
		if content(r)["evalue"] != "EOF" {
			t.Fatalf("stdin not allowed: %v", content(r))
		}
	})
	t.Run("interrupt cancels an input wait", func(t *testing.T) {
		id := c.send(c.shell, "execute_request", map[string]any{"code": "input", "allow_stdin": true})
		if req := c.recv(c.stdin, 5*time.Second); req == nil || req.Header.MsgType != "input_request" {
			t.Fatalf("input_request %v", req)
		}
		c.send(c.control, "interrupt_request", map[string]any{})
		c.recv(c.control, 5*time.Second)
		r := c.recv(c.shell, 5*time.Second)
		if r == nil || parentID(r) != id || content(r)["status"] != "error" || !strings.Contains(content(r)["evalue"].(string), "interrupted") {
			t.Fatalf("reply %v", r)
		}
	})
	t.Run("small requests", func(t *testing.T) {
		r, _ := c.request("complete_request", map[string]any{"code": "fmt.Pri", "cursor_pos": 7})
		if rc := content(r); rc["cursor_start"] != 4.0 || len(rc["matches"].([]any)) != 2 {
			t.Fatalf("complete %v", rc)
		}
		r, _ = c.request("inspect_request", map[string]any{"code": "fmt.Println", "cursor_pos": 5, "detail_level": 0})
		if rc := content(r); rc["found"] != true {
			t.Fatalf("inspect %v", rc)
		}
		r, outs := c.request("execute_request", map[string]any{"code": "fmt.Println?"})
		pl := content(r)["payload"].([]any)
		if len(pl) != 1 || pl[0].(map[string]any)["source"] != "page" || len(types(outs)) != 3 {
			t.Fatalf("pager: %v %v", content(r), types(outs))
		}
		r, _ = c.request("execute_request", map[string]any{"code": "nope?"})
		if content(r)["ename"] != "NameError" {
			t.Fatalf("pager for unknown name: %v", content(r))
		}
		r, _ = c.request("is_complete_request", map[string]any{"code": "for {"})
		if rc := content(r); rc["status"] != "incomplete" || rc["indent"] != "\t" {
			t.Fatalf("is_complete %v", rc)
		}
		r, _ = c.request("history_request", map[string]any{"hist_access_type": "tail", "n": 2, "output": false, "raw": true})
		if rc := content(r); len(rc["history"].([]any)) != 2 {
			t.Fatalf("history %v", rc)
		}
		r, _ = c.request("comm_info_request", map[string]any{})
		if rc := content(r); rc["status"] != "ok" {
			t.Fatalf("comm_info %v", rc)
		}
		r, _ = c.request("frobnicate_request", map[string]any{})
		if r.Header.MsgType != "frobnicate_reply" || content(r)["status"] != "error" {
			t.Fatalf("unknown request: %s %s", r.Header.MsgType, r.Content)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		c.send(c.control, "shutdown_request", map[string]any{"restart": true})
		r := c.recv(c.control, 5*time.Second)
		if r == nil || content(r)["restart"] != true {
			t.Fatalf("shutdown reply %v", r)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("kernel still running after shutdown_request")
		}
	})
}

// testLog receives the kernel log of tests (os.Stderr to debug).
var testLog io.Writer = io.Discard
