package functions

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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

// route is one entry of the host's dispatch table.
type route struct {
	method, path string // path in ServeMux / OpenAPI form: /functions/{name}
	public       bool   // served without an API key
	handle       func(h *Host, w http.ResponseWriter, r *http.Request)
}

// routes is the whole HTTP API; openapi.json documents exactly these.
var routes = []route{
	{"GET", "/_/health", true, (*Host).health},
	{"GET", "/_/ready", true, (*Host).ready},
	{"GET", "/metrics", true, func(h *Host, w http.ResponseWriter, r *http.Request) { h.metrics.handler().ServeHTTP(w, r) }},
	{"GET", "/openapi.json", true, func(h *Host, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDoc)
	}},
	{"GET", "/functions", false, (*Host).listFunctions},
	{"PUT", "/functions/{name}", false, (*Host).deployFunction},
	{"GET", "/functions/{name}", false, (*Host).getFunction},
	{"DELETE", "/functions/{name}", false, (*Host).deleteFunction},
	{"POST", "/functions/{name}", false, (*Host).callFunction},
	{"POST", "/jobs/{name}", false, (*Host).submitJob},
	{"GET", "/jobs/{id}", false, (*Host).getJob},
	{"DELETE", "/jobs/{id}", false, (*Host).cancelJob},
	{"GET", "/jobs/{id}/logs", false, (*Host).jobLogs},
}

// Routes lists the served routes as "METHOD /path/{param}".
func Routes() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.method + " " + r.path
	}
	return out
}

// Handler returns the host's HTTP API.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		rt := rt
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if !rt.public && !h.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="golem"`)
				writeError(w, http.StatusUnauthorized, api.Error{Error: "missing or wrong API key: send Authorization: Bearer <key>", Kind: api.KindAuth})
				return
			}
			rt.handle(h, w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: 200}
		mux.ServeHTTP(sw, r)
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

func hashKey(k string) [32]byte { return sha256.Sum256([]byte(k)) }

// authorized checks the bearer token in constant time against every key.
func (h *Host) authorized(r *http.Request) bool {
	if h.cfg.NoAuth {
		return true
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return false
	}
	got := hashKey(strings.TrimSpace(tok))
	match := 0
	for _, k := range h.keys {
		match |= subtle.ConstantTimeCompare(got[:], k[:])
	}
	return match == 1
}

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
	case "conflict":
		return http.StatusConflict, body
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

func (h *Host) listFunctions(w http.ResponseWriter, r *http.Request) {
	fs, err := h.List(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.FunctionList{Functions: fs})
}

func (h *Host) getFunction(w http.ResponseWriter, r *http.Request) {
	f, _, err := h.lookup(r.Context(), r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
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

func (h *Host) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	j.Seq = 0
	writeJSON(w, http.StatusOK, j)
}

func (h *Host) cancelJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	j.Seq = 0
	writeJSON(w, http.StatusOK, j)
}

func (h *Host) jobLogs(w http.ResponseWriter, r *http.Request) {
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
