package display

import (
	"context"
	"sync"
	"time"
)

var (
	ctxMu   sync.RWMutex
	cellCtx context.Context

	callsMu sync.Mutex
	calls   = map[context.Context]*callSet{} // long calls in progress, by the context they watch
)

// callSet counts the calls watching one context; idle is closed when the count drops to 0.
type callSet struct {
	n    int
	idle chan struct{}
}

// Context returns the context of the notebook cell that is running: the kernel
// cancels it when the user interrupts the cell. Long-running lmlib calls (training,
// fine-tuning, pipelines, evaluation, generation, tokenizer training) use it when they
// are given no context of their own, so that Jupyter's interrupt stops them at the
// next step boundary with their results so far kept. Outside a kernel it is
// context.Background(), which is never cancelled.
func Context() context.Context {
	ctxMu.RLock()
	defer ctxMu.RUnlock()
	if cellCtx == nil {
		return context.Background()
	}
	return cellCtx
}

// SetContext installs ctx as the running cell's context (nil: none) and returns a
// function that puts the previous one back. The kernel calls it around every cell;
// hosts that run notebook code in other ways (the function host's workers) call it
// around every call.
func SetContext(ctx context.Context) (restore func()) {
	ctxMu.Lock()
	prev := cellCtx
	cellCtx = ctx
	ctxMu.Unlock()
	return func() {
		ctxMu.Lock()
		cellCtx = prev
		ctxMu.Unlock()
	}
}

// Call marks the start of a long library call (training, a pipeline, evaluation,
// generation) and returns the context it watches, ctx or, when ctx is nil, the
// cell's (Context); the caller runs end when the call returns. An interrupted cell
// waits for the calls watching its context to return (WaitCalls) before the kernel
// runs the next cell, so that nothing still writes the model the next cell reads.
func Call(ctx context.Context) (watch context.Context, end func()) {
	if ctx == nil {
		ctx = Context()
	}
	callsMu.Lock()
	set := calls[ctx]
	if set == nil {
		set = &callSet{idle: make(chan struct{})}
		calls[ctx] = set
	}
	set.n++
	callsMu.Unlock()
	hookEnd := callHookBegin(ctx)
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			defer hookEnd()
			callsMu.Lock()
			if set.n--; set.n == 0 {
				close(set.idle)
				delete(calls, ctx)
			}
			callsMu.Unlock()
		})
	}
}

// CallsRunning reports whether a call marked with Call watches ctx.
func CallsRunning(ctx context.Context) bool {
	callsMu.Lock()
	defer callsMu.Unlock()
	return calls[ctx] != nil
}

// WaitCalls waits up to d for the calls watching ctx (Call) to return and reports
// whether they did. Calls watching other contexts (a goroutine of an earlier cell
// still training) are not waited for.
func WaitCalls(ctx context.Context, d time.Duration) bool {
	callsMu.Lock()
	set := calls[ctx]
	callsMu.Unlock()
	if set == nil {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-set.idle:
		return true
	case <-t.C:
		return false
	}
}
