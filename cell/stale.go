package cell

// Stale func literals, and the stack watch.
//
// yaegi v0.16.1 stops a running cell by changing the interpreter's run id; a func
// literal keeps the run id of the frame it was made in, so every func literal made
// before a stop returns zero values afterwards, without running its body and
// without an error. Named functions are unaffected (their frames take the run id
// when they are called). Go cannot tell such a dead function from a live one, so
// after a stop the session replaces the interpreted functions held by the user's
// variables with functions that panic and say what happened: a wrong value never
// comes back silently from them.
//
// A runaway recursion (see stackAlarm below) is stopped that way too, before Go
// ends the process with a stack overflow.

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"time"
)

// disableStaleFuncs replaces every interpreted function value reachable from the
// user's variables (directly, or through pointers, struct fields, slices, arrays,
// maps and interfaces) with one that panics with a message naming the variable and
// why. It returns the names of the variables it changed, sorted.
func (s *Session) disableStaleFuncs(why string) []string {
	w := staleWalker{why: why, seen: map[uintptr]bool{}, mayHold: map[reflect.Type]bool{}}
	var changed []string
	for name, v := range s.globals() {
		if name == "_" || strings.HasPrefix(name, "_golem") || !v.IsValid() {
			continue
		}
		if w.walk(v, name) {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	return changed
}

// staleWalkLimit bounds the values one disableStaleFuncs visits (a huge slice of
// structs with function fields is not walked to its end).
const staleWalkLimit = 1 << 20

type staleWalker struct {
	why     string
	seen    map[uintptr]bool // pointers and maps already walked
	mayHold map[reflect.Type]bool
	visited int
}

// walk replaces the interpreted functions in v (named path in messages) and
// reports whether it replaced any.
func (w *staleWalker) walk(v reflect.Value, path string) bool {
	if w.visited++; w.visited > staleWalkLimit || !w.mayHoldFunc(v.Type()) {
		return false
	}
	switch v.Kind() {
	case reflect.Func:
		if v.IsNil() || !isInterpretedFunc(v) || !v.CanSet() {
			return false
		}
		v.Set(w.stub(v.Type(), path))
		return true
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return false
		}
		w.seen[v.Pointer()] = true
		return w.walk(v.Elem(), path)
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return false
		}
		e := v.Elem()
		if e.Kind() == reflect.Pointer {
			return w.walk(e, path)
		}
		c := reflect.New(e.Type()).Elem() // the dynamic value, made settable
		c.Set(e)
		if !w.walk(c, path) {
			return false
		}
		v.Set(c)
		return true
	case reflect.Struct:
		if isInterfaceWrapper(v.Type()) {
			return false
		}
		changed := false
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() && w.walk(f, path+"."+v.Type().Field(i).Name) {
				changed = true
			}
		}
		return changed
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && (v.IsNil() || w.seen[v.Pointer()]) {
			return false
		}
		if v.Kind() == reflect.Slice {
			w.seen[v.Pointer()] = true
		}
		changed := false
		for i := 0; i < v.Len(); i++ {
			if w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i)) {
				changed = true
			}
		}
		return changed
	case reflect.Map:
		if v.IsNil() || w.seen[v.Pointer()] {
			return false
		}
		w.seen[v.Pointer()] = true
		changed := false
		it := v.MapRange()
		for it.Next() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(it.Value())
			if w.walk(c, fmt.Sprintf("%s[%v]", path, it.Key())) {
				v.SetMapIndex(it.Key(), c)
				changed = true
			}
		}
		return changed
	}
	return false
}

// mayHoldFunc reports whether a value of type t can hold a function value.
func (w *staleWalker) mayHoldFunc(t reflect.Type) bool {
	if r, ok := w.mayHold[t]; ok {
		return r
	}
	w.mayHold[t] = false // a recursive type does not loop; its other parts decide
	r := false
	switch t.Kind() {
	case reflect.Func, reflect.Interface:
		r = true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		r = w.mayHoldFunc(t.Elem())
	case reflect.Map:
		r = w.mayHoldFunc(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField() && !r; i++ {
			r = t.Field(i).IsExported() && w.mayHoldFunc(t.Field(i).Type)
		}
	}
	w.mayHold[t] = r
	return r
}

// stub is a function of type t that panics, saying that path no longer runs.
func (w *staleWalker) stub(t reflect.Type, path string) reflect.Value {
	msg := fmt.Sprintf("%s no longer runs: it holds a function made before the interpreter was stopped (%s), "+
		"and yaegi cannot run func literals made before a stop; re-run the cell that defines it", path, w.why)
	return reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value { panic(msg) })
}

// isInterfaceWrapper reports whether t is a wrapper that yaegi's symbol tables
// declare to pass an interpreted value as a compiled interface (`_io_Reader`:
// IValue plus one function field per method). Its functions call the value's
// methods, which a stop does not disable.
func isInterfaceWrapper(t reflect.Type) bool {
	if !strings.HasPrefix(t.Name(), "_") || t.NumField() == 0 {
		return false
	}
	return t.Field(0).Name == "IValue"
}

