package functions

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/worker"
)

// CallError is a failed call: what went wrong (Kind, one of the api.Kind* values)
// and, for bad input, the field at fault.
type CallError struct {
	Kind  string
	Field string
	Msg   string
}

func (e *CallError) Error() string { return e.Msg }

// retryable reports whether a job attempt that failed this way may be tried again.
func retryable(kind string) bool {
	switch kind {
	case api.KindCrash, api.KindTimeout, api.KindMemory, api.KindInternal:
		return true
	}
	return false
}

// pool keeps a fixed number of worker processes. Each runs one request at a time;
// a worker that is killed (timeout, memory, cancel) or dies is replaced.
type pool struct {
	command []string
	env     []string
	idle    chan *proc
	size    int
	onEvent func(event string) // metrics hook: "start", "kill", "crash", "recycle"

	mu     sync.Mutex
	closed bool
	all    map[*proc]bool
}

func newPool(size int, command, env []string, onEvent func(string)) (*pool, error) {
	if size < 1 {
		size = 1
	}
	if len(command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the golem binary for workers: %w", err)
		}
		command = []string{exe, "worker"}
	}
	if onEvent == nil {
		onEvent = func(string) {}
	}
	p := &pool{command: command, env: env, idle: make(chan *proc, size), size: size, onEvent: onEvent, all: map[*proc]bool{}}
	for i := 0; i < size; i++ {
		w, err := p.spawn()
		if err != nil {
			p.close()
			return nil, err
		}
		p.idle <- w
	}
	return p, nil
}

// proc is one worker process.
type proc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *json.Decoder
	dead chan struct{} // closed when the process has exited

	mu       sync.Mutex
	sink     func(string) // receives log lines of the current call
	endSeen  chan string  // end markers
	tail     []string     // last log lines, for crash reports
	waitErr  error
	respCh   chan worker.Response
	readErr  error
	readDone chan struct{}
}

func (p *pool) spawn() (*proc, error) {
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Env = append(workerEnviron(), p.env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = []*os.File{respW}
	cmd.Stdout, cmd.Stderr = logW, logW
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		respR.Close()
		respW.Close()
		logR.Close()
		logW.Close()
		return nil, fmt.Errorf("start worker %q: %w", strings.Join(p.command, " "), err)
	}
	respW.Close()
	logW.Close()
	w := &proc{cmd: cmd, in: stdin, out: json.NewDecoder(respR), dead: make(chan struct{}),
		endSeen: make(chan string, 16), respCh: make(chan worker.Response, 64), readDone: make(chan struct{})}
	go w.readLogs(logR)
	go w.readResponses(respR)
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		w.waitErr = err
		w.mu.Unlock()
		close(w.dead)
	}()
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()
	p.onEvent("start")
	return w, nil
}

func (w *proc) readResponses(r io.ReadCloser) {
	defer close(w.readDone)
	defer r.Close()
	for {
		var resp worker.Response
		if err := w.out.Decode(&resp); err != nil {
			w.readErr = err
			return
		}
		w.respCh <- resp
	}
}

func (w *proc) readLogs(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(line, "\n")
			if i := strings.Index(line, worker.EndMarker); i >= 0 {
				if i > 0 {
					w.log(line[:i])
				}
				select {
				case w.endSeen <- line[i+len(worker.EndMarker):]:
				default:
				}
			} else {
				w.log(line)
			}
		}
		if err != nil {
			return
		}
	}
}

func (w *proc) log(line string) {
	w.mu.Lock()
	sink := w.sink
	w.tail = append(w.tail, line)
	if len(w.tail) > 40 {
		w.tail = w.tail[len(w.tail)-40:]
	}
	w.mu.Unlock()
	if sink != nil {
		sink(line)
	}
}

func (w *proc) kill() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	_ = w.cmd.Process.Kill()
	w.in.Close()
}

// rssMB reads the resident set size of the worker from /proc.
func (w *proc) rssMB() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(w.cmd.Process.Pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()) >> 20
}

func (w *proc) crashReport() string {
	<-w.readDone
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := "worker process died"
	if w.waitErr != nil {
		msg += " (" + w.waitErr.Error() + ")"
	}
	// Keep the panic and the first frames: they say what happened.
	for i, l := range w.tail {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "panic in goroutine") || strings.HasPrefix(l, "fatal error:") {
			end := i + 6
			if end > len(w.tail) {
				end = len(w.tail)
			}
			return msg + ": " + strings.Join(w.tail[i:end], "\n")
		}
	}
	if n := len(w.tail); n > 0 {
		from := n - 5
		if from < 0 {
			from = 0
		}
		msg += ": " + strings.Join(w.tail[from:], "\n")
	}
	return msg
}

