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
	"github.com/golem-lm/golem/functions/models"
	"github.com/golem-lm/golem/functions/worker"
	"github.com/nats-io/nats.go/jetstream"
)

// Builtin is a function compiled into the host (an lmlib stage, package
// functions/builtin). It runs in the host process at native speed; it is trusted
// code, so it gets a timeout (through its context) but no memory limit of its own.
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

// Register adds a built-in function: the request body is decoded strictly into a
// new In, call's result is the JSON answer. It panics on a duplicate or bad name.
// Packages call it from init (functions/builtin registers lmlib's stages; a
// program that imports it serves them).
func Register[In, Out any](name, summary string, call func(ctx context.Context, in *In) (Out, error)) {
	b := Builtin{Name: name, Summary: summary, Input: reflect.TypeFor[In](),
		Call: func(ctx context.Context, in any) (any, error) { return call(ctx, in.(*In)) }}
	if !validName.MatchString(b.Name) || call == nil {
		panic("functions: bad builtin " + b.Name)
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if _, dup := builtins[b.Name]; dup {
		panic("functions: duplicate builtin " + b.Name)
	}
	builtins[b.Name] = &b
}

type modelsKey struct{}

// Models returns the model store of the host running a built-in's call (nil
// outside a host).
func Models(ctx context.Context) *models.Store {
	s, _ := ctx.Value(modelsKey{}).(*models.Store)
	return s
}

type filesKey struct{}

// Files returns the directory the host lets built-ins read and write files in
// (Config.FilesDir, `golem serve --files`), "" when it has none. Resolve request
// paths inside it with ConfinedPath.
func Files(ctx context.Context) string {
	s, _ := ctx.Value(filesKey{}).(string)
	return s
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

// effective fills zero limits from the host defaults and holds them to the
// ceilings (which an operator may have lowered since the deploy).
func (h *Host) effective(l api.Limits) api.Limits {
	l = h.fillDefaults(l)
	c := h.cfg.Ceilings
	l.TimeoutMS = min(l.TimeoutMS, c.TimeoutMS)
	l.MemoryMB = min(l.MemoryMB, c.MemoryMB)
	l.MaxAttempts = min(l.MaxAttempts, c.MaxAttempts)
	l.Concurrency = min(l.Concurrency, c.Concurrency)
	return l
}

// checkCeilings refuses limits above what the operator allows.
func (h *Host) checkCeilings(l api.Limits) error {
	c := h.cfg.Ceilings
	over := func(field string, v, ceiling int64, flag string) error {
		return &CallError{Kind: api.KindInput, Field: "limits." + field,
			Msg: fmt.Sprintf("limits.%s %d is above this host's ceiling of %d (golem serve %s)", field, v, ceiling, flag)}
	}
	switch {
	case l.TimeoutMS > c.TimeoutMS:
		return over("timeout_ms", l.TimeoutMS, c.TimeoutMS, "--max-timeout")
	case l.MemoryMB > c.MemoryMB:
		return over("memory_mb", l.MemoryMB, c.MemoryMB, "--max-memory")
	case l.MaxAttempts > c.MaxAttempts:
		return over("max_attempts", int64(l.MaxAttempts), int64(c.MaxAttempts), "--max-attempts")
	case l.Concurrency > c.Concurrency:
		return over("concurrency", int64(l.Concurrency), int64(c.Concurrency), "--max-inflight")
	}
	return nil
}

// fillDefaults fills zero limits from the host defaults.
func (h *Host) fillDefaults(l api.Limits) api.Limits {
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
	secrets, err := h.readSecrets(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	sf.Secrets = sortedKeys(secrets)
	bind := &binding{function: name, secrets: secrets, memoryMB: sf.Limits.MemoryMB}
	bind.key = bindingKey(&sf, secrets)
	h.fnMu.Lock()
	h.fnCache[name] = &cachedFunction{f: &sf, bind: bind, mask: newMasker(secrets), fetched: time.Now()}
	h.fnMu.Unlock()
	return &sf, nil, nil
}

type cachedFunction struct {
	f       *storedFunction
	bind    *binding // the workers this version (with these secrets) runs on
	mask    *masker  // hides its secrets in results, errors and logs
	fetched time.Time
}

// auxBinding is the compile-and-check worker's: it serves every function but
// never holds a secret.
var auxBinding = &binding{key: "aux"}

// bindingKey names one version of a function with one set of secrets: a worker
// bound to it serves nothing else.
func bindingKey(f *storedFunction, secrets map[string]string) string {
	hs := sha256.New()
	for _, k := range sortedKeys(secrets) {
		fmt.Fprintf(hs, "%s\x00%s\x00", k, secrets[k])
	}
	return fmt.Sprintf("%s@%s/%s/%d/%x", f.Name, f.SHA256, f.Entry, f.Limits.MemoryMB, hs.Sum(nil)[:8])
}

// cached returns the cache entry of a deployed function looked up just before.
func (h *Host) cached(name string) *cachedFunction {
	h.fnMu.RLock()
	defer h.fnMu.RUnlock()
	return h.fnCache[name]
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
	if l.MemoryMB > 0 && l.MemoryMB < 64 {
		return api.Function{}, false, &CallError{Kind: api.KindInput, Field: "limits.memory_mb", Msg: fmt.Sprintf("memory_mb %d is below the 64 MiB a worker needs", l.MemoryMB)}
	}
	if err := h.checkCeilings(l); err != nil {
		return api.Function{}, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := h.aux.call(cctx, auxBinding, worker.Request{ID: newID(), Op: worker.OpCompile, Source: req.Source, Entry: req.Entry, Timeout: 30 * time.Second}, nil, nil)
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
	secrets, err := h.readSecrets(ctx, name)
	if err != nil {
		return err
	}
	for k := range secrets {
		if err := h.secrets.Purge(ctx, name+"."+k); err != nil {
			return fmt.Errorf("delete secret %s of %s: %w", k, name, err)
		}
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
		ctx = context.WithValue(context.WithValue(ctx, modelsKey{}, h.models), filesKey{}, h.cfg.FilesDir)
		return runBuiltin(ctx, b, input, timeout, progress)
	}
	if err := validJSON(input); err != nil {
		return nil, err
	}
	c := h.cached(f.Name)
	if c == nil { // removed just now
		return nil, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("no function %q", f.Name)}
	}
	if logs != nil && c.mask != nil {
		next := logs
		logs = func(line string) { next(c.mask.text(line)) }
	}
	if progress != nil && c.mask != nil {
		next := progress
		progress = func(f float64, note string) { next(f, c.mask.text(note)) }
	}
	resp, err := h.pool.call(ctx, c.bind, worker.Request{ID: newID(), Op: worker.OpCall, Source: f.Source, Entry: f.Entry,
		Input: input, Strict: f.Strict, Timeout: timeout, MemoryMB: f.Limits.MemoryMB}, progress, logs)
	if err != nil {
		var ce *CallError
		if c.mask != nil && errors.As(err, &ce) {
			ce.Msg = c.mask.text(ce.Msg)
		}
		return nil, err
	}
	return c.mask.json(resp.Output), nil
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
	_, err := h.aux.call(ctx, auxBinding, worker.Request{ID: newID(), Op: worker.OpCheck, Source: f.Source, Entry: f.Entry, Input: input, Strict: f.Strict, Timeout: 30 * time.Second}, nil, nil)
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
