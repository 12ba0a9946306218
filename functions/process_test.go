package functions_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/builtin"
	"github.com/golem-lm/golem/functions/client"
	"github.com/golem-lm/golem/internal/assets"
	"github.com/nats-io/nats-server/v2/server"
)

// built holds the binaries the tests build: import path → *builtBinary.
var built sync.Map

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// buildBinary builds the main package at importPath once per test run (the
// module's pinned version for a dependency) and returns the binary's path.
func buildBinary(t *testing.T, importPath string) string {
	t.Helper()
	v, _ := built.LoadOrStore(importPath, &builtBinary{})
	b := v.(*builtBinary)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "golem-test-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(strings.TrimSuffix(importPath, "/v2")))
		if out, err := exec.Command("go", "build", "-o", b.path, importPath).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", importPath, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// golemBinary is the real golem binary, for the tests that need a `golem serve`
// process of their own.
func golemBinary(t *testing.T) string {
	return buildBinary(t, "github.com/golem-lm/golem/cmd/golem")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess starts `golem serve` and waits until it answers /_/health.
func serveProcess(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(golemBinary(t), append([]string{"serve", "--addr", addr, "--api-key", testKey}, args...)...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	procMu.Lock()
	procs[addr] = cmd.Process
	procMu.Unlock()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("golem serve %s log:\n%s", addr, b)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/_/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("golem serve on %s did not come up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// callbackCounter receives X-Callback-Url posts and counts them per job.
type callbackCounter struct {
	mu  sync.Mutex
	n   map[string]int
	url string
}

func newCallbackCounter(t *testing.T) *callbackCounter {
	cc := &callbackCounter{n: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var j api.Job
		_ = json.NewDecoder(r.Body).Decode(&j)
		cc.mu.Lock()
		cc.n[j.ID]++
		cc.mu.Unlock()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cc.url = "http://" + ln.Addr().String() + "/cb"
	return cc
}

// TestKillAndRestart kills -9 a golem serve with jobs queued and running, starts it
// again on the same data directory, and checks that no job is lost and that each
// finishes exactly once from the user's point of view: resubmitting with the same
// idempotency keys gives the same jobs, each ends succeeded with one result, and
// each callback arrives once. Then SIGTERM: running jobs go back to the queue
// without losing an attempt and finish after the next start.
func TestKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts golem serve processes")
	}
	data := t.TempDir()
	addr := freeAddr(t)
	args := []string{"--data", data, "--workers", "2", "--ack-wait", "2s", "--attempts", "3"}
	host := serveProcess(t, addr, args...)
	c := client.New("http://"+addr, testKey)
	if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	cb := newCallbackCounter(t)
	const n = 8
	ids := make([]string, n)
	submit := func(i int) *api.Submitted {
		s, err := c.SubmitJob("upper", map[string]any{"text": fmt.Sprintf("job %d", i), "steps": 8, "sleep_ms": 100},
			&client.SubmitOptions{IdempotencyKey: fmt.Sprintf("batch-%d", i), CallbackURL: cb.url})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		return s
	}
	for i := range ids {
		ids[i] = submit(i).ID
	}
	// Kill once two jobs run (and the rest wait in the queue).
	deadline := time.Now().Add(20 * time.Second)
	for {
		running := 0
		for _, id := range ids {
			if j, err := c.Job(id); err == nil && j.Status == api.StatusRunning && j.Progress > 0 {
				running++
			}
		}
		if running == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("jobs never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	workers := workersOf(t, host.Process.Pid)
	if len(workers) != 3 { // --workers 2 and the compile helper
		t.Fatalf("%d worker processes before the kill; want 3", len(workers))
	}
	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = host.Process.Wait()
	// Its workers die with it (their sandboxes die with their parent): no orphan
	// keeps running user code.
	deadline = time.Now().Add(5 * time.Second)
	for left := stillWorkers(workers); len(left) > 0; left = stillWorkers(workers) {
		if time.Now().After(deadline) {
			t.Fatalf("worker processes %v outlived their killed host", left)
		}
		time.Sleep(20 * time.Millisecond)
	}

	serveProcess(t, addr, args...)
	// The client did not see its answers: it submits everything again.
	for i := range ids {
		s := submit(i)
		if s.ID != ids[i] || !s.Replayed {
			t.Fatalf("resubmission %d gave %+v, first id %s", i, s, ids[i])
		}
	}
	retried := 0
	for i, id := range ids {
		j, err := c.Wait(id, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"upper":"JOB %d","words":2}`, i)
		if j.Status != api.StatusSucceeded || string(j.Result) != want {
			t.Fatalf("job %d after restart: %+v %s", i, j, j.Result)
		}
		if j.Attempts > 1 {
			retried++
		}
	}
	if retried < 2 {
		t.Errorf("%d jobs were retried; the two running at the kill should have been", retried)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		cb.mu.Lock()
		total, ok := 0, true
		for _, id := range ids {
			total += cb.n[id]
			ok = ok && cb.n[id] == 1
		}
		cb.mu.Unlock()
		if ok && total == n {
			break
		}
		if time.Now().After(deadline) || total > n {
			t.Fatalf("callbacks per job %v; want each of %d jobs once", cb.n, n)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Graceful stop: SIGTERM while two jobs run and one waits.
	var more []string
	for i := 0; i < 3; i++ {
		id, err := c.Submit("upper", map[string]any{"text": "drain", "steps": 30, "sleep_ms": 100}, nil)
		if err != nil {
			t.Fatal(err)
		}
		more = append(more, id)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		j0, _ := c.Job(more[0])
		j1, _ := c.Job(more[1])
		if j0 != nil && j1 != nil && j0.Status == api.StatusRunning && j1.Status == api.StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("drain jobs never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	second := findServe(t, addr)
	// A sync call in flight when SIGTERM comes is drained, not cut off.
	syncDone := make(chan error, 1)
	go func() {
		var out map[string]any
		err := c.Call("upper", map[string]any{"text": "drained", "steps": 10, "sleep_ms": 100}, &out)
		if err == nil && out["upper"] != "DRAINED" {
			err = fmt.Errorf("drained call gave %v", out)
		}
		syncDone <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := second.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-syncDone; err != nil {
		t.Fatalf("sync call during SIGTERM: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/_/health"); err == nil {
		t.Fatal("still accepting after SIGTERM")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("SIGTERM took %s", d)
	}
	serveProcess(t, addr, args...)
	for _, id := range more {
		j, err := c.Wait(id, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != api.StatusSucceeded || j.Attempts != 1 {
			t.Fatalf("job after SIGTERM and restart: %+v", j)
		}
	}
}

var (
	procMu sync.Mutex
	procs  = map[string]*os.Process{}
)

// findServe returns the process of the last golem serve started on addr.
func findServe(t *testing.T, addr string) *os.Process {
	procMu.Lock()
	defer procMu.Unlock()
	p := procs[addr]
	if p == nil {
		t.Fatalf("no golem serve on %s", addr)
	}
	return p
}

// TestScaleOut runs two hosts against one external NATS server (started here from
// the nats-server module on a loopback port): a function deployed on one is served by
// both, and a batch of jobs is shared between them.
func TestScaleOut(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	// A short AckWait: a job running longer stays with its host only through heartbeats.
	a := startHost(t, functions.Config{NatsURL: ns.ClientURL(), HostID: "host-a", Workers: 2, AckWait: time.Second})
	b := startHost(t, functions.Config{NatsURL: ns.ClientURL(), HostID: "host-b", Workers: 2, AckWait: time.Second})
	if _, err := a.c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := b.c.Call("upper", map[string]any{"text": "deployed on a"}, &out); err != nil || out["upper"] != "DEPLOYED ON A" {
		t.Fatalf("call on b: %v %v", out, err)
	}
	long, err := a.c.Submit("upper", map[string]any{"text": "long", "steps": 35, "sleep_ms": 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var ids []string
	for i := 0; i < n; i++ {
		c := a.c
		if i%2 == 1 {
			c = b.c
		}
		id, err := c.Submit("upper", map[string]any{"text": "shared", "steps": 2, "sleep_ms": 100}, &client.SubmitOptions{IdempotencyKey: fmt.Sprint("k", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Idempotency keys are shared too.
	if s, err := b.c.SubmitJob("upper", map[string]any{"text": "shared", "steps": 2, "sleep_ms": 100}, &client.SubmitOptions{IdempotencyKey: "k0"}); err != nil || s.ID != ids[0] || !s.Replayed {
		t.Fatalf("idempotent resubmission on the other host: %+v %v", s, err)
	}
	// ... and so is the body they were used with.
	if _, err := b.c.SubmitJob("upper", map[string]any{"text": "other"}, &client.SubmitOptions{IdempotencyKey: "k0"}); err == nil || hostErr(t, err).Status != http.StatusUnprocessableEntity {
		t.Fatalf("idempotency key reused with another body on the other host: %v", err)
	}
	perHost := map[string]int{}
	for _, id := range ids {
		j, err := a.c.Wait(id, 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != api.StatusSucceeded {
			t.Fatalf("job %+v", j)
		}
		perHost[j.Host]++
	}
	if perHost["host-a"] == 0 || perHost["host-b"] == 0 || perHost["host-a"]+perHost["host-b"] != n {
		t.Fatalf("jobs per host %v; want both hosts to work", perHost)
	}
	t.Logf("jobs per host: %v", perHost)
	// A model trained on one host is served by the other (shared object store).
	path, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr builtin.TrainOutput
	if err := a.c.Call("train", builtin.TrainInput{Model: "shared", Text: string(text[20000:40000]), Layers: 1, Heads: 2, Width: 16,
		ContextLen: 16, Batch: 4, MaxSteps: 10}, &tr); err != nil {
		t.Fatal(err)
	}
	var g builtin.GenerateOutput
	if err := b.c.Call("generate", builtin.GenerateInput{Model: "shared", Prompt: "Light", MaxTokens: 5}, &g); err != nil || len(g.Tokens) == 0 {
		t.Fatalf("generate on the other host: %+v %v", g, err)
	}
	j, err := a.c.Wait(long, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != api.StatusSucceeded || j.Attempts != 1 {
		t.Fatalf("a job 3.5 times longer than AckWait: %+v", j)
	}
	if !strings.HasPrefix(ns.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("NATS not on loopback: %s", ns.ClientURL())
	}
}

// TestCLI drives golem deploy, call and jobs against a golem serve process.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a golem serve process")
	}
	addr := freeAddr(t)
	serveProcess(t, addr, "--data", t.TempDir(), "--workers", "1")
	bin := golemBinary(t)
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GOLEM_URL=http://"+addr, "GOLEM_API_KEY="+testKey)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("golem %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(true, "deploy", "--timeout", "5s", "upper", "testdata/upper.go")
	if out := run(true, "call", "upper", `{"text":"from the cli"}`); strings.TrimSpace(out) != `{"upper":"FROM THE CLI","words":3}` {
		t.Fatalf("call: %q", out)
	}
	out := run(true, "jobs", "submit", "--wait", "--idempotency-key", "cli-1", "upper", `{"text":"job","steps":2}`)
	var j api.Job
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.Status != api.StatusSucceeded {
		t.Fatalf("jobs submit --wait: %q %v", out, err)
	}
	if logs := run(true, "jobs", "logs", j.ID); logs != "step 1\nstep 2\n" {
		t.Fatalf("jobs logs: %q", logs)
	}
	if got := run(true, "jobs", "get", j.ID); !strings.Contains(got, `"status": "succeeded"`) {
		t.Fatalf("jobs get: %q", got)
	}
	if got := run(false, "call", "--key", "not-the-key", "upper", `{}`); !strings.Contains(got, "401") {
		t.Fatalf("call with a wrong key: %q", got)
	}
	if got := run(false, "call", "upper", `{"text":`); !strings.Contains(got, "not valid JSON") {
		t.Fatalf("call with bad JSON: %q", got)
	}
	if got := run(false, "deploy", "bad", "testdata/gen_tokenize.py"); !strings.Contains(got, "400") {
		t.Fatalf("deploy of a non-Go file: %q", got)
	}
	// serve refuses to start without a key.
	cmd := exec.Command(bin, "serve", "--addr", freeAddr(t), "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "GOLEM_API_KEYS=")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "no API key") {
		t.Fatalf("serve without a key: %v %s", err, b)
	}
}

// workersOf returns the pids of the `golem worker` processes that descend from
// the host process pid (through the sandbox's trampoline and bubblewrap).
func workersOf(t *testing.T, host int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	parent := map[int]int{}
	var candidates []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: the fields after the last ')'.
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 2 || f[0] == "Z" {
			continue // a zombie is dead already
		}
		parent[pid], _ = strconv.Atoi(f[1])
		if isWorker(pid) {
			candidates = append(candidates, pid)
		}
	}
	var out []int
	for _, pid := range candidates {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == host {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// isWorker reports whether pid runs `golem worker` (a sandboxed worker runs as
// /run/golem/worker, see package sandbox).
func isWorker(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	args := strings.Split(string(b), "\x00")
	return err == nil && len(args) >= 2 && args[1] == "worker"
}

// stillWorkers returns those of pids that still run a worker.
func stillWorkers(pids []int) []int {
	var out []int
	for _, pid := range pids {
		if st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil && !strings.Contains(string(st), ") Z ") && isWorker(pid) {
			out = append(out, pid)
		}
	}
	return out
}
