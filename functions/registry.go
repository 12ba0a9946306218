package functions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/functions/worker"
	"github.com/nats-io/nats.go/jetstream"
)

// Builtin is a function compiled into the host (an lmlib stage). It runs in the
// host process at native speed; it is trusted code, so it gets a timeout (through
// its context) but no memory limit of its own.
type Builtin struct {
	Name    string
	Summary string
	// Input is the type the request body decodes into; Call receives a pointer to a
	// new value of it, already decoded.
	Input reflect.Type
	Call  func(ctx context.Context, input any) (any, error)
}

var (
	builtinMu sync.RWMutex
	builtins  = map[string]*Builtin{}
)

// RegisterBuiltin adds a built-in function; it panics on a duplicate or bad name.
// Packages call it from init.
func RegisterBuiltin(b Builtin) {
	if !validName.MatchString(b.Name) || b.Call == nil || b.Input == nil {
		panic("functions: bad builtin " + b.Name)
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if _, dup := builtins[b.Name]; dup {
		panic("functions: duplicate builtin " + b.Name)
	}
	builtins[b.Name] = &b
}

func builtin(name string) *Builtin {
	builtinMu.RLock()
	defer builtinMu.RUnlock()
	return builtins[name]
}

// Builtins lists the names of the built-in functions.
func Builtins() []string {
	builtinMu.RLock()
	defer builtinMu.RUnlock()
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

type storedFunction = api.Function

// effective fills zero limits from the host defaults.
func (h *Host) effective(l api.Limits) api.Limits {
	d := h.cfg.Defaults
	if l.TimeoutMS <= 0 {
		l.TimeoutMS = d.TimeoutMS
	}
	if l.MemoryMB <= 0 {
		l.MemoryMB = d.MemoryMB
	}
	if l.Concurrency <= 0 {
		l.Concurrency = d.Concurrency
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = d.MaxAttempts
	}
	return l
}

func builtinInfo(b *Builtin, l api.Limits) api.Function {
	return api.Function{Name: b.Name, Builtin: true, Summary: b.Summary, Limits: l,
		Signature: fmt.Sprintf("func(context.Context, %s) (any, error)", b.Input)}
}

// lookup finds a function by name: built-in, or deployed (cached for a second so
// a deploy on another host is seen within a second).
func (h *Host) lookup(ctx context.Context, name string) (*storedFunction, *Builtin, error) {
	if b := builtin(name); b != nil {
		f := builtinInfo(b, h.cfg.Defaults)
		return &f, b, nil
	}
	if !validName.MatchString(name) {
		return nil, nil, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("no function %q (names are lower-case letters, digits, - and _)", name)}
	}
	h.fnMu.RLock()
	c := h.fnCache[name]
	h.fnMu.RUnlock()
	if c != nil && time.Since(c.fetched) < time.Second {
		return c.f, nil, nil
	}
	e, err := h.fns.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		h.forget(name)
		return nil, nil, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("no function %q", name)}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read function %s: %w", name, err)
	}
	var sf storedFunction
	if err := json.Unmarshal(e.Value(), &sf); err != nil {
		return nil, nil, fmt.Errorf("decode function %s: %w", name, err)
	}
	sf.Limits = h.effective(sf.Limits)
	h.fnMu.Lock()
	h.fnCache[name] = &cachedFunction{f: &sf, fetched: time.Now()}
	h.fnMu.Unlock()
	return &sf, nil, nil
}

type cachedFunction struct {
	f       *storedFunction
	fetched time.Time
}

func (h *Host) forget(name string) {
	h.fnMu.Lock()
	delete(h.fnCache, name)
	h.fnMu.Unlock()
}

// Deploy compiles req.Source in a worker and stores the function. It returns the
// stored function and whether it replaced an existing one. A compile error is a
// *CallError of kind "compile" carrying the compiler's message.
func (h *Host) Deploy(ctx context.Context, name string, req api.DeployRequest) (api.Function, bool, error) {
	if !validName.MatchString(name) {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "name", Msg: fmt.Sprintf("function name %q: use 1-63 lower-case letters, digits, - and _, starting with a letter or digit", name)}
	}
	if builtin(name) != nil {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "name", Msg: fmt.Sprintf("function name %q is a built-in", name)}
	}
	if req.Source == "" {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "source", Msg: "source is empty"}
	}
	if req.Entry == "" {
		req.Entry = "Handle"
	}
	l := req.Limits
	if l.TimeoutMS < 0 || l.MemoryMB < 0 || l.Concurrency < 0 || l.MaxAttempts < 0 {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "limits", Msg: "limits must not be negative"}
	}
	if l.MemoryMB > 0 && l.MemoryMB < 32 {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "limits.memory_mb", Msg: fmt.Sprintf("memory_mb %d is below the 32 MiB a worker needs", l.MemoryMB)}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := h.aux.call(cctx, worker.Request{ID: newID(), Op: worker.OpCompile, Source: req.Source, Entry: req.Entry, Timeout: 30 * time.Second}, 2048, nil, nil)
	if err != nil {
		return api.Function{}, false, err
	}
	sum := sha256.Sum256([]byte(req.Source))
	now := time.Now().UTC()
	f := api.Function{Name: name, Entry: req.Entry, Signature: resp.Signature, Dialect: resp.Dialect, Limits: req.Limits, Strict: req.Strict,
		SHA256: hex.EncodeToString(sum[:]), Source: req.Source, Created: now, Updated: now}
	replaced := false
	if e, err := h.fns.Get(ctx, name); err == nil {
		var old api.Function
		if json.Unmarshal(e.Value(), &old) == nil {
			f.Created = old.Created
			replaced = true
		}
	}
	b, _ := json.Marshal(f)
	if _, err := h.fns.Put(ctx, name, b); err != nil {
		return api.Function{}, false, fmt.Errorf("store function %s: %w", name, err)
	}
	h.forget(name)
	f.Limits = h.effective(f.Limits)
	return f, replaced, nil
}

