package functions

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions/api"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document of the host's HTTP API.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// access says who may use a route.
type access int

const (
	public  access = iota // anyone; a valid key, if sent, is noted (metrics show more)
	withKey               // any valid key; the handler checks what it may see
	admin                 // a key with the admin scope
	invoke                // a key that may invoke the function {name}
	model                 // a key that may invoke the built-in generate (the OpenAI API)
)

// route is one entry of the host's dispatch table.
type route struct {
	method, path string // path in ServeMux / OpenAPI form: /functions/{name}
	access       access
	what         string // for a 403: "deploy functions"
	handle       func(h *Host, w http.ResponseWriter, r *http.Request)
}

// routes is the whole HTTP API; openapi.json documents exactly these.
var routes = []route{
	{"GET", "/_/health", public, "", (*Host).health},
	{"GET", "/_/ready", public, "", (*Host).ready},
	{"GET", "/metrics", public, "", (*Host).serveMetrics},
	{"GET", "/openapi.json", public, "", func(h *Host, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDoc)
	}},
	{"GET", "/functions", withKey, "", (*Host).listFunctions},
	{"PUT", "/functions/{name}", admin, "deploy functions", (*Host).deployFunction},
	{"GET", "/functions/{name}", withKey, "", (*Host).getFunction},
	{"DELETE", "/functions/{name}", admin, "remove functions", (*Host).deleteFunction},
	{"POST", "/functions/{name}", invoke, "", (*Host).callFunction},
	{"GET", "/functions/{name}/secrets", admin, "list secrets", (*Host).listSecrets},
	{"PUT", "/functions/{name}/secrets/{secret}", admin, "set secrets", (*Host).putSecret},
	{"DELETE", "/functions/{name}/secrets/{secret}", admin, "remove secrets", (*Host).deleteSecret},
	{"POST", "/jobs/{name}", invoke, "", (*Host).submitJob},
	{"GET", "/jobs/{id}", withKey, "", (*Host).getJob},
	{"DELETE", "/jobs/{id}", withKey, "", (*Host).cancelJob},
	{"GET", "/jobs/{id}/logs", withKey, "", (*Host).jobLogs},
	{"GET", "/v1/models", model, "", (*Host).listModels},
	{"GET", "/v1/models/{model}", model, "", (*Host).getModel},
	{"POST", "/v1/completions", model, "", (*Host).completions},
	{"GET", "/models/{model}/tokenizer_info", model, "", (*Host).tokenizerInfo},
	{"POST", "/models/{model}/tokenize", model, "", (*Host).tokenize},
	{"POST", "/models/{model}/detokenize", model, "", (*Host).detokenize},
	{"POST", "/models/{model}/v1/completions", model, "", (*Host).completionsFor},
}

// Routes lists the served routes as "METHOD /path/{param}".
func Routes() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.method + " " + r.path
	}
	return out
}

// Handler returns the host's HTTP API: each route's handler wrapped in the
// middleware its access needs, and the whole counted by status code.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		rt := rt
		var hf http.HandlerFunc = func(w http.ResponseWriter, r *http.Request) { rt.handle(h, w, r) }
		switch rt.access {
		case public:
			hf = h.optionalKey(hf)
		case withKey:
			hf = h.requireKey(hf)
		case admin:
			hf = h.requireKey(requireAdmin(rt.what, hf))
		case invoke:
			hf = h.requireKey(requireInvoke(hf))
		case model:
			hf = h.requireKey(requireModels(hf))
		}
		mux.HandleFunc(rt.method+" "+rt.path, hf)
	}
	return h.countStatus(mux)
}

// countStatus wraps next and counts its answers by status code.
func (h *Host) countStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: 200}
		next.ServeHTTP(sw, r)
		h.metrics.requests.WithLabelValues(strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets streamed answers (server-sent events) through.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, e api.Error) { writeJSON(w, code, e) }

