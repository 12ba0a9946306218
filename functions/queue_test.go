package functions_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/builtin"
	"github.com/golem-lm/golem/functions/client"
	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
)

// natsServerBinary is the real nats-server of the pinned module (the one go.mod
// requires).
func natsServerBinary(t *testing.T) string {
	return buildBinary(t, "github.com/nats-io/nats-server/v2")
}

// natsServerProcess starts a nats-server process with JetStream on a loopback
// port and returns its URL.
func natsServerProcess(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(natsServerBinary(t), "-a", host, "-p", port, "-js", "-sd", t.TempDir())
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "nats://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queueCorpus writes 12 JSONL shards under dir/in: groups of three Opticks
// paragraphs, each also as two near-duplicates (one word changed) dealt to other
// shards.
func queueCorpus(t *testing.T, dir string) {
	path, err := assets.Opticks()
	if err != nil {
		t.Skip(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for _, p := range strings.Split(string(text), "\n\n") {
		if len(strings.Fields(p)) > 60 {
			paras = append(paras, strings.Join(strings.Fields(p), " "))
		}
	}
	const n = 12
	shards := make([][]*data.Doc, n)
	k := 0
	for i := 0; i+3 <= len(paras); i += 3 {
		doc := strings.Join(paras[i:i+3], "\n\n")
		for v := 0; v < 3; v++ {
			d := doc
			if v > 0 {
				w := strings.Fields(doc)
				w[(i*7+v*13)%len(w)] = "changed"
				d = strings.Join(w, " ")
			}
			if k%9 == 0 {
				d += "\n\nLetters to the editor: isaac.newton@royal-society.example.org."
			}
			shards[k%n] = append(shards[k%n], &data.Doc{ID: fmt.Sprintf("doc-%d-%d", i, v), Text: d})
			k++
		}
	}
	for s, docs := range shards {
		w, err := data.NewFileWriter(filepath.Join(dir, "in", fmt.Sprintf("opticks-%02d.jsonl", s)), data.OutJSONL)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// inflight reads golem_inflight_calls from a host's /metrics.
func inflight(addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "golem_inflight_calls" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return int(v)
		}
	}
	return 0
}

// TestCleanQueueKillHost is the queue test: `golem clean --queue` runs a
// staged clean (MinHash included) as JetStream jobs on two `golem serve` hosts
// sharing one real nats-server process; one host is killed with SIGKILL while it
// runs a job. Every shard still finishes exactly once (one completion marker
// each, stats equal to a local run's, no temporary file left) and the output is
// byte-identical to `golem clean --tasks 1` on the same files.
func TestCleanQueueKillHost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server and two golem serve processes")
	}
	bin := golemBinary(t)
	files := t.TempDir()
	queueCorpus(t, files)
	ref := exec.Command(bin, "clean", "-q", "--tasks", "1", "-o", filepath.Join(files, "ref"), filepath.Join(files, "in"))
	if out, err := ref.CombinedOutput(); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}

	url := natsServerProcess(t)
	args := []string{"--nats", url, "--files", files, "--ack-wait", "2s", "--timeout", "5m", "--workers", "2", "--data", t.TempDir()}
	addrA, addrB := freeAddr(t), freeAddr(t)
	a := serveProcess(t, addrA, args...)
	serveProcess(t, addrB, append(args[:len(args)-1:len(args)-1], t.TempDir())...)

	// Paths outside the files directory are refused, naming the field.
	c := client.New("http://"+addrB, testKey)
	for _, bad := range []builtin.CleanTaskInput{
		{Stage: "plan", Inputs: []string{"/etc"}, Output: "x"},
		{Stage: "plan", Inputs: []string{"in/../../"}, Output: "x"},
		{Stage: "plan", Inputs: []string{"in"}, Output: "../x"},
		{Stage: "plan", Inputs: []string{"in"}, Output: "."},
	} {
		var o builtin.CleanTaskOutput
		err := c.Call("clean-task", bad, &o)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || ce.Body.Kind != api.KindInput || (ce.Body.Field != "inputs" && ce.Body.Field != "output") {
			t.Fatalf("request %+v: %v", bad, err)
		}
	}
	if err := os.Symlink("/etc", filepath.Join(files, "escape")); err != nil {
		t.Fatal(err)
	}
	var o builtin.CleanTaskOutput
	if err := c.Call("clean-task", builtin.CleanTaskInput{Stage: "plan", Inputs: []string{"escape/hostname"}, Output: "x"}, &o); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("a link out of the files directory: %v", err)
	}
	os.Remove(filepath.Join(files, "escape"))

	// The queue run, submitted to host B; host A is killed once it runs a job.
	run := exec.Command(bin, "clean", "--queue", "http://"+addrB, "--key", testKey, "-o", "out", "in")
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	killed := false
	deadline := time.Now().Add(2 * time.Minute)
	for !killed && time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the run ended before host A ran a job (%v):\n%s", err, runOut.String())
		default:
		}
		if inflight(addrA) > 0 {
			if err := a.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !killed {
		t.Fatal("host A never ran a job")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("golem clean --queue: %v\n%s", err, runOut.String())
		}
	case <-time.After(4 * time.Minute):
		run.Process.Kill()
		t.Fatalf("golem clean --queue did not finish:\n%s", runOut.String())
	}
	t.Logf("golem clean --queue:\n%s", runOut.String())
	if !regexp.MustCompile(`\[attempt [2-9], on `).MatchString(runOut.String()) {
		t.Fatalf("no job was run again after the kill:\n%s", runOut.String())
	}

	// Identical output, each shard once, nothing half-written left.
	want, got := filepath.Join(files, "ref"), filepath.Join(files, "out")
	for i := 0; i < 12; i++ {
		name := data.ShardName("part", i, data.OutJSONLZstd)
		x, err1 := os.ReadFile(filepath.Join(want, name))
		y, err2 := os.ReadFile(filepath.Join(got, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s: differs from the local run (%v, %v)", name, err1, err2)
		}
		if _, err := os.Stat(filepath.Join(got, data.MarkerDir, name+".json")); err != nil {
			t.Fatalf("%s has no completion marker", name)
		}
	}
	for _, d := range []string{got, filepath.Join(got, ".golem-stages", "filter"), filepath.Join(got, data.MarkerDir)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Fatalf("temporary file left: %s/%s", d, e.Name())
			}
		}
	}
	var ws, qs data.Stats
	for p, s := range map[string]*data.Stats{want: &ws, got: &qs} {
		b, err := os.ReadFile(filepath.Join(p, "stats.json"))
		if err != nil || json.Unmarshal(b, s) != nil {
			t.Fatalf("stats.json of %s: %v", p, err)
		}
	}
	if ws.Read.Docs != qs.Read.Docs || ws.Written != qs.Written || len(ws.Steps) != len(qs.Steps) {
		t.Fatalf("stats: local %+v, queue %+v", ws, qs)
	}
	for i := range ws.Steps {
		if ws.Steps[i].In != qs.Steps[i].In || ws.Steps[i].Out != qs.Steps[i].Out {
			t.Fatalf("step %s: local %+v, queue %+v", ws.Steps[i].Name, ws.Steps[i], qs.Steps[i])
		}
	}
	if ws.Steps[len(ws.Steps)-2].Name != "minhash_dedup" || ws.Steps[len(ws.Steps)-2].Dropped["minhash_duplicate"] == 0 {
		t.Fatalf("the run removed no near-duplicates: %+v", ws.Steps)
	}
}