// call runs one request on a worker. progress and logs receive what the function
// reports; both may be nil. The context cancels the call (the worker is killed).
func (p *pool) call(ctx context.Context, req worker.Request, memoryMB int64, progress func(float64, string), logs func(string)) (worker.Response, error) {
	var w *proc
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return worker.Response{}, &CallError{Kind: api.KindCanceled, Msg: "cancelled while waiting for a worker: " + context.Cause(ctx).Error()}
	}
	select {
	case <-w.dead: // died while idle
		p.replace(w)
		p.onEvent("crash")
		return p.call(ctx, req, memoryMB, progress, logs)
	default:
	}
	w.mu.Lock()
	w.sink = logs
	w.mu.Unlock()
	// Drop stale end markers.
	for len(w.endSeen) > 0 {
		<-w.endSeen
	}
	line, err := json.Marshal(req)
	if err != nil {
		p.idle <- w
		return worker.Response{}, err
	}
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		w.kill()
		p.replace(w)
		p.onEvent("crash")
		return worker.Response{}, &CallError{Kind: api.KindCrash, Msg: "write to worker: " + err.Error()}
	}
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	watch := time.NewTicker(20 * time.Millisecond)
	defer watch.Stop()
	fail := func(kind, msg string) (worker.Response, error) {
		w.kill()
		p.replace(w)
		p.onEvent("kill")
		return worker.Response{}, &CallError{Kind: kind, Msg: msg}
	}
	for {
		select {
		case resp := <-w.respCh:
			if resp.ID != req.ID {
				continue
			}
			if resp.Type == worker.TypeProgress {
				if progress != nil {
					progress(resp.Progress, resp.Note)
				}
				continue
			}
			// Wait (briefly) until every line the call printed has been read.
			select {
			case <-w.endSeen:
			case <-time.After(time.Second):
			}
			w.mu.Lock()
			w.sink = nil
			w.mu.Unlock()
			if resp.Recycle {
				w.in.Close() // the worker exits when its input ends
				p.replace(w)
				p.onEvent("recycle")
			} else {
				p.idle <- w
			}
			if resp.Type == worker.TypeError {
				return resp, &CallError{Kind: resp.Kind, Field: resp.Field, Msg: resp.Error}
			}
			return resp, nil
		case <-w.readDone:
			// The response pipe closed: the worker is dying or dead.
			select {
			case resp := <-w.respCh:
				_ = resp // a response raced the crash; treat the worker as crashed anyway
			default:
			}
			select {
			case <-w.dead:
			case <-time.After(2 * time.Second):
			}
			msg := w.crashReport()
			w.kill()
			p.replace(w)
			p.onEvent("crash")
			return worker.Response{}, &CallError{Kind: api.KindCrash, Msg: msg}
		case <-timeout:
			return fail(api.KindTimeout, fmt.Sprintf("timeout: the call ran longer than %s and its worker was killed", req.Timeout))
		case <-watch.C:
			if memoryMB > 0 {
				if rss := w.rssMB(); rss > memoryMB {
					return fail(api.KindMemory, fmt.Sprintf("memory limit exceeded: the worker's resident memory reached %d MiB (limit %d MiB) and it was killed", rss, memoryMB))
				}
			}
		case <-ctx.Done():
			return fail(api.KindCanceled, "cancelled: "+context.Cause(ctx).Error())
		}
	}
}

// replace retires w and starts a new worker in its place (in the background).
func (p *pool) replace(w *proc) {
	p.mu.Lock()
	delete(p.all, w)
	closed := p.closed
	p.mu.Unlock()
	go func() { // reap: a worker that does not leave on its own is killed
		select {
		case <-w.dead:
		case <-time.After(2 * time.Second):
			w.kill()
		}
	}()
	if closed {
		return
	}
	go func() {
		for attempt := 0; ; attempt++ {
			nw, err := p.spawn()
			if err == nil {
				p.mu.Lock()
				if p.closed {
					p.mu.Unlock()
					nw.kill()
					return
				}
				p.mu.Unlock()
				p.idle <- nw
				return
			}
			p.mu.Lock()
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			time.Sleep(time.Duration(min(attempt+1, 20)) * 100 * time.Millisecond)
		}
	}()
}

func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all = map[*proc]bool{}
	p.mu.Unlock()
	for w := range all {
		w.in.Close()
		select {
		case <-w.dead:
		case <-time.After(500 * time.Millisecond):
			w.kill()
		}
	}
}

// workerEnviron is the host's environment without its API keys: user code has no
// business reading them. (This is not a sandbox: see the package documentation.)
func workerEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOLEM_API_KEYS=") || strings.HasPrefix(kv, "GOLEM_API_KEY=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
