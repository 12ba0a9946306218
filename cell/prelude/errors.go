//go:build golemprelude

package prelude

// The generic functions of packages errors and sync, which yaegi v0.16.1's
// tables cannot hold: a call errors.AsType[E](err) is rewritten to
// _golem_errors_AsType[E](err) (shims.go in package cell). They import no
// standard package, so that no package name is taken from the cells.

import _golemrt "github.com/golem-lm/golem/cell/prelude/golemrt"

// _golem_errors_AsType finds the first error in err's tree (Unwrap() error and
// Unwrap() []error, depth first) that is an E, as errors.AsType (Go 1.26) does;
// an error's As method is not consulted. The tree is walked by compiled code
// (_golemrt.Unwrap: yaegi v0.16.1 panics asserting a compiled error to an
// interface literal), so the Unwrap method of an error type declared in a cell
// is not followed. A loop over a stack, as yaegi panics compiling a generic
// function that calls itself.
func _golem_errors_AsType[E error](err error) (E, bool) {
	stack := []error{err}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		var t any = e
		if v, ok := t.(E); ok {
			return v, true
		}
		inner := _golemrt.Unwrap(e)
		for i := len(inner) - 1; i >= 0; i-- {
			stack = append(stack, inner[i])
		}
	}
	var zero E
	return zero, false
}

// _golem_sync_OnceValue calls f once, on the first call of the function it
// returns, and returns its value then and on every later call; a panic of f is
// raised again on every call, as sync.OnceValue does.
func _golem_sync_OnceValue[T any](f func() T) func() T {
	lock := make(chan struct{}, 1)
	done := false
	var v T
	var p any
	return func() T {
		lock <- struct{}{}
		if !done {
			done = true
			func() {
				defer func() { p = recover() }()
				v = f()
			}()
		}
		<-lock
		if p != nil {
			panic(p)
		}
		return v
	}
}

// _golem_sync_OnceValues is _golem_sync_OnceValue for a function with two results.
func _golem_sync_OnceValues[T1, T2 any](f func() (T1, T2)) func() (T1, T2) {
	lock := make(chan struct{}, 1)
	done := false
	var v1 T1
	var v2 T2
	var p any
	return func() (T1, T2) {
		lock <- struct{}{}
		if !done {
			done = true
			func() {
				defer func() { p = recover() }()
				v1, v2 = f()
			}()
		}
		<-lock
		if p != nil {
			panic(p)
		}
		return v1, v2
	}
}