// statusOf maps an error to its HTTP status and body.
func statusOf(err error) (int, api.Error) {
	var ce *CallError
	if !errors.As(err, &ce) {
		return http.StatusInternalServerError, api.Error{Error: err.Error(), Kind: api.KindInternal}
	}
	body := api.Error{Error: ce.Msg, Kind: ce.Kind, Field: ce.Field}
	switch ce.Kind {
	case api.KindInput, api.KindCompile:
		return http.StatusBadRequest, body
	case api.KindNotFound:
		return http.StatusNotFound, body
	case api.KindLimit:
		return http.StatusTooManyRequests, body
	case api.KindConflict:
		return http.StatusConflict, body
	case api.KindIdempotency:
		return http.StatusUnprocessableEntity, body
	case api.KindForbidden:
		return http.StatusForbidden, body
	case api.KindTimeout:
		return http.StatusGatewayTimeout, body
	case api.KindCrash, api.KindMemory:
		return http.StatusBadGateway, body
	case api.KindCanceled:
		return http.StatusServiceUnavailable, body
	}
	return http.StatusInternalServerError, body
}

func fail(w http.ResponseWriter, err error) {
	code, body := statusOf(err)
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, code, body)
}

// readBody reads a request body under the size limit; false means it answered.
func (h *Host) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, api.Error{Error: fmt.Sprintf("request body is larger than the limit of %d bytes", mb.Limit), Kind: api.KindLimit})
		} else {
			writeError(w, http.StatusBadRequest, api.Error{Error: "read request body: " + err.Error(), Kind: api.KindInput})
		}
		return nil, false
	}
	return b, true
}

func (h *Host) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "host": h.cfg.HostID})
}

func (h *Host) ready(w http.ResponseWriter, r *http.Request) {
	n := h.inflight.Load()
	switch {
	case !h.nc.IsConnected():
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "nats disconnected", "inflight": n})
	case n >= int64(h.cfg.MaxInflight):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": "at in-flight limit", "inflight": n, "limit": h.cfg.MaxInflight})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "inflight": n, "limit": h.cfg.MaxInflight})
	}
}

// listFunctions lists the functions the key may see: all for admin, invoke and
// jobs:read keys, those named in its invoke:NAME scopes otherwise.
func (h *Host) listFunctions(w http.ResponseWriter, r *http.Request) {
	fs, err := h.List(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	p := principalOf(r.Context())
	if !p.canSeeAll() {
		mine := fs[:0]
		for _, f := range fs {
			if p.canInvoke(f.Name) {
				mine = append(mine, f)
			}
		}
		fs = mine
	}
	writeJSON(w, http.StatusOK, api.FunctionList{Functions: fs})
}

// getFunction describes a function; its source only to admin keys.
func (h *Host) getFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p := principalOf(r.Context())
	if !p.canInvoke(name) && !p.jobsRead {
		fail(w, forbidden(p, "inspect function "+name, ScopeInvoke+":"+name))
		return
	}
	f, _, err := h.lookup(r.Context(), name)
	if err != nil {
		fail(w, err)
		return
	}
	c := *f
	if !p.admin {
		c.Source = ""
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Host) deleteFunction(w http.ResponseWriter, r *http.Request) {
	if err := h.Remove(r.Context(), r.PathValue("name")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deployFunction takes either a JSON api.DeployRequest or the Go source itself
// with limits in the query (timeout_ms, memory_mb, concurrency, max_attempts,
// strict, entry).
func (h *Host) deployFunction(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	var req api.DeployRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, api.Error{Error: "deploy request: " + err.Error(), Kind: api.KindInput})
			return
		}
	} else {
		q := r.URL.Query()
		req.Source, req.Entry = string(body), q.Get("entry")
		var err error
		num := func(key string) int64 {
			s := q.Get(key)
			if s == "" || err != nil {
				return 0
			}
			v, e := strconv.ParseInt(s, 10, 64)
			if e != nil {
				err = fmt.Errorf("query parameter %s=%q is not an integer", key, s)
			}
			return v
		}
		req.Limits = api.Limits{TimeoutMS: num("timeout_ms"), MemoryMB: num("memory_mb"), Concurrency: int(num("concurrency")), MaxAttempts: int(num("max_attempts"))}
		if s := q.Get("strict"); s != "" && err == nil {
			req.Strict, err = strconv.ParseBool(s)
			if err != nil {
				err = fmt.Errorf("query parameter strict=%q is not a boolean", s)
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, api.Error{Error: err.Error(), Kind: api.KindInput})
			return
		}
	}
	f, replaced, err := h.Deploy(r.Context(), r.PathValue("name"), req)
	if err != nil {
		fail(w, err)
		return
	}
	code := http.StatusCreated
	if replaced {
		code = http.StatusOK
	}
	f.Source = ""
	writeJSON(w, code, f)
}

