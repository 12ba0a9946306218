package cell

// The cell side of golem's Jupyter debugger (JEP 47: the Debug Adapter
// Protocol over the control channel; the kernel package handles the envelope,
// dumpCell and debugInfo). It is built on yaegi v0.16.1's interp.Debugger:
// while a client is attached, every program of a main-shell cell runs under
// interp.Debug, breakpoints are set on the programs compiled from the cell
// whose dumped file they name, and a stop is reported as a DAP "stopped" event;
// stackTrace, scopes and variables read the stopped frames, continue/next/
// stepIn/stepOut resume them.
//
// Positions: while a client is attached, a cell's Go is parsed under a //line
// directive naming the cell's file (the kernel's dumpCell path for the cell's
// code, so the path JupyterLab computes from the code's hash) at the cell's own
// line numbers, so yaegi's positions are the user's lines in that file. The
// rewrite passes keep the positions of the user's statements; code they
// generate sits at lines past 1000000 (prelude, result, function bodies) and is
// never reported as a frame or stopped in: a step that lands there steps on.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
)

// debugState is the debugger's state in a session.
type debugState struct {
	mu     sync.Mutex
	on     bool
	source func(code string) string     // the file of a cell's code (kernel: dumpCell's path)
	events func(event string, body any) // DAP events to the client
	bps    map[string][]int             // breakpoint lines by file
	progs  map[string][]*interp.Program // programs compiled from each file's cell
	path   string                       // file of the main cell now running ("" when none)

	dbg     *interp.Debugger     // the program running under the debugger
	stopped *interp.DebugEvent   // its stop, nil while it runs
	frames  []*interp.DebugFrame // frames of the stop in user code, frame id = index+1
	refs    []func() []debugVar  // variablesReference = index+1, valid while stopped
	ended   chan struct{}        // closed by the DebugTerminate event of the program running
}

// debugVar is a DAP Variable.
type debugVar struct {
	Name               string `json:"name"`
	Value              string `json:"value"`
	Type               string `json:"type"`
	EvaluateName       string `json:"evaluateName,omitempty"`
	VariablesReference int    `json:"variablesReference"`
}

// DebugAttach turns the debugger on: later main-shell cells run under yaegi's
// debugger, their code compiled under the file name source(code); events
// receives the DAP events ("stopped", "continued").
func (s *Session) DebugAttach(source func(code string) string, events func(event string, body any)) {
	s.turns.setExclusive(true)
	d := &s.debug
	d.mu.Lock()
	defer d.mu.Unlock()
	d.on, d.source, d.events = true, source, events
	if d.bps == nil {
		d.bps, d.progs = map[string][]int{}, map[string][]*interp.Program{}
	}
}

// DebugDetach turns the debugger off: breakpoints are cleared and a stopped cell
// runs on to its end.
func (s *Session) DebugDetach() {
	s.turns.setExclusive(false)
	d := &s.debug
	d.mu.Lock()
	d.on = false
	for path := range d.bps {
		d.bps[path] = nil
	}
	if d.dbg != nil {
		d.applyBreakpoints()
	}
	dbg, stopped := d.dbg, d.stopped
	d.stopped, d.frames, d.refs = nil, nil, nil
	d.mu.Unlock()
	if dbg != nil && stopped != nil {
		_ = dbg.Continue(stopped.GoRoutine())
	}
}

// DebugStopped lists the threads stopped now (debugInfo's stoppedThreads).
func (s *Session) DebugStopped() []int {
	d := &s.debug
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped == nil {
		return []int{}
	}
	return []int{d.stopped.GoRoutine()}
}

// debugging reports whether main-shell cells run under the debugger.
func (d *debugState) debugging() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.on
}

// beginCell names the file of a main-shell cell's code while the debugger is on;
// the function returned forgets it.
func (d *debugState) beginCell(code string) (end func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.on || d.source == nil {
		return func() {}
	}
	d.path = d.source(code)
	return func() {
		d.mu.Lock()
		d.path = ""
		d.mu.Unlock()
	}
}

// lineFile is the file name of the //line directives of the cell now parsed:
// "cell", or while debugging the cell's file followed by "/cell". yaegi v0.16.1
// looks imports up by the base name of a node's position (isType: pkg/<base>),
// so the base name must stay the one the cells are parsed under.
func (s *Session) lineFile() string {
	d := &s.debug
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.on && d.path != "" {
		return d.path + debugLineSuffix
	}
	return "cell"
}

