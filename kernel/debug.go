package kernel

// The debugger (JEP 47): Debug Adapter Protocol requests in debug_request
// messages on the control channel, answered with debug_reply; events (a cell
// stopped at a breakpoint) published on IOPub as debug_event. The kernel
// answers the requests about files and state itself — initialize, attach,
// disconnect, configurationDone, debugInfo, dumpCell, source — and hands the
// rest (setBreakpoints, stackTrace, scopes, variables, continue, next, stepIn,
// stepOut, pause, threads, inspectVariables, richInspectVariables) to the
// interpreter when it is a DebugInterpreter (package cell, on yaegi's
// interp.Debugger).
//
// Files: JupyterLab names a cell by a hash of its code, with the method, seed,
// prefix and suffix debugInfo gives (Murmur2, as ipykernel), and dumpCell writes
// the code to that file; while a client is attached the kernel tells the
// interpreter that name for every cell it runs, so breakpoints set on the file
// are breakpoints in the cell.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// DebugInterpreter is an Interpreter that can be debugged.
type DebugInterpreter interface {
	// DebugAttach turns debugging on: cells run under the debugger, their code
	// compiled under the file name source(code); events receives DAP events.
	DebugAttach(source func(code string) string, events func(event string, body any))
	// DebugDetach turns it off, clearing breakpoints and resuming a stopped cell.
	DebugDetach()
	// DebugStopped lists the stopped threads.
	DebugStopped() []int
	// Debug serves one DAP request and returns its response body.
	Debug(command string, args json.RawMessage) (body any, err error)
}

// debugHashSeed is the Murmur2 seed of cell file names (ipykernel's, so a
// client that assumed it still agrees).
const debugHashSeed = 0xC70F6907

// debugger is the kernel's side of the debugger.
type debugger struct {
	mu       sync.Mutex
	seq      int
	attached bool
	bps      map[string]json.RawMessage // setBreakpoints' breakpoints by file (debugInfo)
}

func (d *debugger) nextSeq() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	return d.seq
}

// debugDir is where dumpCell writes cells.
func debugDir() string { return filepath.Join(os.TempDir(), fmt.Sprintf("golem_%d", os.Getpid())) }

// cellFile is the file of a cell's code: the name JupyterLab computes from
// debugInfo's hash parameters.
func cellFile(code string) string {
	return filepath.Join(debugDir(), strconv.FormatUint(uint64(murmur2([]byte(code), debugHashSeed)), 10)+".go")
}