func callID(r *http.Request) string {
	if id := r.Header.Get("X-Call-Id"); id != "" && len(id) <= 128 {
		return id
	}
	return newID()
}

// callFunction is a synchronous call: 200 with the function's JSON result.
func (h *Host) callFunction(w http.ResponseWriter, r *http.Request) {
	id := callID(r)
	w.Header().Set("X-Call-Id", id)
	name := r.PathValue("name")
	f, b, err := h.lookup(r.Context(), name)
	if err != nil {
		fail(w, err)
		return
	}
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	if n := h.inflight.Add(1); n > int64(h.cfg.MaxInflight) {
		h.inflight.Add(-1)
		fail(w, &CallError{Kind: api.KindLimit, Msg: fmt.Sprintf("host is at its in-flight limit (%d calls)", h.cfg.MaxInflight)})
		return
	}
	defer h.inflight.Add(-1)
	release, err := h.acquire(r.Context(), name, f.Limits.Concurrency, false)
	if err != nil {
		fail(w, err)
		return
	}
	defer release()
	start := time.Now()
	ctx := context.WithoutCancel(r.Context())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.Context(), cancel) // the client went away
	defer stop()
	out, err := h.invoke(ctx, f, b, body, nil, func(line string) { h.log.Debug("function output", "function", name, "call", id, "line", line) })
	d := time.Since(start)
	h.metrics.observe(name, "sync", err, d)
	w.Header().Set("X-Duration-Seconds", strconv.FormatFloat(d.Seconds(), 'f', 6, 64))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func (h *Host) submitJob(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	s, err := h.Submit(r.Context(), r.PathValue("name"), body, SubmitOptions{
		IdempotencyKey: r.Header.Get("Idempotency-Key"), CallbackURL: r.Header.Get("X-Callback-Url")})
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("X-Call-Id", s.ID)
	w.Header().Set("Location", "/jobs/"+s.ID)
	writeJSON(w, http.StatusAccepted, s)
}

// jobFor reads a job the request's key may read (or, with cancel, cancel).
func (h *Host) jobFor(r *http.Request, cancel bool) (api.Job, error) {
	j, err := h.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return j, err
	}
	p := principalOf(r.Context())
	switch {
	case cancel && !p.canInvoke(j.Function):
		return j, forbidden(p, "cancel jobs of "+j.Function, ScopeInvoke+":"+j.Function)
	case !p.canReadJob(j.Function):
		return j, forbidden(p, "read jobs of "+j.Function, ScopeJobsRead)
	}
	return j, nil
}

func (h *Host) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.jobFor(r, false)
	if err != nil {
		fail(w, err)
		return
	}
	j.Seq = 0
	writeJSON(w, http.StatusOK, j)
}

func (h *Host) cancelJob(w http.ResponseWriter, r *http.Request) {
	if _, err := h.jobFor(r, true); err != nil {
		fail(w, err)
		return
	}
	j, err := h.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	j.Seq = 0
	writeJSON(w, http.StatusOK, j)
}

func (h *Host) jobLogs(w http.ResponseWriter, r *http.Request) {
	if _, err := h.jobFor(r, false); err != nil {
		fail(w, err)
		return
	}
	lines, err := h.Logs(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, l := range lines {
		_, _ = io.WriteString(w, l+"\n")
	}
}