// debugLineSuffix ends the //line file name of a cell run under the debugger.
const debugLineSuffix = "/cell"

// cellPath is the cell's file of a position's file name ("" when it is not one).
func cellPath(filename string) string {
	p, ok := strings.CutSuffix(filename, debugLineSuffix)
	if !ok {
		return ""
	}
	return p
}

// runDebug runs prog under yaegi's debugger.
func (d *debugState) runDebug(ctx context.Context, in *interp.Interpreter, prog *interp.Program) (reflect.Value, error) {
	ended := make(chan struct{})
	dbg := func() *interp.Debugger {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.path != "" {
			d.progs[d.path] = append(d.progs[d.path], prog)
		}
		d.ended = ended
		d.dbg = in.Debug(ctx, prog, d.event, &interp.DebugOptions{GoRoutineStartAt1: true})
		d.applyBreakpoints()
		return d.dbg
	}()
	defer func() {
		d.mu.Lock()
		d.dbg, d.stopped, d.frames, d.refs = nil, nil, nil, nil
		d.mu.Unlock()
	}()
	if err := dbg.Continue(1); err != nil {
		return reflect.Value{}, fmt.Errorf("start the program under the debugger: %w", err)
	}
	v, err := dbg.Wait()
	// yaegi v0.16.1 clears the interpreter's debugger after the program's
	// DebugTerminate event, on the program's goroutine: wait for that event, then
	// let that goroutine finish, so that it does not clear the debugger of the
	// cell's next program (a window of a few instructions yaegi gives no way to
	// close).
	<-ended
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	return v, err
}

// applyBreakpoints sets the breakpoints of every file on the programs compiled
// from it (yaegi keeps them on the compiled nodes); d.mu is held.
func (d *debugState) applyBreakpoints() map[string][]interp.Breakpoint {
	out := map[string][]interp.Breakpoint{}
	for path, progs := range d.progs {
		lines, ever := d.bps[path]
		if !ever {
			// no breakpoint was ever set in this file: leave its programs alone
			// (yaegi generates a node's code when it sets a breakpoint on it,
			// which fails on some programs that have not run yet)
			continue
		}
		reqs := []interp.BreakpointRequest{interp.LineBreakpoint(-1)} // clears the lines no longer wanted
		for _, l := range lines {
			reqs = append(reqs, interp.LineBreakpoint(l))
		}
		valid := make([]interp.Breakpoint, len(lines))
		for _, p := range progs {
			for i, b := range setBreakpoints(d.dbg, p, reqs)[1:] {
				if b.Valid {
					valid[i] = b
				}
			}
		}
		out[path] = valid
	}
	return out
}

// setBreakpoints is dbg.SetBreakpoints on one program, without its panics (a
// program yaegi cannot generate code for gets no breakpoints).
func setBreakpoints(dbg *interp.Debugger, p *interp.Program, reqs []interp.BreakpointRequest) (out []interp.Breakpoint) {
	defer func() {
		if recover() != nil {
			out = make([]interp.Breakpoint, len(reqs))
		}
	}()
	return dbg.SetBreakpoints(interp.ProgramBreakpointTarget(p), reqs...)
}

// userPosition reports whether a position is in a cell as the user wrote it.
func (d *debugState) userPosition(file string, line int) bool {
	if line <= 0 || line >= preludeLine {
		return false
	}
	_, ok := d.progs[cellPath(file)]
	return ok
}

