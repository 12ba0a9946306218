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
	"github.com/golem-lm/golem/functions/sandbox"
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

// binding is what a worker is dedicated to once it serves a function: one version
// of one function, with that function's secrets. A worker never serves another
// binding, so one function cannot read another's secrets or inputs from memory.
type binding struct {
	key      string            // function name, source hash and secrets hash
	function string            // the function's name
	secrets  map[string]string // name -> value, written to the worker's secrets directory
	memoryMB int64             // the worker's memory limit while bound
}

// pool keeps up to size worker processes, each confined by the sandbox. A worker
// runs one request at a time. It starts fresh (prewarmed, bound to nothing) and
// is bound to a function on its first call; afterwards it serves only that
// function. A call takes an idle worker of its own binding, else a fresh one, else
// starts one while there is room, else replaces the longest-idle worker of another
// binding, else waits. A worker that is killed (timeout, memory, cancel) or dies
// is replaced by a fresh one.
type pool struct {
	command []string
	env     []string
	sb      *sandbox.Sandbox
	size    int
	memory  int64              // memory limit of a fresh worker (MiB)
	onEvent func(event string) // metrics hook: "start", "kill", "crash", "recycle", "evict"

	mu      sync.Mutex
	closed  bool
	live    int                // processes running or being started
	idle    map[string][]*proc // by binding key; "" holds fresh workers
	all     map[*proc]bool
	changed chan struct{} // closed (and replaced) whenever a worker frees up
}

func newPool(size int, command, env []string, sb *sandbox.Sandbox, memoryMB int64, onEvent func(string)) (*pool, error) {
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
	p := &pool{command: command, env: env, sb: sb, size: size, memory: memoryMB, onEvent: onEvent,
		idle: map[string][]*proc{}, all: map[*proc]bool{}, changed: make(chan struct{})}
	for i := 0; i < size; i++ {
		w, err := p.spawn()
		if err != nil {
			p.close()
			return nil, err
		}
		p.mu.Lock()
		p.live++
		p.idle[""] = append(p.idle[""], w)
		p.mu.Unlock()
	}
	return p, nil
}

// proc is one worker process.
type proc struct {
	cmd  *exec.Cmd
	sbw  *sandbox.Worker
	in   io.WriteCloser
	out  *json.Decoder
	dead chan struct{} // closed when the process has exited

	key       string    // its binding ("" while fresh); owned by the pool
	idleSince time.Time // owned by the pool
	memoryMB  int64     // its memory limit now

	oomKilled bool // the kernel killed it for its memory limit; set before dead closes

	mu       sync.Mutex
	sink     func(string) // receives log lines of the current call
	endSeen  chan string  // end markers
	tail     []string     // last log lines, for crash reports
	waitErr  error
	respCh   chan worker.Response
	readErr  error
	readDone chan struct{}
	logsDone chan struct{} // closed when the log pipe reached its end
}

func (p *pool) spawn() (*proc, error) {
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Env = append(cmd.Env, p.env...)
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
	closeAll := func() {
		respR.Close()
		respW.Close()
		logR.Close()
		logW.Close()
	}
	cmd.ExtraFiles = []*os.File{respW}
	cmd.Stdout, cmd.Stderr = logW, logW
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	sbw, err := p.sb.Wrap(cmd, p.command[0], p.memory)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start worker %q: %w", strings.Join(p.command, " "), err)
	}
	if err := cmd.Start(); err != nil {
		closeAll()
		sbw.Release()
		return nil, fmt.Errorf("start worker %q: %w", strings.Join(p.command, " "), err)
	}
	sbw.Started()
	respW.Close()
	logW.Close()
	w := &proc{cmd: cmd, sbw: sbw, in: stdin, out: json.NewDecoder(respR), dead: make(chan struct{}), memoryMB: p.memory,
		endSeen: make(chan string, 16), respCh: make(chan worker.Response, 64), readDone: make(chan struct{}), logsDone: make(chan struct{})}
	go w.readLogs(logR)
	go w.readResponses(respR)
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		w.waitErr = err
		w.mu.Unlock()
		w.oomKilled = sbw.OOMKilled() // read before Release removes its cgroup
		close(w.dead)
		sbw.Kill() // whatever is left in its cgroup
		sbw.Release()
	}()
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()
	p.onEvent("start")
	return w, nil
}

