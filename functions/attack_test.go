package functions_test

// The adversarial suite of the function host (make test-security): each test is
// an attack by someone holding a valid key (or a function's author), and asserts
// that the attack fails, the host survives, and nothing is lost. docs/functions.md
// maps each to the layer that stops it.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

// fnSource is a deployed function with the given imports and body of
// func Handle(in Input) (string, error).
func fnSource(imports []string, input, body string) string {
	var b strings.Builder
	b.WriteString("package attack\n\nimport (\n")
	for _, i := range imports {
		fmt.Fprintf(&b, "\t%q\n", i)
	}
	b.WriteString(")\n\ntype Input struct {\n" + input + "\n}\n\nfunc Handle(in Input) (string, error) {\n" + body + "\n}\n")
	return b.String()
}

// stillServes fails the test unless the host answers a plain call.
func stillServes(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.Function("upper"); err != nil {
		if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
			t.Fatalf("host no longer deploys: %v", err)
		}
	}
	var out map[string]any
	if err := c.Call("upper", map[string]any{"text": "still here"}, &out); err != nil || out["upper"] != "STILL HERE" {
		t.Fatalf("host no longer serves: %v %v", out, err)
	}
}

// TestAttackKillHost: a function signals its parent and the host's own pid; as a
// job with huge max_attempts it would have killed every restarted host.
func TestAttackKillHost(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	src := fnSource([]string{"fmt", "os"}, "Pid int `json:\"pid\"`", `
	var res string
	for _, pid := range []int{os.Getppid(), in.Pid, 1} {
		p, err := os.FindProcess(pid)
		if err == nil {
			err = p.Kill()
		}
		res += fmt.Sprintf("kill %d: %v; ", pid, err)
	}
	return res, nil`)
	if _, err := c.Deploy("killer", src, api.Limits{MaxAttempts: 1_000_000}); err == nil || hostErr(t, err).Status != http.StatusBadRequest ||
		!strings.Contains(err.Error(), "limits.max_attempts 1000000 is above this host's ceiling of 10") {
		t.Fatalf("max_attempts 1000000 accepted: %v", err)
	}
	if _, err := c.Deploy("killer", src, api.Limits{MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	var res string
	err := c.Call("killer", map[string]int{"pid": os.Getpid()}, &res)
	t.Logf("killer: %q %v", res, err)
	if !strings.Contains(res, fmt.Sprintf("kill %d: os: process already finished", os.Getpid())) {
		t.Errorf("the host's pid is visible to the function: %q", res)
	}
	stillServes(t, c) // this test process is the host: had the kill worked, we would not be here
	id, err := c.Submit("killer", map[string]int{"pid": os.Getpid()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := c.Wait(id, time.Minute); err != nil || j.Status != api.StatusSucceeded {
		t.Fatalf("killer job: %+v %v", j, err)
	}
	stillServes(t, c)
}

// TestAttackCrashLoopDeadLetter: a job whose worker dies on every attempt is
// retried with backoff up to its attempts and then dead-lettered; the host lives.
func TestAttackCrashLoopDeadLetter(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	if _, err := c.Deploy("crasher", source(t, "gopanic"), api.Limits{MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	id, err := c.Submit("crasher", map[string]any{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Wait(id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != api.StatusDead || j.Attempts != 3 || j.ErrorKind != api.KindCrash {
		t.Fatalf("crash-looping job: %+v", j)
	}
	dl, err := th.h.DeadLetters(context.Background(), 10)
	if err != nil || len(dl) != 1 || dl[0].ID != id {
		t.Fatalf("dead letters %+v %v", dl, err)
	}
	stillServes(t, c)
}

// TestAttackReadKeysAndFiles: a function looks for the host's keys in every
// environment it can read, and reads and writes the host's data directory.
func TestAttackReadKeysAndFiles(t *testing.T) {
	const key = "host-admin-key-do-not-leak-0123"
	t.Setenv("GOLEM_API_KEYS", key)
	data := t.TempDir()
	th := startHost(t, functions.Config{Workers: 1, DataDir: data, APIKeys: []string{key}})
	c := client.New(th.url, key)
	src := fnSource([]string{"fmt", "os", "strings"}, "Data string `json:\"data\"`", `
	var b strings.Builder
	fmt.Fprintf(&b, "env=%q\n", os.Environ())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if env, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil {
			fmt.Fprintf(&b, "proc %s environ=%q\n", e.Name(), env)
		}
		if cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil {
			fmt.Fprintf(&b, "proc %s cmdline=%q\n", e.Name(), cmd)
		}
	}
	_, err := os.ReadDir(in.Data)
	fmt.Fprintf(&b, "readdir=%v\n", err)
	err = os.WriteFile(in.Data+"/pwned", []byte("x"), 0o644)
	fmt.Fprintf(&b, "write=%v\n", err)
	_, err = os.ReadFile("/etc/shadow")
	fmt.Fprintf(&b, "shadow=%v\n", err)
	return b.String(), nil`)
	if _, err := c.Deploy("snoop", src, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var res string
	if err := c.Call("snoop", map[string]string{"data": data}, &res); err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if strings.Contains(res, key) {
		t.Errorf("the function found the host's API key:\n%s", res)
	}
	for _, want := range []string{"readdir=open " + data + ": no such file or directory", "write=open " + data + "/pwned: no such file or directory", "shadow=open /etc/shadow: no such file or directory"} {
		if !strings.Contains(res, want) {
			t.Errorf("want %q in:\n%s", want, res)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "pwned")); err == nil {
		t.Error("the function wrote into the host's data directory")
	}
	stillServes(t, c)
}

// TestAttackChildProcesses: limits hold for the function's children: memory (a
// child allocating 600 MB under a 200 MiB limit), process count (a fork bomb),
// and no child outlives its worker.
func TestAttackChildProcesses(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	run := func(name, src string, limits api.Limits) (string, error) {
		t.Helper()
		if _, err := c.Deploy(name, src, limits); err != nil {
			t.Fatal(err)
		}
		var res string
		err := c.Call(name, map[string]any{}, &res)
		t.Logf("%s: %q %v", name, res, err)
		return res, err
	}
	startAndWait := `
	p, err := os.StartProcess(in.Argv[0], in.Argv, &os.ProcAttr{Files: []*os.File{nil, os.Stdout, os.Stderr}})
	if err != nil {
		return "start: " + err.Error(), nil
	}
	st, err := p.Wait()
	return fmt.Sprint("child: ", st, err), nil`
	if _, err := c.Deploy("spawn", fnSource([]string{"fmt", "os"}, "Argv []string `json:\"argv\"`", startAndWait), api.Limits{MemoryMB: 200}); err != nil {
		t.Fatal(err)
	}
	var res string
	err := c.Call("spawn", map[string]any{"argv": []string{"/usr/bin/perl", "-e", `my $x = "x" x (600*1024*1024); print length($x), "\n"`}}, &res)
	t.Logf("child allocation: %q %v", res, err)
	if err == nil && !strings.Contains(res, "signal: killed") {
		t.Errorf("a child allocated 600 MB under a 200 MiB limit: %q", res)
	}
	if err != nil && hostErr(t, err).Body.Kind != api.KindMemory {
		t.Errorf("child allocation: want kind memory, got %v", err)
	}
	stillServes(t, c)

	bomb, _ := run("bomb", fnSource([]string{"fmt", "os"}, "", `
	n := 0
	var err error
	for n < 2000 {
		if _, err = os.StartProcess("/usr/bin/sleep", []string{"sleep", "2929"}, &os.ProcAttr{}); err != nil {
			break
		}
		n++
	}
	return fmt.Sprintf("started=%d err=%v", n, err), nil`), api.Limits{})
	var n int
	fmt.Sscanf(bomb, "started=%d", &n)
	if n >= 256 || !strings.Contains(bomb, "resource temporarily unavailable") {
		t.Errorf("fork bomb not bounded by pids.max 256: %q", bomb)
	}
	stillServes(t, c)
	// The bomb's sleepers died with its worker, which the host recycled.
	if left := countProcesses("sleep\x002929\x00"); left > 0 {
		time.Sleep(2 * time.Second)
		if left = countProcesses("sleep\x002929\x00"); left > 0 {
			t.Errorf("%d of the bomb's processes outlived its worker", left)
		}
	}
}

// countProcesses counts processes whose NUL-separated command line contains s.
func countProcesses(s string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(s)) {
			n++
		}
	}
	return n
}

// TestAttackEscapeOutlivesHost: a function starts a child in its own session, and
// the host is then killed with SIGKILL; the child must die too.
func TestAttackEscapeOutlivesHost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a golem serve process")
	}
	addr := freeAddr(t)
	cmd := serveProcess(t, addr, "--data", t.TempDir(), "--workers", "1")
	c := client.New("http://"+addr, testKey)
	// The function starts the child and keeps running, so that the host is killed
	// while both live (after a call the host recycles a worker that left
	// processes behind, which kills them).
	src := fnSource([]string{"os", "time"}, "", `
	_, err := os.StartProcess("/usr/bin/setsid", []string{"setsid", "/usr/bin/sleep", "31337"}, &os.ProcAttr{})
	if err != nil {
		return "", err
	}
	time.Sleep(time.Minute)
	return "started", nil`)
	if _, err := c.Deploy("escape", src, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit("escape", nil, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for countProcesses("sleep\x0031337") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the escape child never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = cmd.Process.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for countProcesses("sleep\x0031337") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("a setsid child of a function outlived the killed host")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAttackNetwork: a function reaches for the host's own API and the outside.
func TestAttackNetwork(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	src := fnSource([]string{"fmt", "net", "time"}, "Addr string `json:\"addr\"`", `
	_, err1 := net.DialTimeout("tcp", in.Addr, 2*time.Second)
	_, err2 := net.DialTimeout("tcp", "192.0.2.1:80", 2*time.Second)
	_, err3 := net.LookupHost("example.com")
	return fmt.Sprintf("host=%v out=%v dns=%v", err1 != nil, err2 != nil, err3 != nil), nil`)
	if _, err := c.Deploy("net", src, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	var res string
	if err := c.Call("net", map[string]string{"addr": strings.TrimPrefix(th.url, "http://")}, &res); err != nil {
		t.Fatal(err)
	}
	if res != "host=true out=true dns=true" {
		t.Fatalf("a function reached the network: %s", res)
	}
}

// TestAttackSecrets: a function's secret reaches only that function, and never
// shows in its results, errors, notes or logs; another function cannot read it;
// only admin keys manage secrets.
func TestAttackSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys")
	invokeKey := newKeyLine(t, keyFile, "invoke:owner,invoke:thief", "caller")
	th := startHost(t, functions.Config{Workers: 2, Keys: readKeys(t, keyFile)})
	admin := th.c
	const token = "s3cr3t-token-for-owner-only"
	owner := `package owner

import (
	"context"
	"fmt"

	"github.com/golem-lm/golem/functions/fn"
)

func Handle(ctx context.Context, in string) (string, error) {
	v, err := fn.Secret("token")
	if err != nil {
		return "", err
	}
	fmt.Println("the token is", v)
	fn.Progress(ctx, 0.5, "using "+v)
	if in == "fail" {
		return "", fmt.Errorf("cannot use %s", v)
	}
	return "token=" + v, nil
}
`
	if _, err := admin.Deploy("owner", owner, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	thief := fnSource([]string{"fmt", "os", "github.com/golem-lm/golem/functions/fn"}, "", `
	v, err := fn.Secret("token")
	ents, _ := os.ReadDir(os.Getenv("GOLEM_SECRETS_DIR"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	procs, _ := os.ReadDir("/proc")
	var found []string
	for _, p := range procs {
		if b, err := os.ReadFile("/proc/" + p.Name() + "/root/run/golem/secrets/token"); err == nil {
			found = append(found, string(b))
		}
	}
	return fmt.Sprintf("secret=%q err=%v dir=%v proc=%v", v, err, names, found), nil`)
	if _, err := admin.Deploy("thief", thief, api.Limits{}); err != nil {
		t.Fatal(err)
	}
	caller := client.New(th.url, invokeKey)
	if err := caller.SetSecret("owner", "token", token); err == nil || hostErr(t, err).Status != http.StatusForbidden {
		t.Fatalf("an invoke key set a secret: %v", err)
	}
	if err := admin.SetSecret("owner", "token", token); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetSecret("upper", "../x", "v"); err == nil || hostErr(t, err).Status == http.StatusOK {
		t.Fatalf("secret of a missing function or with a bad name accepted: %v", err)
	}
	f, err := caller.Function("owner")
	if err != nil || len(f.Secrets) != 1 || f.Secrets[0] != "token" || f.Source != "" {
		t.Fatalf("function as an invoker sees it: %+v %v", f, err)
	}
	var res string
	if err := caller.Call("owner", "ok", &res); err != nil || res != "token=[secret token]" {
		t.Fatalf("owner's result %q %v: want the value masked", res, err)
	}
	if err := caller.Call("owner", "fail", &res); err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "cannot use [secret token]") {
		t.Fatalf("owner's error: %v", err)
	}
	id, err := caller.Submit("owner", "ok", nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := caller.Wait(id, time.Minute)
	if err != nil || j.Status != api.StatusSucceeded || strings.Contains(string(j.Result), token) {
		t.Fatalf("owner's job: %+v %v", j, err)
	}
	logs, err := caller.Logs(id)
	if err != nil || strings.Contains(logs, token) || !strings.Contains(logs, "the token is [secret token]") {
		t.Fatalf("owner's logs %q %v", logs, err)
	}
	if err := caller.Call("thief", nil, &res); err != nil {
		t.Fatal(err)
	}
	t.Log("thief:", res)
	if strings.Contains(res, token) || !strings.Contains(res, `secret="" err=this function has no secret "token"`) || !strings.Contains(res, "dir=[]") {
		t.Fatalf("another function reached the secret: %s", res)
	}
	names, err := admin.Secrets("owner")
	if err != nil || len(names) != 1 {
		t.Fatalf("secrets of owner: %v %v", names, err)
	}
	if err := admin.RemoveSecret("owner", "token"); err != nil {
		t.Fatal(err)
	}
	if err := caller.Call("owner", "ok", &res); err == nil || !strings.Contains(err.Error(), `no secret "token"`) {
		t.Fatalf("after removing the secret: %q %v", res, err)
	}
}

// newKeyLine makes a key with scopes, appends its line to the key file and
// returns the secret.
func newKeyLine(t *testing.T, file, scopes, name string) string {
	t.Helper()
	secret, line, err := functions.NewKey(strings.Split(scopes, ","), name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, line)
	return secret
}

func readKeys(t *testing.T, file string) []functions.Key {
	t.Helper()
	keys, err := functions.ReadKeyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAttackScopes: each scope does what it says and no more.
func TestAttackScopes(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys")
	invokeUpper := newKeyLine(t, keyFile, "invoke:upper", "upper-caller")
	reader := newKeyLine(t, keyFile, "jobs:read", "dashboard")
	scraper := newKeyLine(t, keyFile, "metrics", "prometheus")
	th := startHost(t, functions.Config{Workers: 1, Keys: readKeys(t, keyFile)})
	admin := th.c
	for _, n := range []string{"upper", "hog"} {
		if _, err := admin.Deploy(n, source(t, n), api.Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	u, r, m := client.New(th.url, invokeUpper), client.New(th.url, reader), client.New(th.url, scraper)
	status := func(err error) int {
		if err == nil {
			return 200
		}
		return hostErr(t, err).Status
	}
	id, err := u.Submit("upper", map[string]any{"text": "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Wait(id, time.Minute); err != nil {
		t.Fatal(err)
	}
	fs, err := u.Functions()
	if err != nil || len(fs) != 1 || fs[0].Name != "upper" {
		t.Fatalf("an invoke:upper key lists %+v %v", fs, err)
	}
	for _, tc := range []struct {
		what string
		err  error
		want int
	}{
		{"invoke:upper calls upper", u.Call("upper", map[string]any{"text": "x"}, nil), 200},
		{"invoke:upper calls hog", u.Call("hog", map[string]any{}, nil), 403},
		{"invoke:upper deploys", func() error { _, err := u.Deploy("upper", source(t, "upper"), api.Limits{}); return err }(), 403},
		{"invoke:upper removes", u.Remove("upper"), 403},
		{"invoke:upper reads its job", func() error { _, err := u.Job(id); return err }(), 200},
		{"jobs:read reads a job", func() error { _, err := r.Job(id); return err }(), 200},
		{"jobs:read reads logs", func() error { _, err := r.Logs(id); return err }(), 200},
		{"jobs:read calls", r.Call("upper", map[string]any{}, nil), 403},
		{"jobs:read cancels", func() error { _, err := r.Cancel(id); return err }(), 403},
		{"metrics calls", m.Call("upper", map[string]any{}, nil), 403},
		{"metrics lists", func() error { _, err := m.Functions(); return err }(), 200},
	} {
		if got := status(tc.err); got != tc.want {
			t.Errorf("%s: %d (%v), want %d", tc.what, got, tc.err, tc.want)
		}
	}
	if got := metricsText(t, th.url, scraper); !strings.Contains(got, `function="upper"`) {
		t.Error("a metrics key does not see per-function series")
	}
	if got := metricsText(t, th.url, invokeUpper); strings.Contains(got, `function="upper"`) {
		t.Error("an invoke key sees per-function metrics")
	}
	// The scheme is case-insensitive; a wrong key is refused as before.
	for _, tc := range []struct {
		auth string
		want int
	}{{"bearer " + invokeUpper, 200}, {"BEARER " + invokeUpper, 200}, {"Bearer wrong-key-0123456789", 401}, {"Basic " + invokeUpper, 401}, {"Bearer", 401}} {
		req, _ := http.NewRequest("POST", th.url+"/functions/upper", strings.NewReader(`{"text":"x"}`))
		req.Header.Set("Authorization", tc.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: %d, want %d", strings.SplitN(tc.auth, " ", 2)[0], resp.StatusCode, tc.want)
		}
	}
}

// TestAttackLimits: deploy limits above the operator's ceilings, an idempotency
// key reused with another body, and what /metrics tells an anonymous caller.
func TestAttackLimits(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1, Ceilings: api.Limits{TimeoutMS: 60_000, MemoryMB: 2048, MaxAttempts: 5}})
	c := th.c
	for _, tc := range []struct {
		limits api.Limits
		want   string
	}{
		{api.Limits{MemoryMB: 1_000_000}, "limits.memory_mb 1000000 is above this host's ceiling of 2048 (golem serve --max-memory)"},
		{api.Limits{TimeoutMS: 999_999_999_999}, "limits.timeout_ms 999999999999 is above this host's ceiling of 60000 (golem serve --max-timeout)"},
		{api.Limits{MaxAttempts: 1_000_000}, "limits.max_attempts 1000000 is above this host's ceiling of 5 (golem serve --max-attempts)"},
		{api.Limits{MemoryMB: 16}, "memory_mb 16 is below the 64 MiB a worker needs"},
	} {
		_, err := c.Deploy("upper", source(t, "upper"), tc.limits)
		if err == nil || hostErr(t, err).Status != http.StatusBadRequest || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploy with %+v: %v; want 400 %q", tc.limits, err, tc.want)
		}
	}
	if _, err := c.Deploy("upper", source(t, "upper"), api.Limits{}); err != nil {
		t.Fatal(err)
	}
	opts := &client.SubmitOptions{IdempotencyKey: "batch-1"}
	first, err := c.SubmitJob("upper", map[string]any{"text": "a"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SubmitJob("upper", map[string]any{"text": "a"}, opts)
	if err != nil || again.ID != first.ID || !again.Replayed {
		t.Fatalf("same key, same body: %+v %v", again, err)
	}
	_, err = c.SubmitJob("upper", map[string]any{"text": "b"}, opts)
	if err == nil || hostErr(t, err).Status != http.StatusUnprocessableEntity || hostErr(t, err).Body.Kind != api.KindIdempotency {
		t.Fatalf("same key, another body: %v; want 422", err)
	}
	if _, err := c.Wait(first.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if m := metricsText(t, th.url, ""); strings.Contains(m, "upper") {
		t.Errorf("anonymous /metrics names deployed functions")
	}
}