// event receives yaegi's debug events (on the goroutine of the program).
func (d *debugState) event(e *interp.DebugEvent) {
	var reason string
	switch e.Reason() {
	case interp.DebugBreak:
		reason = "breakpoint"
	case interp.DebugStepInto, interp.DebugStepOver, interp.DebugStepOut:
		reason = "step"
	case interp.DebugPause:
		reason = "pause"
	case interp.DebugEntry:
		reason = "entry"
	case interp.DebugTerminate:
		d.mu.Lock()
		if d.ended != nil {
			close(d.ended)
			d.ended = nil
		}
		d.mu.Unlock()
		return
	default:
		return
	}
	d.mu.Lock()
	var frames []*interp.DebugFrame
	for _, f := range e.Frames(0, e.FrameDepth()) {
		if p := f.Position(); d.userPosition(p.Filename, p.Line) {
			frames = append(frames, f)
		}
	}
	dbg := d.dbg
	top := e.Frames(0, 1)
	inUser := len(top) == 1 && d.userPosition(top[0].Position().Filename, top[0].Position().Line)
	if len(frames) == 0 || !inUser {
		// generated code (or the cell's own wrapper): step on to the user's code
		d.mu.Unlock()
		mode := e.Reason()
		if mode == interp.DebugBreak || mode == interp.DebugPause || mode == interp.DebugEntry {
			mode = interp.DebugStepInto
		}
		go stepWhenStopped(dbg, e.GoRoutine(), mode)
		return
	}
	d.stopped, d.frames, d.refs = e, frames, nil
	events := d.events
	d.mu.Unlock()
	if events != nil {
		events("stopped", map[string]any{"reason": reason, "threadId": e.GoRoutine(), "allThreadsStopped": true})
	}
}

// stepWhenStopped issues a step as soon as the goroutine has stopped (yaegi
// marks it stopped just after the event handler returns).
func stepWhenStopped(dbg *interp.Debugger, g int, mode interp.DebugEventReason) {
	if dbg == nil {
		return
	}
	for {
		err := dbg.Step(g, mode)
		if !errors.Is(err, interp.ErrRunning) {
			return
		}
		runtime.Gosched()
	}
}

// Debug serves one DAP request of the debugger panel (those the kernel does not
// answer itself) and returns the response body.
func (s *Session) Debug(command string, args json.RawMessage) (any, error) {
	d := &s.debug
	var a struct {
		ThreadID           int `json:"threadId"`
		FrameID            int `json:"frameId"`
		VariablesReference int `json:"variablesReference"`
		Source             struct {
			Path string `json:"path"`
		} `json:"source"`
		Breakpoints []struct {
			Line int `json:"line"`
		} `json:"breakpoints"`
		VariableName string `json:"variableName"`
	}
	if len(args) > 0 && string(args) != "null" {
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, fmt.Errorf("arguments of %s: %w", command, err)
		}
	}
	switch command {
	case "setBreakpoints":
		return d.setBreakpoints(a.Source.Path, a.Breakpoints)
	case "continue", "next", "stepIn", "stepOut":
		return d.resume(command, a.ThreadID)
	case "pause":
		d.mu.Lock()
		dbg := d.dbg
		d.mu.Unlock()
		if dbg == nil || !dbg.Interrupt(1, interp.DebugPause) {
			return nil, errors.New("pause: no cell is running")
		}
		return map[string]any{}, nil
	case "threads":
		threads := []map[string]any{{"id": 1, "name": "cell"}}
		for _, g := range s.DebugStopped() {
			if g != 1 {
				threads = append(threads, map[string]any{"id": g, "name": fmt.Sprintf("goroutine %d", g)})
			}
		}
		return map[string]any{"threads": threads}, nil
	case "stackTrace":
		return d.stackTrace(a.ThreadID)
	case "scopes":
		return s.scopes(a.FrameID)
	case "variables":
		return d.variables(a.VariablesReference)
	case "inspectVariables":
		return s.inspectVariables()
	case "richInspectVariables":
		return s.richInspect(a.VariableName, a.FrameID)
	}
	return nil, fmt.Errorf("golem's debugger does not handle the request %q", command)
}

