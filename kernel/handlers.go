package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/golem-lm/golem/display"
)

// dispatchTable maps each request type to its handler: a new message type is one
// entry here and one function below.
func dispatchTable() map[string]handler {
	return map[string]handler{
		"kernel_info_request": kernelInfo,
		"execute_request":     execute,
		"is_complete_request": isComplete,
		"complete_request":    complete,
		"inspect_request":     inspect,
		"history_request":     historyRequest,
		"comm_info_request":   commInfo,
		"comm_open":           commOpen,
		"comm_msg":            commMsg,
		"comm_close":          commClose,
		"interrupt_request":   interruptRequest,
		"shutdown_request":    shutdown,
		"usage_request":       usage,

		"create_subshell_request": createSubshell, // JEP 91, control (subshell.go)
		"list_subshell_request":   listSubshells,
		"delete_subshell_request": deleteSubshell,
		"debug_request":           debugRequest, // JEP 47, control (debug.go)
	}
}

func decode(m *Message, v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("bad %s content: %w", m.Header.MsgType, err)
	}
	return nil
}

// replyType is the reply message type of request type t.
func replyType(t string) string { return strings.TrimSuffix(t, "_request") + "_reply" }

func kernelInfo(k *kernel, ch channel, m *Message) error {
	impl := k.cfg.Implementation
	if impl == "" {
		impl = "golem"
	}
	banner := k.cfg.Banner
	if banner == "" {
		banner = fmt.Sprintf("golem %s — Go %s in a live interpreter", k.cfg.Version, strings.TrimPrefix(goVersion, "go"))
	}
	return k.reply(ch, m, "kernel_info_reply", map[string]any{
		"status":                 "ok",
		"protocol_version":       ProtocolVersion,
		"implementation":         impl,
		"implementation_version": k.cfg.Version,
		"language_info": map[string]any{
			"name":               "go",
			"version":            strings.TrimPrefix(goVersion, "go"),
			"mimetype":           "text/x-go",
			"file_extension":     ".go",
			"pygments_lexer":     "go",
			"codemirror_mode":    "go",
			"nbconvert_exporter": "script",
		},
		"banner":             banner,
		"debugger":           k.debuggerAvailable(),
		"supported_features": supportedFeatures(),
		"help_links": []map[string]string{
			{"text": "Go standard library", "url": "https://pkg.go.dev/std"},
			{"text": "golem", "url": "https://github.com/golem-lm/golem"},
		},
	})
}

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      bool              `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

func execute(k *kernel, ch channel, m *Message) error {
	var req executeRequest
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	storeHistory := !req.Silent && (req.StoreHistory == nil || *req.StoreHistory)
	stopOnError := req.StopOnError == nil || *req.StopOnError

	k.mu.Lock()
	if storeHistory {
		k.execCount++
	}
	count := k.execCount
	ctx, cancel := context.WithCancel(k.ctx)
	ex := &execution{req: m, ctx: ctx, cancel: cancel, allowStdin: req.AllowStdin}
	if !ch.subshell() {
		k.running = ex
		k.lastParent = m
	}
	notice := k.notice
	k.notice = ""
	k.mu.Unlock()
	defer cancel()
	if !ch.subshell() { // a subshell's cell is not answered again after a crash
		k.state.started(ch.name, m, req.Code, count, storeHistory, req.Silent)
		defer k.state.answered(m) // after the reply: a kernel that dies before it is answered again
	} else {
		defer k.subshells.begin(ex)()
	}

	if !req.Silent {
		k.publish(m, "execute_input", map[string]any{"code": req.Code, "execution_count": count})
		if notice != "" {
			k.publish(m, "stream", map[string]any{"name": "stderr", "text": notice})
		}
	}

	var payload []any
	var result display.Bundle
	var err error
	if name, detail, ok := helpRequest(req.Code); ok {
		// "fmt.Println?" pages the documentation, as IPython's "obj?" does.
		payload, err = k.page(name, detail)
	} else {
		result, err = k.runOn(ch, ctx, req.Code)
	}
	var userExprs map[string]any
	if err == nil {
		userExprs = k.userExpressions(ch, ctx, req.UserExpressions)
	}
	k.streams.sync()
	if !ch.subshell() {
		k.mu.Lock()
		k.running = nil
		k.mu.Unlock()
	}

	output := ""
	if err != nil {
		ce := k.cellError(err)
		if !req.Silent {
			k.publish(m, "error", map[string]any{"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback})
		}
		if storeHistory {
			k.hist.add(req.Code, "")
		}
		var queued []*Message
		if stopOnError && ch.name == "shell" {
			// Only what was queued before the client could see this reply is aborted.
			queued = k.takeQueued()
		}
		rerr := k.reply(ch, m, "execute_reply", map[string]any{
			"status": "error", "execution_count": count,
			"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback,
		})
		k.abort(queued)
		return rerr
	}
	if result != nil && !req.Silent {
		data := map[string]any(result)
		if _, ok := data["text/plain"]; !ok {
			data = map[string]any(display.BundleOf(result))
		}
		k.publish(m, "execute_result", map[string]any{"execution_count": count, "data": data, "metadata": map[string]any{}})
		if s, ok := data["text/plain"].(string); ok {
			output = s
		}
	}
	if storeHistory {
		k.hist.add(req.Code, output)
	}
	if userExprs == nil {
		userExprs = map[string]any{}
	}
	if payload == nil {
		payload = []any{}
	}
	return k.reply(ch, m, "execute_reply", map[string]any{
		"status": "ok", "execution_count": count, "payload": payload, "user_expressions": userExprs,
	})
}

// helpPattern is a cell that only asks for documentation: "name?" or "pkg.Name??".
var helpPattern = regexp.MustCompile(`^\s*([\pL_][\pL\pN_]*(?:\.[\pL_][\pL\pN_]*)*)(\?\??)\s*$`)

func helpRequest(code string) (name string, detail int, ok bool) {
	m := helpPattern.FindStringSubmatch(code)
	if m == nil {
		return "", 0, false
	}
	return m[1], len(m[2]) - 1, true
}

// page answers "name?" with a pager payload holding the inspect data of name.
func (k *kernel) page(name string, detail int) ([]any, error) {
	interp, err := k.interpreter()
	if err != nil {
		return nil, &CellError{Name: "KernelError", Value: fmt.Sprintf("the Go interpreter did not start: %v", err)}
	}
	data, found := interp.Inspect(name, len([]rune(name)), detail)
	if !found || len(data) == 0 {
		return nil, &CellError{Name: "NameError", Value: fmt.Sprintf("no documentation found for %s", name)}
	}
	return []any{map[string]any{"source": "page", "data": data, "start": 0}}, nil
}

// run executes code, turning a panic of the interpreter into an error.
func (k *kernel) run(ctx context.Context, code string) (b display.Bundle, err error) {
	interp, err := k.interpreter()
	if err != nil {
		return nil, &CellError{Name: "KernelError", Value: fmt.Sprintf("the Go interpreter did not start: %v", err)}
	}
	defer func() {
		if r := recover(); r != nil {
			err = &CellError{Name: "panic", Value: fmt.Sprint(r), Traceback: []string{fmt.Sprintf("panic: %v", r)}}
		}
	}()
	return interp.Execute(ctx, code)
}

// userExpressions evaluates the user_expressions of an execute_request.
func (k *kernel) userExpressions(ch channel, ctx context.Context, exprs map[string]string) map[string]any {
	out := make(map[string]any, len(exprs))
	for name, code := range exprs {
		b, err := k.runOn(ch, ctx, code)
		if err != nil {
			ce := k.cellError(err)
			out[name] = map[string]any{"status": "error", "ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback}
			continue
		}
		if b == nil {
			b = display.Bundle{"text/plain": ""}
		}
		out[name] = map[string]any{"status": "ok", "data": b, "metadata": map[string]any{}}
	}
	return out
}

func (k *kernel) cellError(err error) *CellError {
	var ce *CellError
	if k.cfg.CellError != nil {
		ce = k.cfg.CellError(err)
	}
	if ce == nil && !errors.As(err, &ce) {
		ce = &CellError{Name: "Error", Value: err.Error()}
	}
	if errors.Is(err, context.Canceled) && ce.Name == "Error" {
		ce.Name = "Interrupted"
	}
	if ce.Traceback == nil {
		ce.Traceback = []string{ce.Name + ": " + ce.Value}
	}
	return ce
}

// takeQueued removes the shell requests already received and not yet served.
func (k *kernel) takeQueued() []*Message {
	var out []*Message
	for {
		select {
		case q, ok := <-k.shellQ:
			if !ok {
				return out
			}
			out = append(out, q)
		default:
			return out
		}
	}
}

// abort answers the execute requests that were queued behind a failed cell with
// status "aborted", as ipykernel does with stop_on_error; other requests are
// served normally.
func (k *kernel) abort(queued []*Message) {
	sh := channel{"shell", k.shell}
	for _, q := range queued {
		if q.Header.MsgType != "execute_request" {
			k.serve(sh, q)
			continue
		}
		k.publish(q, "status", map[string]any{"execution_state": "busy"})
		if err := k.reply(sh, q, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.currentCount()}); err != nil {
			k.log.Printf("shell: abort reply: %v", err)
		}
		k.state.answered(q)
		k.publish(q, "status", map[string]any{"execution_state": "idle"})
	}
}

func (k *kernel) currentCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.execCount
}

func isComplete(k *kernel, ch channel, m *Message) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	interp, err := k.interpreter()
	if err != nil {
		return k.reply(ch, m, "is_complete_reply", map[string]any{"status": "unknown"})
	}
	status, indent := interp.IsComplete(req.Code)
	content := map[string]any{"status": status}
	if status == "incomplete" {
		content["indent"] = indent
	}
	return k.reply(ch, m, "is_complete_reply", content)
}

func complete(k *kernel, ch channel, m *Message) error {
	var req struct {
		Code      string `json:"code"`
		CursorPos *int   `json:"cursor_pos"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	cursor := len([]rune(req.Code))
	if req.CursorPos != nil {
		cursor = *req.CursorPos
	}
	matches, start, end := []string{}, cursor, cursor
	if interp, err := k.interpreter(); err == nil {
		if ms, s, e := interp.Complete(req.Code, cursor); ms != nil {
			matches, start, end = ms, s, e
		}
	}
	return k.reply(ch, m, "complete_reply", map[string]any{
		"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": end, "metadata": map[string]any{},
	})
}

