package display

import (
	"context"
	"sync"
)

var (
	callHookMu sync.Mutex
	callHook   func(ctx context.Context) (end func())
)

// SetCallHook installs hook, which Call runs when a long library call starts
// (with the context it watches); the function hook returns runs when the call
// ends. The cell session uses it to let a Jupyter subshell's cell run while the
// main shell's cell is inside such a call. nil removes it.
func SetCallHook(hook func(ctx context.Context) (end func())) {
	callHookMu.Lock()
	callHook = hook
	callHookMu.Unlock()
}

func callHookBegin(ctx context.Context) (end func()) {
	callHookMu.Lock()
	h := callHook
	callHookMu.Unlock()
	if h == nil {
		return func() {}
	}
	if end := h(ctx); end != nil {
		return end
	}
	return func() {}
}