func (d *debugState) setBreakpoints(path string, bps []struct {
	Line int `json:"line"`
}) (any, error) {
	if path == "" {
		return nil, errors.New("setBreakpoints: arguments.source.path is missing")
	}
	lines := make([]int, 0, len(bps))
	for _, b := range bps {
		if b.Line < 1 {
			return nil, fmt.Errorf("setBreakpoints: line %d of %s is not a line", b.Line, path)
		}
		lines = append(lines, b.Line)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bps == nil {
		d.bps, d.progs = map[string][]int{}, map[string][]*interp.Program{}
	}
	d.bps[path] = lines
	var set []interp.Breakpoint
	if d.dbg != nil {
		set = d.applyBreakpoints()[path]
	}
	out := make([]map[string]any, len(lines))
	for i, l := range lines {
		// verified: set on code already compiled from the file, or kept for the
		// file's cell when it runs
		out[i] = map[string]any{"verified": true, "line": l, "source": map[string]any{"path": path}}
		if i < len(set) && set[i].Valid {
			out[i]["line"] = set[i].Position.Line
		}
	}
	return map[string]any{"breakpoints": out}, nil
}

func (d *debugState) resume(command string, thread int) (any, error) {
	d.mu.Lock()
	dbg, stopped := d.dbg, d.stopped
	if stopped != nil {
		d.stopped, d.frames, d.refs = nil, nil, nil
	}
	d.mu.Unlock()
	if dbg == nil || stopped == nil {
		return nil, fmt.Errorf("%s: no cell is stopped in the debugger", command)
	}
	if thread == 0 {
		thread = stopped.GoRoutine()
	}
	var err error
	switch command {
	case "continue":
		err = dbg.Continue(thread)
	case "next":
		err = dbg.Step(thread, interp.DebugStepOver)
	case "stepIn":
		err = dbg.Step(thread, interp.DebugStepInto)
	case "stepOut":
		err = dbg.Step(thread, interp.DebugStepOut)
	}
	if err != nil {
		return nil, fmt.Errorf("%s thread %d: %w", command, thread, err)
	}
	if command == "continue" {
		return map[string]any{"allThreadsContinued": true}, nil
	}
	return map[string]any{}, nil
}

func (d *debugState) stackTrace(thread int) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped == nil {
		return nil, errors.New("stackTrace: no cell is stopped in the debugger")
	}
	if thread != 0 && thread != d.stopped.GoRoutine() {
		return nil, fmt.Errorf("stackTrace: thread %d is not stopped (thread %d is)", thread, d.stopped.GoRoutine())
	}
	frames := make([]map[string]any, 0, len(d.frames))
	for i, f := range d.frames {
		p := f.Position()
		name := f.Name()
		if name == "main" || name == "init" || name == "<init>" { // the cell's own statements
			name = "cell"
		}
		frames = append(frames, map[string]any{
			"id": i + 1, "name": name, "line": p.Line, "column": p.Column,
			"source": map[string]any{"path": cellPath(p.Filename)},
		})
	}
	return map[string]any{"stackFrames": frames, "totalFrames": len(frames)}, nil
}

// ref registers the children of a value and returns their variablesReference.
func (d *debugState) ref(list func() []debugVar) int {
	d.refs = append(d.refs, list)
	return len(d.refs)
}

func (s *Session) scopes(frameID int) (any, error) {
	d := &s.debug
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped == nil {
		return nil, errors.New("scopes: no cell is stopped in the debugger")
	}
	if frameID < 1 || frameID > len(d.frames) {
		return nil, fmt.Errorf("scopes: no frame %d (the stop has %d)", frameID, len(d.frames))
	}
	f := d.frames[frameID-1]
	locals := d.ref(func() []debugVar {
		var out []debugVar
		seen := map[string]bool{}
		for _, sc := range f.Scopes() {
			for _, v := range sc.Variables() {
				if seen[v.Name] || hiddenName(v.Name) {
					continue
				}
				seen[v.Name] = true
				out = append(out, d.variable(v.Name, v.Value))
			}
		}
		sortVars(out)
		return out
	})
	globals := d.ref(func() []debugVar { return s.debugGlobals() })
	return map[string]any{"scopes": []map[string]any{
		{"name": "Locals", "variablesReference": locals, "expensive": false, "presentationHint": "locals"},
		{"name": "Globals", "variablesReference": globals, "expensive": false},
	}}, nil
}

func (d *debugState) variables(ref int) (any, error) {
	d.mu.Lock()
	if d.stopped == nil {
		d.mu.Unlock()
		return nil, errors.New("variables: no cell is stopped in the debugger")
	}
	if ref < 1 || ref > len(d.refs) {
		d.mu.Unlock()
		return nil, fmt.Errorf("variables: no variablesReference %d", ref)
	}
	list := d.refs[ref-1]
	vars := list() // registers the children (d.mu is held)
	d.mu.Unlock()
	if vars == nil {
		vars = []debugVar{}
	}
	return map[string]any{"variables": vars}, nil
}