// Remove deletes a deployed function.
func (h *Host) Remove(ctx context.Context, name string) error {
	if builtin(name) != nil {
		return &CallError{Kind: api.KindInput, Field: "name", Msg: fmt.Sprintf("%q is a built-in and cannot be removed", name)}
	}
	if _, _, err := h.lookup(ctx, name); err != nil {
		return err
	}
	if err := h.fns.Delete(ctx, name); err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	h.forget(name)
	return nil
}

// List returns the built-in and deployed functions (without sources).
func (h *Host) List(ctx context.Context) ([]api.Function, error) {
	var out []api.Function
	for _, n := range Builtins() {
		out = append(out, builtinInfo(builtin(n), h.cfg.Defaults))
	}
	lister, err := h.fns.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for k := range lister.Keys() {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		f, _, err := h.lookup(ctx, n)
		if err != nil {
			continue // removed meanwhile
		}
		c := *f
		c.Source = ""
		out = append(out, c)
	}
	return out, nil
}

// acquire takes a slot of the function's concurrency limit. With wait false it
// fails at once when none is free.
func (h *Host) acquire(ctx context.Context, name string, limit int, wait bool) (func(), error) {
	h.limMu.Lock()
	sem := h.limits[name]
	if sem == nil || cap(sem) != limit {
		sem = make(chan struct{}, limit)
		h.limits[name] = sem
	}
	h.limMu.Unlock()
	if wait {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, &CallError{Kind: api.KindCanceled, Msg: "cancelled while waiting for a concurrency slot"}
		}
	} else {
		select {
		case sem <- struct{}{}:
		default:
			return nil, &CallError{Kind: api.KindLimit, Msg: fmt.Sprintf("function %s is at its concurrency limit (%d)", name, limit)}
		}
	}
	return func() { <-sem }, nil
}

// invoke runs a function once with the given input.
func (h *Host) invoke(ctx context.Context, f *storedFunction, b *Builtin, input []byte, progress func(float64, string), logs func(string)) (json.RawMessage, error) {
	timeout := time.Duration(f.Limits.TimeoutMS) * time.Millisecond
	if b != nil {
		return runBuiltin(context.WithValue(ctx, hostKey{}, h), b, input, timeout, progress)
	}
	if err := validJSON(input); err != nil {
		return nil, err
	}
	resp, err := h.pool.call(ctx, worker.Request{ID: newID(), Op: worker.OpCall, Source: f.Source, Entry: f.Entry,
		Input: input, Strict: f.Strict, Timeout: timeout, MemoryMB: f.Limits.MemoryMB}, f.Limits.MemoryMB, progress, logs)
	if err != nil {
		return nil, err
	}
	return resp.Output, nil
}

// check decodes input against the function's input type without running it.
func (h *Host) check(ctx context.Context, f *storedFunction, b *Builtin, input []byte) error {
	if b != nil {
		_, field, err := worker.DecodeInput(input, b.Input, true)
		if err != nil {
			return &CallError{Kind: api.KindInput, Field: field, Msg: err.Error()}
		}
		return nil
	}
	if err := validJSON(input); err != nil {
		return err
	}
	_, err := h.aux.call(ctx, worker.Request{ID: newID(), Op: worker.OpCheck, Source: f.Source, Entry: f.Entry, Input: input, Strict: f.Strict, Timeout: 30 * time.Second}, 2048, nil, nil)
	return err
}

type reporter func(float64, string)

func (r reporter) Progress(f float64, note string) { r(f, note) }

func runBuiltin(ctx context.Context, b *Builtin, input []byte, timeout time.Duration, progress func(float64, string)) (out json.RawMessage, err error) {
	v, field, err := worker.DecodeInput(input, b.Input, true)
	if err != nil {
		return nil, &CallError{Kind: api.KindInput, Field: field, Msg: err.Error()}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if progress != nil {
		ctx = fn.WithReporter(ctx, reporter(progress))
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &CallError{Kind: api.KindPanic, Msg: fmt.Sprintf("panic: %v", r)}
		}
	}()
	p := reflect.New(b.Input)
	p.Elem().Set(v)
	res, err := b.Call(ctx, p.Interface())
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, &CallError{Kind: api.KindTimeout, Msg: fmt.Sprintf("timeout: the call ran longer than %s", timeout)}
		}
		if ce := (*CallError)(nil); errors.As(err, &ce) {
			return nil, err
		}
		return nil, &CallError{Kind: api.KindUser, Msg: err.Error()}
	}
	enc, err := json.Marshal(res)
	if err != nil {
		return nil, &CallError{Kind: api.KindInternal, Msg: "encode result: " + err.Error()}
	}
	return enc, nil
}

// validJSON rejects a body that is neither empty nor one JSON value.
func validJSON(input []byte) error {
	if len(bytes.TrimSpace(input)) == 0 || json.Valid(input) {
		return nil
	}
	var v any
	err := json.Unmarshal(input, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &CallError{Kind: api.KindInput, Msg: fmt.Sprintf("input is not valid JSON (offset %d): %v", se.Offset, err)}
	}
	return &CallError{Kind: api.KindInput, Msg: fmt.Sprintf("input is not valid JSON: %v", err)}
}
