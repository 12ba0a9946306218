package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
	"github.com/golem-lm/golem/functions/worker"
)

const testKey = "test-key-0123456789"

// TestMain doubles as the worker process: the hosts under test start this test
// binary with GOLEM_TEST_WORKER=1 as their `golem worker`.
func TestMain(m *testing.M) {
	if os.Getenv("GOLEM_TEST_WORKER") == "1" {
		if err := worker.RunProcess(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type testHost struct {
	h    *functions.Host
	url  string
	c    *client.Client
	stop func()
}

func workerConfig(cfg *functions.Config) {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cfg.WorkerCommand = []string{exe}
	cfg.WorkerEnv = []string{"GOLEM_TEST_WORKER=1"}
}

// startHost runs a host in this process on a loopback port.
func startHost(t testing.TB, cfg functions.Config) *testHost {
	t.Helper()
	workerConfig(&cfg)
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if len(cfg.APIKeys) == 0 && !cfg.NoAuth {
		cfg.APIKeys = []string{testKey}
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := functions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln, 5*time.Second) }()
	url := "http://" + ln.Addr().String()
	var once sync.Once
	th := &testHost{h: h, url: url, c: client.New(url, testKey)}
	th.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(th.stop)
	return th
}

func source(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".go"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// raw sends a request and returns the status and the decoded error body.
func raw(t *testing.T, method, url, key, ctype string, body []byte) (int, api.Error, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e api.Error
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &e)
	return resp.StatusCode, e, resp.Header
}

func hostErr(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a host error, got %v", err)
	}
	return e
}

func TestDeployAndCall(t *testing.T) {
	th := startHost(t, functions.Config{MaxBodyBytes: 64 << 10})
	c := th.c
	f, err := c.Deploy("upper", source(t, "upper"), api.Limits{TimeoutMS: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Signature, "context.Context") || f.Limits.TimeoutMS != 5000 || f.Dialect != "notebook" {
		t.Fatalf("deployed function %+v", f)
	}
	// The notebook dialect: golem's packages are there (cell/symbols).
	modern := "package m\n\nimport \"github.com/golem-lm/golem/display\"\n\n" +
		"func Handle(in []string) (any, error) {\n\treturn display.Table([]string{\"word\"}, [][]string{in})[\"text/html\"], nil\n}\n"
	if _, err := c.Deploy("modern", modern, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var m string
	if err := c.Call("modern", []string{"golem"}, &m); err != nil || !strings.Contains(m, "<td>golem</td>") {
		t.Fatalf("modern: %q %v", m, err)
	}
	var out struct {
		Upper string `json:"upper"`
		Words int    `json:"words"`
	}
	if err := c.Call("upper", map[string]any{"text": "hello function host"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Upper != "HELLO FUNCTION HOST" || out.Words != 3 {
		t.Fatalf("call gave %+v", out)
	}
	// Strict deploy through the raw-source form with query limits.
	code, e, _ := raw(t, "PUT", th.url+"/functions/upper-strict?strict=true&timeout_ms=3000", testKey, "text/x-go", []byte(source(t, "upper")))
	if code != http.StatusCreated {
		t.Fatalf("raw deploy: %d %+v", code, e)
	}

	cases := []struct {
		name, method, path, key, ctype string
		body                           []byte
		code                           int
		kind, field, msg               string
	}{
		{"no key", "POST", "/functions/upper", "", "", []byte(`{}`), 401, api.KindAuth, "", "API key"},
		{"wrong key", "POST", "/functions/upper", "wrong-key-123456", "", []byte(`{}`), 401, api.KindAuth, "", "API key"},
		{"bad JSON", "POST", "/functions/upper", testKey, "", []byte(`{"text": `), 400, api.KindInput, "", "not valid JSON"},
		{"wrong type", "POST", "/functions/upper", testKey, "", []byte(`{"text": 5}`), 400, api.KindInput, "text", `"text"`},
		{"unknown field strict", "POST", "/functions/upper-strict", testKey, "", []byte(`{"txt": "a"}`), 400, api.KindInput, "txt", `"txt"`},
		{"oversize", "POST", "/functions/upper", testKey, "", bytes.Repeat([]byte(" "), 65<<10), 413, api.KindLimit, "", "larger than the limit"},
		{"oversize deploy", "PUT", "/functions/big", testKey, "text/x-go", bytes.Repeat([]byte(" "), 65<<10), 413, api.KindLimit, "", "larger than the limit"},
		{"unknown function", "POST", "/functions/nope", testKey, "", []byte(`{}`), 404, api.KindNotFound, "", "no function"},
		{"does not compile", "PUT", "/functions/bad", testKey, "text/x-go", []byte("package bad\n\nfunc Handle(in int) (int, error) { return in + missing, nil }\n"), 400, api.KindCompile, "", "undefined: missing"},
		{"syntax error", "PUT", "/functions/bad", testKey, "text/x-go", []byte("package bad\n\nfunc Handle(in int) int { return in +\n"), 400, api.KindCompile, "", "function.go:"},
		{"no entry", "PUT", "/functions/bad", testKey, "text/x-go", []byte("package bad\n\nfunc Other() {}\n"), 400, api.KindCompile, "", "Handle"},
		{"bad shape", "PUT", "/functions/bad", testKey, "text/x-go", []byte("package bad\n\nfunc Handle(a, b int) int { return a }\n"), 400, api.KindCompile, "", "2 parameters"},
		{"bad name", "PUT", "/functions/Bad_Name", testKey, "text/x-go", []byte("package bad\n"), 400, api.KindInput, "name", "function name"},
		{"bad limit query", "PUT", "/functions/x?timeout_ms=soon", testKey, "text/x-go", []byte("package x\n"), 400, api.KindInput, "", "timeout_ms"},
		{"unknown deploy field", "PUT", "/functions/x", testKey, "application/json", []byte(`{"source":"package x","limit":{}}`), 400, api.KindInput, "", "unknown field"},
		{"user error", "POST", "/functions/upper", testKey, "", []byte(`{"fail": true}`), 500, api.KindUser, "", "asked to fail"},
		{"bad job input", "POST", "/jobs/upper", testKey, "", []byte(`{"steps": "x"}`), 400, api.KindInput, "steps", `"steps"`},
		{"bad callback", "POST", "/jobs/upper", testKey, "", []byte(`{}`), 400, api.KindInput, "X-Callback-Url", "X-Callback-Url"},
		{"no job", "GET", "/jobs/0123abc", testKey, "", nil, 404, api.KindNotFound, "", "no job"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, th.url+tc.path, bytes.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.name == "bad callback" {
				req.Header.Set("X-Callback-Url", "ftp://example")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e api.Error
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.code || e.Kind != tc.kind || e.Field != tc.field || !strings.Contains(e.Error, tc.msg) {
				t.Fatalf("got %d %+v; want %d kind %q field %q message containing %q", resp.StatusCode, e, tc.code, tc.kind, tc.field, tc.msg)
			}
		})
	}

	fs, err := c.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fs {
		if !f.Builtin {
			names = append(names, f.Name)
		}
	}
	if strings.Join(names, ",") != "modern,upper,upper-strict" {
		t.Fatalf("deployed functions %v", names)
	}
	got, err := c.Function("upper")
	if err != nil || got.Source != source(t, "upper") {
		t.Fatalf("GET function: %v %v", got, err)
	}
	if err := c.Remove("upper-strict"); err != nil {
		t.Fatal(err)
	}
	if e := hostErr(t, c.Call("upper-strict", map[string]any{}, nil)); e.Status != 404 {
		t.Fatalf("call after delete: %v", e)
	}
}

func TestJobProgressResultLogsCallback(t *testing.T) {
	th := startHost(t, functions.Config{})
	c := th.c
	if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	// A loopback receiver for X-Callback-Url.
	got := make(chan api.Job, 4)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cbSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var j api.Job
		_ = json.NewDecoder(r.Body).Decode(&j)
		if r.Header.Get("X-Call-Id") != j.ID {
			t.Errorf("callback X-Call-Id %q for job %q", r.Header.Get("X-Call-Id"), j.ID)
		}
		got <- j
	})}
	go cbSrv.Serve(ln)
	defer cbSrv.Close()

	in := map[string]any{"text": "a batch job", "steps": 6, "sleep_ms": 150}
	s, err := c.SubmitJob("upper", in, &client.SubmitOptions{IdempotencyKey: "batch-1", CallbackURL: "http://" + ln.Addr().String() + "/done"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SubmitJob("upper", in, &client.SubmitOptions{IdempotencyKey: "batch-1"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != s.ID || !again.Replayed {
		t.Fatalf("idempotent resubmission gave %+v, first %+v", again, s)
	}
	var seen []float64
	var j *api.Job
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		if j, err = c.Job(s.ID); err != nil {
			t.Fatal(err)
		}
		if j.Status == api.StatusRunning && (len(seen) == 0 || seen[len(seen)-1] != j.Progress) {
			seen = append(seen, j.Progress)
		}
		if api.Terminal(j.Status) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %s", j.Status)
		}
	}
	if j.Status != api.StatusSucceeded || string(j.Result) != `{"upper":"A BATCH JOB","words":3}` || j.Attempts != 1 {
		t.Fatalf("job %+v result %s", j, j.Result)
	}
	inBetween := 0
	for _, p := range seen {
		if p > 0 && p < 1 {
			inBetween++
		}
	}
	if inBetween < 2 {
		t.Fatalf("saw progress %v while running; want at least two values between 0 and 1", seen)
	}
	logs, err := c.Logs(s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if logs != "step 1\nstep 2\nstep 3\nstep 4\nstep 5\nstep 6\n" {
		t.Fatalf("logs %q", logs)
	}
	select {
	case cb := <-got:
		if cb.ID != s.ID || cb.Status != api.StatusSucceeded {
			t.Fatalf("callback %+v", cb)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
	}
	// A function error fails the job at once, without retries.
	fid, err := c.Submit("upper", map[string]any{"fail": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fj, err := c.Wait(fid, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if fj.Status != api.StatusFailed || fj.ErrorKind != api.KindUser || fj.Error != "asked to fail" || fj.Attempts != 1 {
		t.Fatalf("failing job %+v", fj)
	}
}

func TestCancel(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	running, err := c.Submit("upper", map[string]any{"text": "slow", "steps": 100, "sleep_ms": 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := c.Submit("upper", map[string]any{"text": "never runs"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := c.Job(running)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == api.StatusRunning && j.Progress > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job never ran: %+v", j)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, id := range []string{queued, running} {
		j, err := c.Cancel(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != api.StatusCancelled {
			t.Fatalf("cancel answered %+v", j)
		}
	}
	if e := hostErr(t, func() error { _, err := c.Cancel(running); return err }()); e.Status != http.StatusConflict {
		t.Fatalf("second cancel: %v", e)
	}
	// The worker was killed and replaced: the single worker serves the next call
	// long before the cancelled job's 10 s would be over.
	start := time.Now()
	var out map[string]any
	for {
		// 429 until the killed call has given its concurrency slot back.
		err := c.Call("upper", map[string]any{"text": "after"}, &out)
		var e *client.Error
		if errors.As(err, &e) && e.Status == http.StatusTooManyRequests && time.Since(start) < 5*time.Second {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if time.Since(start) > 5*time.Second || out["upper"] != "AFTER" {
		t.Fatalf("call after cancel took %s: %v", time.Since(start), out)
	}
	for _, id := range []string{queued, running} {
		j, _ := c.Job(id)
		if j.Status != api.StatusCancelled || j.Result != nil {
			t.Fatalf("cancelled job later %+v", j)
		}
	}
}

func TestContainment(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 2})
	c := th.c
	for _, d := range []struct {
		name   string
		limits api.Limits
	}{
		{"loop", api.Limits{TimeoutMS: 700, MaxAttempts: 2}},
		{"hog", api.Limits{MemoryMB: 200, TimeoutMS: 30000}},
		{"gopanic", api.Limits{}},
		{"panicky", api.Limits{}},
		{"upper", api.Limits{}},
	} {
		if _, err := c.Deploy(d.name, source(t, d.name), d.limits); err != nil {
			t.Fatalf("deploy %s: %v", d.name, err)
		}
	}
	cases := []struct {
		fn     string
		status int
		kind   string
		msg    string
	}{
		{"loop", http.StatusGatewayTimeout, api.KindTimeout, "ran longer than 700ms"},
		{"hog", http.StatusBadGateway, api.KindMemory, "limit 200 MiB"},
		{"gopanic", http.StatusBadGateway, api.KindCrash, "boom in a goroutine"},
		{"panicky", http.StatusInternalServerError, api.KindPanic, "assignment to entry in nil map"},
	}
	for _, tc := range cases {
		t.Run(tc.fn, func(t *testing.T) {
			e := hostErr(t, c.Call(tc.fn, map[string]any{}, nil))
			if e.Status != tc.status || e.Body.Kind != tc.kind || !strings.Contains(e.Body.Error, tc.msg) {
				t.Fatalf("got %d %+v; want %d %s containing %q", e.Status, e.Body, tc.status, tc.kind, tc.msg)
			}
			// The host is unharmed and serves the next call.
			var out map[string]any
			if err := c.Call("upper", map[string]any{"text": "still here"}, &out); err != nil || out["upper"] != "STILL HERE" {
				t.Fatalf("call after %s: %v %v", tc.fn, out, err)
			}
		})
	}
	// A function that leaves a goroutine behind gets its worker replaced after the call.
	leaky := "package leaky\n\nimport \"time\"\n\nfunc Handle(in int) (int, error) {\n\tgo func() { time.Sleep(time.Hour) }()\n\treturn in, nil\n}\n"
	if _, err := c.Deploy("leaky", leaky, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.Call("leaky", 7, &n); err != nil || n != 7 {
		t.Fatalf("leaky: %d %v", n, err)
	}
	if m := metricsText(t, th.url, ""); !strings.Contains(m, `golem_worker_events_total{event="recycle"} 1`) {
		t.Errorf("no recycle in metrics:\n%s", m)
	}
	// As a job, the endless loop is retried up to its limit and then dead-lettered.
	id, err := c.Submit("loop", map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Wait(id, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != api.StatusDead || j.Attempts != 2 || j.ErrorKind != api.KindTimeout || !strings.Contains(j.Error, "gave up after 2 attempts") {
		t.Fatalf("looping job %+v", j)
	}
	dl, err := th.h.DeadLetters(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 || dl[0].ID != id || dl[0].Status != api.StatusDead {
		t.Fatalf("dead letters %+v", dl)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	th := startHost(t, functions.Config{})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	resp, err := http.Get(th.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range functions.Routes() {
		served[r] = true
		if !documented[r] {
			t.Errorf("route %s is served but not in openapi.json", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("openapi.json documents %s, which is not served", r)
		}
		// Each documented route answers something other than 404/405 for its
		// method (a made-up id or name may still be "not found" as JSON).
		method, path, _ := strings.Cut(r, " ")
		path = strings.NewReplacer("{name}", "nosuchfn", "{id}", "0abc").Replace(path)
		req, _ := http.NewRequest(method, th.url+path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && resp.Header.Get("Content-Type") != "application/json") {
			t.Errorf("%s %s: %d (%s), not served", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// Not documented is not served.
	req, _ := http.NewRequest("PATCH", th.url+"/functions/x", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH /functions/x: %v %v", resp.StatusCode, err)
	}
}

func TestReadyAndMetrics(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1, MaxInflight: 1})
	c := th.c
	if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Ready(); !ok || err != nil {
		t.Fatalf("ready %v %v", ok, err)
	}
	done := make(chan error)
	go func() { done <- c.Call("upper", map[string]any{"steps": 10, "sleep_ms": 100}, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := c.Ready()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/_/ready never answered 429 at the in-flight limit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e := hostErr(t, c.Call("upper", map[string]any{}, nil)); e.Status != http.StatusTooManyRequests {
		t.Fatalf("call over the in-flight limit: %v", e)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	body := []byte(metricsText(t, th.url, testKey))
	for _, want := range []string{`golem_function_calls_total{function="upper",mode="sync",outcome="ok"} 1`, `golem_http_requests_total{code="429"}`, "golem_inflight_calls 0"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Without a key, /metrics does not say which functions are deployed.
	public := metricsText(t, th.url, "")
	if strings.Contains(public, "upper") || !strings.Contains(public, "golem_inflight_calls 0") {
		t.Errorf("unauthenticated metrics name functions or lack the host's series:\n%s", public)
	}
}

// metricsText reads /metrics, with the key when it is not empty.
func metricsText(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestWorkerEnvAndResultLimit(t *testing.T) {
	t.Setenv("GOLEM_API_KEYS", "secret-key-abcdefgh")
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	env := "package env\n\nimport \"os\"\n\nfunc Handle() (string, error) {\n\treturn os.Getenv(\"GOLEM_API_KEYS\") + \"|\" + os.Getenv(\"HOME\"), nil\n}\n"
	if _, err := c.Deploy("env", env, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Call("env", nil, &got); err != nil || got != "|/tmp" { // the sandbox's HOME
		t.Fatalf("worker environment gave %q %v", got, err)
	}
	big := "package big\n\nimport \"strings\"\n\nfunc Handle(n int) (string, error) {\n\treturn strings.Repeat(\"x\", n), nil\n}\n"
	if _, err := c.Deploy("big", big, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	id, err := c.Submit("big", 9<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Wait(id, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != api.StatusFailed || j.ErrorKind != api.KindLimit || !strings.Contains(j.Error, "larger than") {
		t.Fatalf("oversized result: %+v", j)
	}
	// Synchronous calls stream any size back.
	var s string
	if err := c.Call("big", 9<<20, &s); err != nil || len(s) != 9<<20 {
		t.Fatalf("big sync result: %d %v", len(s), err)
	}
}

// TestCallbackRetries: a receiver that fails first gets the job again.
func TestCallbackRetries(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	if _, err := th.c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var codes []int
	got := make(chan api.Job, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if len(codes) == 0 {
			codes = append(codes, 503)
			w.WriteHeader(503)
			return
		}
		codes = append(codes, 200)
		var j api.Job
		_ = json.NewDecoder(r.Body).Decode(&j)
		got <- j
	})}
	go srv.Serve(ln)
	defer srv.Close()
	id, err := th.c.Submit("upper", map[string]any{"text": "cb"}, &client.SubmitOptions{CallbackURL: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case j := <-got:
		if j.ID != id || j.Status != api.StatusSucceeded || string(j.Result) != `{"upper":"CB","words":1}` {
			t.Fatalf("callback %+v", j)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no callback after a failed first attempt")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(codes) != 2 {
		t.Fatalf("callback attempts %v", codes)
	}
}