// murmur2 is MurmurHash2 (32-bit, Austin Appleby) of data, as JupyterLab's
// debugger hashes a cell's UTF-8 code.
func murmur2(data []byte, seed uint32) uint32 {
	const m = 0x5bd1e995
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// debugEvent publishes a DAP event on IOPub.
func (k *kernel) debugEvent(event string, body any) {
	k.publish(k.outputParent(), "debug_event", map[string]any{
		"seq": k.debug.nextSeq(), "type": "event", "event": event, "body": body,
	})
}

// debuggerAvailable is kernel_info's "debugger": true unless the interpreter,
// once started, turns out not to be a DebugInterpreter.
func (k *kernel) debuggerAvailable() bool {
	select {
	case <-k.interpReady:
		_, ok := k.interp.(DebugInterpreter)
		return ok
	default:
		return true
	}
}

func debugRequest(k *kernel, ch channel, m *Message) error {
	var req struct {
		Seq       int             `json:"seq"`
		Command   string          `json:"command"`
		Arguments json.RawMessage `json:"arguments"`
	}
	resp := map[string]any{"type": "response", "success": true}
	body, err := any(nil), decode(m, &req)
	if err == nil && req.Command == "" {
		err = errors.New("debug_request content has no command")
	}
	if err == nil {
		body, err = k.serveDebug(req.Command, req.Arguments)
	}
	resp["seq"], resp["request_seq"], resp["command"] = k.debug.nextSeq(), req.Seq, req.Command
	if err != nil {
		resp["success"], resp["message"] = false, err.Error()
		k.log.Printf("%s: debug_request %s: %v", ch.name, req.Command, err)
	} else {
		if body == nil {
			body = map[string]any{}
		}
		resp["body"] = body
	}
	rerr := k.reply(ch, m, "debug_reply", resp)
	if err == nil && req.Command == "initialize" {
		k.debugEvent("initialized", map[string]any{})
	}
	return rerr
}

func (k *kernel) serveDebug(command string, args json.RawMessage) (any, error) {
	interp, err := k.interpreter()
	if err != nil {
		return nil, fmt.Errorf("the Go interpreter did not start: %v", err)
	}
	di, ok := interp.(DebugInterpreter)
	if !ok {
		return nil, errors.New("this kernel's interpreter has no debugger")
	}
	var a struct {
		Code   *string `json:"code"`
		Source struct {
			Path string `json:"path"`
		} `json:"source"`
		Breakpoints json.RawMessage `json:"breakpoints"`
	}
	if len(args) > 0 && string(args) != "null" {
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, fmt.Errorf("arguments of %s: %w", command, err)
		}
	}
	d := &k.debug
	switch command {
	case "initialize":
		return map[string]any{
			"supportsConfigurationDoneRequest": true,
			"supportsStepInTargetsRequest":     false,
			"supportsSetVariable":              false,
			"supportsConditionalBreakpoints":   false,
			"supportsEvaluateForHovers":        false,
			"exceptionBreakpointFilters":       []any{},
		}, nil
	case "attach":
		di.DebugAttach(cellFile, k.debugEvent)
		d.mu.Lock()
		d.attached = true
		d.mu.Unlock()
		return map[string]any{}, nil
	case "disconnect":
		di.DebugDetach()
		d.mu.Lock()
		d.attached, d.bps = false, nil
		d.mu.Unlock()
		return map[string]any{}, nil
	case "configurationDone", "setExceptionBreakpoints":
		return map[string]any{}, nil
	case "debugInfo":
		d.mu.Lock()
		defer d.mu.Unlock()
		bps := []map[string]any{}
		for path, b := range d.bps {
			bps = append(bps, map[string]any{"source": path, "breakpoints": b})
		}
		return map[string]any{
			"isStarted": d.attached, "hashMethod": "Murmur2", "hashSeed": debugHashSeed,
			"tmpFilePrefix": debugDir() + string(filepath.Separator), "tmpFileSuffix": ".go",
			"breakpoints": bps, "stoppedThreads": di.DebugStopped(), "richRendering": true,
			"exceptionPaths": []string{}, "copyToGlobals": false,
		}, nil
	case "dumpCell":
		if a.Code == nil {
			return nil, errors.New("dumpCell: arguments.code is missing")
		}
		path := cellFile(*a.Code)
		if err := os.MkdirAll(debugDir(), 0o700); err != nil {
			return nil, fmt.Errorf("dumpCell: %w", err)
		}
		if err := os.WriteFile(path, []byte(*a.Code), 0o600); err != nil {
			return nil, fmt.Errorf("dumpCell: %w", err)
		}
		return map[string]any{"sourcePath": path}, nil
	case "source":
		p := a.Source.Path
		if p == "" {
			return nil, errors.New("source: arguments.source.path is missing")
		}
		if filepath.Dir(p) != debugDir() || !strings.HasSuffix(p, ".go") {
			return nil, fmt.Errorf("source: %s is not a cell file of this kernel (%s)", p, debugDir())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		return map[string]any{"content": string(b)}, nil
	case "setBreakpoints":
		body, err := di.Debug(command, args)
		if err == nil {
			d.mu.Lock()
			if d.bps == nil {
				d.bps = map[string]json.RawMessage{}
			}
			if len(a.Breakpoints) == 0 || string(a.Breakpoints) == "[]" || string(a.Breakpoints) == "null" {
				delete(d.bps, a.Source.Path)
			} else {
				d.bps[a.Source.Path] = a.Breakpoints
			}
			d.mu.Unlock()
		}
		return body, err
	}
	return di.Debug(command, args)
}