func inspect(k *kernel, ch channel, m *Message) error {
	var req struct {
		Code        string `json:"code"`
		CursorPos   *int   `json:"cursor_pos"`
		DetailLevel int    `json:"detail_level"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	cursor := len([]rune(req.Code))
	if req.CursorPos != nil {
		cursor = *req.CursorPos
	}
	data, found := display.Bundle{}, false
	if interp, err := k.interpreter(); err == nil {
		if b, ok := interp.Inspect(req.Code, cursor, req.DetailLevel); ok && b != nil {
			data, found = b, true
		}
	}
	return k.reply(ch, m, "inspect_reply", map[string]any{"status": "ok", "found": found, "data": data, "metadata": map[string]any{}})
}

func historyRequest(k *kernel, ch channel, m *Message) error {
	var q HistoryQuery
	if err := decode(m, &q); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	entries, err := k.hist.query(q)
	if err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	return k.reply(ch, m, "history_reply", map[string]any{"status": "ok", "history": historyRows(entries, q.Output)})
}

func interruptRequest(k *kernel, ch channel, m *Message) error {
	k.interrupt()
	return k.reply(ch, m, "interrupt_reply", map[string]any{"status": "ok"})
}

func shutdown(k *kernel, ch channel, m *Message) error {
	var req struct {
		Restart bool `json:"restart"`
	}
	if err := decode(m, &req); err != nil {
		return replyError(k, ch, m, "BadRequest", err.Error())
	}
	content := map[string]any{"status": "ok", "restart": req.Restart}
	err := k.reply(ch, m, "shutdown_reply", content)
	k.publish(m, "shutdown_reply", content)
	k.interrupt()
	go func() {
		time.Sleep(20 * time.Millisecond) // let the replies and idle status leave
		k.finish(nil)
	}()
	return err
}

func usage(k *kernel, ch channel, m *Message) error {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	host, _ := os.Hostname()
	return k.reply(ch, m, "usage_reply", map[string]any{
		"hostname":       host,
		"pid":            os.Getpid(),
		"kernel_cpu":     nil,
		"kernel_memory":  ms.Sys,
		"host_cpu_count": runtime.NumCPU(),
	})
}

// unknownRequest logs a message type golem does not know; a request gets an error reply.
func unknownRequest(k *kernel, ch channel, m *Message) error {
	t := m.Header.MsgType
	k.log.Printf("%s: unknown message type %q", ch.name, t)
	if !strings.HasSuffix(t, "_request") {
		return nil
	}
	return replyError(k, ch, m, "UnknownMessageType", fmt.Sprintf("golem does not handle %s", t))
}

func replyError(k *kernel, ch channel, m *Message, ename, evalue string) error {
	return k.reply(ch, m, replyType(m.Header.MsgType), map[string]any{
		"status": "error", "ename": ename, "evalue": evalue, "traceback": []string{ename + ": " + evalue},
	})
}