// broadcast wakes every caller waiting for a worker. Call with p.mu held.
func (p *pool) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// acquire takes a worker for binding key. fresh reports that it still has to be
// bound.
func (p *pool) acquire(ctx context.Context, key string) (w *proc, fresh bool, err error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, &CallError{Kind: api.KindCanceled, Msg: "the host is shutting down"}
		}
		if l := p.idle[key]; len(l) > 0 {
			w = l[len(l)-1]
			p.idle[key] = l[:len(l)-1]
			p.mu.Unlock()
			return w, key == "", nil
		}
		if l := p.idle[""]; len(l) > 0 {
			w = l[len(l)-1]
			p.idle[""] = l[:len(l)-1]
			p.mu.Unlock()
			return w, true, nil
		}
		var victim *proc
		if p.live < p.size {
			p.live++
		} else {
			// Replace the worker of another function that has been idle longest.
			var vk string
			for k, l := range p.idle {
				for _, c := range l {
					if victim == nil || c.idleSince.Before(victim.idleSince) {
						victim, vk = c, k
					}
				}
			}
			if victim == nil {
				ch := p.changed
				p.mu.Unlock()
				select {
				case <-ch:
					continue
				case <-ctx.Done():
					return nil, false, &CallError{Kind: api.KindCanceled, Msg: "cancelled while waiting for a worker: " + context.Cause(ctx).Error()}
				}
			}
			l := p.idle[vk]
			for i, c := range l {
				if c == victim {
					p.idle[vk] = append(l[:i], l[i+1:]...)
					break
				}
			}
			delete(p.all, victim)
		}
		p.mu.Unlock()
		if victim != nil {
			victim.kill()
			p.onEvent("evict")
		}
		w, err = p.spawn()
		if err != nil {
			p.mu.Lock()
			p.live--
			p.broadcast()
			p.mu.Unlock()
			return nil, false, &CallError{Kind: api.KindInternal, Msg: err.Error()}
		}
		return w, true, nil
	}
}

// release gives a healthy worker back to the idle list of its binding.
func (p *pool) release(w *proc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go w.kill()
		return
	}
	w.idleSince = time.Now()
	p.idle[w.key] = append(p.idle[w.key], w)
	p.broadcast()
}