// isInterpretedFunc reports whether f was made by the interpreter (yaegi builds
// interpreted functions with reflect.MakeFunc), not compiled.
func isInterpretedFunc(f reflect.Value) bool {
	fn := runtime.FuncForPC(f.Pointer())
	return fn != nil && fn.Name() == "reflect.makeFuncStub"
}

// afterGoroutinePanicStop completes the error of a cell that was stopped in yaegi
// after a goroutine it started panicked: it says what the stop cost and disables
// the functions that would otherwise return zero values silently.
func (s *Session) afterGoroutinePanicStop(gp *Error) *Error {
	why := "after a goroutine panicked: " + gp.Value
	names := s.disableStaleFuncs(why)
	tb := append([]string(nil), gp.Traceback...)
	tb = append(tb, "the cell did not end by itself after the panic, so the interpreter stopped it: "+
		"functions made from func literals (f := func(…) {…}) before this point no longer run; named functions and all other values are kept")
	if len(names) > 0 {
		tb = append(tb, fmt.Sprintf("calling the functions held by %s now panics with this reason: re-run the cells that define them", strings.Join(names, ", ")))
	}
	e := *gp
	e.Traceback = tb
	return &e
}

// A runaway recursion fills a goroutine's stack until Go ends the process
// ("fatal error: stack overflow", which no recover catches). While a cell runs,
// the session watches the stack memory of all goroutines every stackPoll and
// stops the interpreter when it passes stackAlarm plus stackPerGoroutine for each
// goroutine: a deep stack, not many ordinary ones. Go doubles a stack as it grows
// (…, 64, 128, 256 MiB), so one goroutine passes the alarm when its stack reaches
// 128 MiB, well before the 256 MiB limit `golem kernel` sets (debug.SetMaxStack;
// Go's default is 1 GB). Measured on the 2-core machine: a yaegi recursion reaches
// 128 MiB in about 0.2 s, about 110 000 calls deep.
const (
	stackPoll         = 10 * time.Millisecond
	stackAlarm        = 96 << 20
	stackPerGoroutine = 64 << 10
)

var stackMetrics = []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/sched/goroutines:goroutines"}}

var stackMu sync.Mutex

// runawayStack reports whether goroutine stacks hold more memory than ordinary
// goroutines need (see stackAlarm).
func runawayStack() bool {
	stackMu.Lock()
	defer stackMu.Unlock()
	metrics.Read(stackMetrics)
	if stackMetrics[0].Value.Kind() != metrics.KindUint64 || stackMetrics[1].Value.Kind() != metrics.KindUint64 {
		return false
	}
	stacks, goroutines := stackMetrics[0].Value.Uint64(), stackMetrics[1].Value.Uint64()
	return stacks > stackAlarm+goroutines*stackPerGoroutine
}

// stackWatch counts consecutive polls with a runaway stack: one poll is not
// enough (a stack being copied to twice its size holds both for a moment).
type stackWatch struct{ seen int }

// runaway polls and reports whether the stacks were too large twice in a row.
func (w *stackWatch) runaway() bool {
	if runawayStack() {
		w.seen++
	} else {
		w.seen = 0
	}
	return w.seen >= 2
}

// waitStackUnwound gives a stopped recursion time to unwind (it ends at its next
// interpreted step) and its stack to be freed, so that the next cell does not see
// it: it returns once the stacks are small on three polls in a row and after a
// collection (a stack freed while one runs is released at its end), or after a
// few seconds.
func waitStackUnwound() {
	for small, i := 0, 0; small < 3 && i < 500; i++ {
		if runawayStack() {
			small = 0
		} else if small++; small == 3 {
			runtime.GC()
			if runawayStack() {
				small = 0
			}
		}
		time.Sleep(stackPoll)
	}
}

// afterStackStop is the error of a cell whose runaway recursion was stopped in
// yaegi; like every stop, it disables the func literals made before it.
func (s *Session) afterStackStop() *Error {
	names := s.disableStaleFuncs("after a runaway recursion")
	tb := []string{
		"StackOverflow: a goroutine's stack passed 128 MiB (a recursion about 100 000 calls deep that does not end?), so the interpreter stopped the cell before Go's stack limit, which would have ended the kernel",
		"the kernel and its variables are kept; functions made from func literals (f := func(…) {…}) before this point no longer run; named functions and all other values are kept",
	}
	if len(names) > 0 {
		tb = append(tb, fmt.Sprintf("calling the functions held by %s now panics with this reason: re-run the cells that define them", strings.Join(names, ", ")))
	}
	return &Error{Name: "StackOverflow", Value: "runaway recursion stopped before it ended the kernel (the goroutine stack passed 128 MiB)", Traceback: tb}
}