// variable describes a value; composite values get a reference to their
// children (d.mu is held).
func (d *debugState) variable(name string, v reflect.Value) debugVar {
	out := debugVar{Name: name, EvaluateName: name, Value: valueText(v)}
	if !v.IsValid() {
		out.Type = "nil"
		return out
	}
	out.Type = v.Type().String()
	if kids := children(v); kids != nil {
		out.VariablesReference = d.ref(func() []debugVar {
			var vs []debugVar
			for _, k := range kids() {
				vs = append(vs, d.variable(k.name, k.v))
			}
			return vs
		})
	}
	return out
}

type child struct {
	name string
	v    reflect.Value
}

const maxChildren = 100

// children lists the fields, elements or entries of a composite value (nil for
// others).
func children(v reflect.Value) func() []child {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.NumField() == 0 {
			return nil
		}
		return func() []child {
			var out []child
			for i := 0; i < v.NumField() && i < maxChildren; i++ {
				out = append(out, child{v.Type().Field(i).Name, v.Field(i)})
			}
			return out
		}
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return nil
		}
		return func() []child {
			var out []child
			for i := 0; i < v.Len() && i < maxChildren; i++ {
				out = append(out, child{fmt.Sprintf("[%d]", i), v.Index(i)})
			}
			return out
		}
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		return func() []child {
			var out []child
			it := v.MapRange()
			for it.Next() && len(out) < maxChildren {
				out = append(out, child{fmt.Sprint(it.Key()), it.Value()})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
			return out
		}
	}
	return nil
}

// valueText is a value as the variables panel shows it (at most 500 bytes).
func valueText(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	t := fmt.Sprintf("%v", v)
	if v.Kind() == reflect.String {
		t = fmt.Sprintf("%q", v.String())
	}
	if len(t) > 500 {
		t = t[:500] + "…"
	}
	return t
}

// hiddenName: names of golem's generated code, not the user's.
func hiddenName(name string) bool {
	return strings.HasPrefix(name, "_golem") || strings.HasPrefix(name, "_") || name == ""
}

func sortVars(vs []debugVar) { sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name }) }

// debugGlobals are the notebook's package-level variables (interp.Globals), the
// user's names only.
func (s *Session) debugGlobals() []debugVar {
	var out []debugVar
	for name, v := range s.globals() {
		if hiddenName(name) || s.st.hidden[name] {
			continue
		}
		if v.IsValid() && v.Kind() == reflect.Func {
			continue
		}
		out = append(out, s.debug.variable(name, v))
	}
	sortVars(out)
	return out
}

// inspectVariables answers JupyterLab's variable explorer: the notebook's
// variables, when no cell runs or while one is stopped in the debugger.
func (s *Session) inspectVariables() (any, error) {
	d := &s.debug
	d.mu.Lock()
	stopped := d.stopped != nil
	d.mu.Unlock()
	if !stopped {
		if !s.tryLockIdle() {
			return map[string]any{"variables": []debugVar{}}, nil
		}
		defer s.unlockIdle()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !stopped {
		d.refs = nil
	}
	vars := s.debugGlobals()
	if vars == nil {
		vars = []debugVar{}
	}
	return map[string]any{"variables": vars}, nil
}

// richInspect shows one variable (of the stopped frame frameID, else the
// notebook's) as a MIME bundle.
func (s *Session) richInspect(name string, frameID int) (any, error) {
	if name == "" {
		return nil, errors.New("richInspectVariables: arguments.variableName is missing")
	}
	d := &s.debug
	d.mu.Lock()
	stopped := d.stopped != nil
	var found reflect.Value
	ok := false
	if stopped && frameID >= 1 && frameID <= len(d.frames) {
		for _, sc := range d.frames[frameID-1].Scopes() {
			for _, v := range sc.Variables() {
				if v.Name == name && !ok {
					found, ok = v.Value, true
				}
			}
		}
	}
	d.mu.Unlock()
	if !ok {
		if !stopped {
			if !s.tryLockIdle() {
				return nil, errors.New("richInspectVariables: a cell is running")
			}
			defer s.unlockIdle()
		}
		found, ok = s.globals()[name]
	}
	if !ok {
		return nil, fmt.Errorf("richInspectVariables: no variable %q", name)
	}
	data := map[string]any{"text/plain": valueText(found)}
	if found.IsValid() && found.CanInterface() {
		if b := richValue(found.Interface()); len(b) > 0 {
			for k, v := range b {
				data[k] = v
			}
		}
	}
	return map[string]any{"data": data, "metadata": map[string]any{}}, nil
}