// bind dedicates a fresh worker to b: its memory limit and its secrets. On error
// the worker is retired.
func (p *pool) bind(ctx context.Context, w *proc, b *binding) error {
	if b.memoryMB > 0 && b.memoryMB != w.memoryMB {
		if _, err := w.sbw.SetMemory(b.memoryMB); err != nil {
			p.retire(w, "kill")
			return &CallError{Kind: api.KindMemory, Msg: fmt.Sprintf("set the worker's memory limit to %d MiB: %v", b.memoryMB, err)}
		}
		w.memoryMB = b.memoryMB
	}
	w.key = b.key
	if b.function == "" && len(b.secrets) == 0 {
		return nil
	}
	_, healthy, err := p.roundTrip(ctx, w, worker.Request{ID: newID(), Op: worker.OpBind, Function: b.function, Secrets: b.secrets, Timeout: 10 * time.Second}, nil, nil)
	if err != nil && healthy {
		p.retire(w, "kill") // a worker that cannot be bound serves nobody
	}
	return err
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
	defer close(w.logsDone)
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
	w.sbw.Kill()
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
	// The last words of a dying worker (a panic's report) may still be in the log
	// pipe: read it to its end (every process of the sandbox is gone by then).
	select {
	case <-w.logsDone:
	case <-time.After(2 * time.Second):
	}
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

// call runs one request on a worker bound to b. progress and logs receive what the
// function reports; both may be nil. The context cancels the call (the worker is
// killed).
func (p *pool) call(ctx context.Context, b *binding, req worker.Request, progress func(float64, string), logs func(string)) (worker.Response, error) {
	for {
		w, fresh, err := p.acquire(ctx, b.key)
		if err != nil {
			return worker.Response{}, err
		}
		select {
		case <-w.dead: // died while idle
			p.retire(w, "crash")
			continue
		default:
		}
		if fresh {
			if err := p.bind(ctx, w, b); err != nil {
				return worker.Response{}, err
			}
		}
		req.Function = b.function
		resp, healthy, err := p.roundTrip(ctx, w, req, progress, logs)
		if healthy {
			p.release(w)
		}
		return resp, err
	}
}

// roundTrip sends one request to w and waits for its answer, enforcing the
// timeout, the memory limit and cancellation. healthy means w may serve again
// (the caller gives it back); a killed, dead or recycled worker is retired here.
func (p *pool) roundTrip(ctx context.Context, w *proc, req worker.Request, progress func(float64, string), logs func(string)) (resp worker.Response, healthy bool, err error) {
	w.mu.Lock()
	w.sink = logs
	w.mu.Unlock()
	// Drop stale end markers.
	for len(w.endSeen) > 0 {
		<-w.endSeen
	}
	line, err := json.Marshal(req)
	if err != nil {
		return worker.Response{}, true, err
	}
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		p.retire(w, "crash")
		return worker.Response{}, false, &CallError{Kind: api.KindCrash, Msg: "write to worker: " + err.Error()}
	}
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	// Without a cgroup the host watches the worker's memory itself.
	var watchC <-chan time.Time
	if !w.sbw.MemoryLimited() && w.memoryMB > 0 {
		watch := time.NewTicker(20 * time.Millisecond)
		defer watch.Stop()
		watchC = watch.C
	}
	fail := func(kind, msg string) (worker.Response, bool, error) {
		p.retire(w, "kill")
		return worker.Response{}, false, &CallError{Kind: kind, Msg: msg}
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
			healthy = true
			if resp.Recycle {
				w.in.Close() // the worker exits when its input ends
				p.retire(w, "recycle")
				healthy = false
			}
			if resp.Type == worker.TypeError {
				return resp, healthy, &CallError{Kind: resp.Kind, Field: resp.Field, Msg: resp.Error}
			}
			return resp, healthy, nil
		case <-w.readDone:
			// The response pipe closed: the worker is dying or dead.
			oom := false
			select {
			case <-w.dead:
				oom = w.oomKilled
			case <-time.After(2 * time.Second):
				oom = w.sbw.OOMKilled()
			}
			if oom {
				return fail(api.KindMemory, fmt.Sprintf("memory limit exceeded: the function's worker (with its children) reached its limit of %d MiB (limit %d MiB) and the kernel killed it", w.memoryMB, w.memoryMB))
			}
			msg := w.crashReport()
			p.retire(w, "crash")
			return worker.Response{}, false, &CallError{Kind: api.KindCrash, Msg: msg}
		case <-timeout:
			return fail(api.KindTimeout, fmt.Sprintf("timeout: the call ran longer than %s and its worker was killed", req.Timeout))
		case <-watchC:
			if rss := w.rssMB(); rss > w.memoryMB {
				return fail(api.KindMemory, fmt.Sprintf("memory limit exceeded: the worker's resident memory reached %d MiB (limit %d MiB) and it was killed", rss, w.memoryMB))
			}
		case <-ctx.Done():
			return fail(api.KindCanceled, "cancelled: "+context.Cause(ctx).Error())
		}
	}
}

// retire kills w (if it still runs) and starts a fresh worker in its place, in the
// background.
func (p *pool) retire(w *proc, event string) {
	w.kill()
	p.onEvent(event)
	p.mu.Lock()
	delete(p.all, w)
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return
	}
	go func() {
		for attempt := 0; ; attempt++ {
			nw, err := p.spawn()
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				if err == nil {
					nw.kill()
				}
				return
			}
			if err == nil {
				nw.idleSince = time.Now()
				p.idle[""] = append(p.idle[""], nw)
				p.broadcast()
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			time.Sleep(time.Duration(min(attempt+1, 20)) * 100 * time.Millisecond)
		}
	}()
}

func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all = map[*proc]bool{}
	p.idle = map[string][]*proc{}
	p.broadcast()
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
