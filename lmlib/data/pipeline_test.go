package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golem-lm/golem/internal/assets"
)

// brownShards writes the Brown corpus categories a..f as JSONL shards (one per
// category, mixed compression) and returns the directory.
func brownShards(t testing.TB) string {
	brown := needAsset(t, assets.BrownCorpus)
	dir := t.TempDir()
	for i, cat := range []string{"a", "b", "c", "d", "e", "f"} {
		docs := mustReadAll(t, filepath.Join(brown, "c"+cat+"[0-9][0-9]"), ReadOptions{TextSplit: SplitParagraph})
		format := []string{OutJSONLZstd, OutJSONLGzip, OutJSONL}[i%3]
		w, err := NewFileWriter(filepath.Join(dir, fmt.Sprintf("brown-%s.%s", cat, format)), format)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			d.ID = "c" + cat + "/" + d.ID
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Three test steps: strip the POS tags (rewrites text), drop short paragraphs,
// drop paragraphs about juries.
var (
	untag = StepFunc{"untag", func(d *Doc) (string, error) {
		f := strings.Fields(d.Text)
		for i, w := range f {
			if j := strings.LastIndexByte(w, '/'); j > 0 {
				f[i] = w[:j]
			}
		}
		d.Text = strings.Join(f, " ")
		return "", nil
	}}
	minWords = StepFunc{"min_words", func(d *Doc) (string, error) {
		if len(strings.Fields(d.Text)) < 20 {
			return "too_short", nil
		}
		return "", nil
	}}
	noJury = StepFunc{"no_jury", func(d *Doc) (string, error) {
		if strings.Contains(d.Text, "jury") {
			return "jury", nil
		}
		if strings.Contains(d.Text, "Jury") {
			return "Jury", nil
		}
		return "", nil
	}}
)

func sequential(t testing.TB, in string, steps []Step) (kept []*Doc, dropped map[string]int64) {
	dropped = map[string]int64{}
	for _, d := range mustReadAll(t, in, ReadOptions{}) {
		keep := true
		for _, s := range steps {
			drop, err := s.Process(d)
			if err != nil {
				t.Fatal(err)
			}
			if drop != "" {
				dropped[drop]++
				keep = false
				break
			}
		}
		if keep {
			kept = append(kept, d)
		}
	}
	return kept, dropped
}

func TestPipelineMatchesSequential(t *testing.T) {
	in := brownShards(t)
	steps := []Step{untag, minWords, noJury}
	want, wantDropped := sequential(t, in, steps)
	for _, format := range []string{OutJSONLZstd, OutParquet} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			p := &Pipeline{Inputs: []string{in}, Steps: steps, Workers: 4, BatchSize: 7, Output: out, Format: format, Quiet: true}
			st, err := p.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := mustReadAll(t, out, ReadOptions{})
			if len(got) != len(want) {
				t.Fatalf("pipeline kept %d docs, sequential %d", len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID || got[i].Text != want[i].Text {
					t.Fatalf("doc %d: %s, want %s (order or content differs)", i, got[i].ID, want[i].ID)
				}
			}
			// Stats.
			if st.Shards != 6 || st.ShardsDone != 6 || len(st.Outputs) != 6 || st.Written != int64(len(want)) {
				t.Fatalf("stats %+v", st)
			}
			if filepath.Base(st.Outputs[0]) != "part-00000."+format {
				t.Fatalf("output %s", st.Outputs[0])
			}
			if st.Steps[0].In != st.Read.Docs || st.Steps[0].Out != st.Read.Docs || st.Steps[2].Out != st.Written ||
				st.Steps[1].In != st.Steps[0].Out || st.Steps[2].In != st.Steps[1].Out {
				t.Fatalf("step chain counts %+v read %+v", st.Steps, st.Read)
			}
			if st.Steps[0].BytesOut >= st.Steps[0].BytesIn {
				t.Fatalf("untag did not shrink the text: %+v", st.Steps[0])
			}
			gotDropped := map[string]int64{}
			for _, s := range st.Steps {
				for k, v := range s.Dropped {
					gotDropped[k] += v
				}
			}
			if !reflect.DeepEqual(gotDropped, wantDropped) {
				t.Fatalf("drops %v, want %v", gotDropped, wantDropped)
			}
			loaded, err := LoadStats(filepath.Join(out, "stats.json"))
			if err != nil {
				t.Fatal(err)
			}
			if loaded.Written != st.Written || !reflect.DeepEqual(loaded.Steps[1].Dropped, st.Steps[1].Dropped) {
				t.Fatalf("stats.json %+v", loaded)
			}
			b := st.DisplayBundle()
			if h, _ := b["text/html"].(string); !strings.Contains(h, "<td>min_words</td>") || !strings.Contains(h, "too_short:") {
				t.Fatalf("table: %s", h)
			}
		})
	}
}

// outputs returns every output file's bytes by name.
func outputs(t testing.TB, dir string) map[string][]byte {
	m := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "part-") {
			m[e.Name()] = mustRead(t, filepath.Join(dir, e.Name()))
		}
	}
	return m
}

func sameOutputs(t *testing.T, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d output files", len(a), len(b))
	}
	for name, x := range a {
		if !bytes.Equal(x, b[name]) {
			t.Fatalf("output %s differs", name)
		}
	}
}

func TestPipelineResumeAfterCancel(t *testing.T) {
	in := brownShards(t)
	steps := []Step{untag, minWords, noJury}
	full := filepath.Join(t.TempDir(), "full")
	fst, err := (&Pipeline{Inputs: []string{in}, Steps: steps, Output: full, Quiet: true}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}

	// Interrupted run: a step cancels the context in the middle of the 4th shard.
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	stopAt := fst.Read.Docs * 4 / 6
	canceller := StepFunc{"no_jury", func(d *Doc) (string, error) {
		if seen.Add(1) == stopAt {
			cancel()
		}
		return noJury.Fn(d)
	}}
	st, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{untag, minWords, canceller}, Output: out, Quiet: true}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if st.ShardsDone == 0 || st.ShardsDone >= 6 {
		t.Fatalf("interrupted run completed %d shards", st.ShardsDone)
	}
	partial := outputs(t, out)
	if len(partial) != st.ShardsDone {
		t.Fatalf("%d output files after completing %d shards", len(partial), st.ShardsDone)
	}
	for name := range partial {
		if _, err := os.Stat(filepath.Join(out, MarkerDir, name+".json")); err != nil {
			t.Fatalf("no marker for %s", name)
		}
	}

	// Restart with Resume: completed shards are skipped, the result is the same.
	var processed atomic.Int64
	counting := StepFunc{"untag", func(d *Doc) (string, error) { processed.Add(1); return untag.Fn(d) }}
	rst, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{counting, minWords, noJury}, Output: out, Resume: true, Quiet: true}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rst.ShardsResumed != st.ShardsDone || rst.ShardsDone != 6-st.ShardsDone || processed.Load() >= fst.Read.Docs {
		t.Fatalf("resumed %d done %d processed %d of %d", rst.ShardsResumed, rst.ShardsDone, processed.Load(), fst.Read.Docs)
	}
	sameOutputs(t, outputs(t, full), outputs(t, out))
	if rst.Written != fst.Written || rst.Read.Docs != fst.Read.Docs || !reflect.DeepEqual(rst.Steps[2].Dropped, fst.Steps[2].Dropped) {
		t.Fatalf("resumed stats differ: %+v vs %+v", rst, fst)
	}

	// Changing the steps invalidates the markers: every shard runs again.
	rst, err = (&Pipeline{Inputs: []string{in}, Steps: []Step{untag, minWords}, Output: out, Resume: true, Quiet: true}).Run(nil)
	if err != nil || rst.ShardsResumed != 0 || rst.ShardsDone != 6 {
		t.Fatalf("changed steps: resumed %d done %d err %v", rst.ShardsResumed, rst.ShardsDone, err)
	}
}

// TestPipelineResumeAfterKill runs the pipeline in a child process, kills it
// with SIGKILL mid-run, checks that no half-written file has a final name, and
// restarts it.
func TestPipelineResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	in := brownShards(t)
	full := filepath.Join(t.TempDir(), "full")
	if _, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{untag, minWords, noJury}, Output: full, Quiet: true}).Run(nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPipelineKillHelper$")
	cmd.Env = append(os.Environ(), "GOLEM_DATA_KILL_IN="+in, "GOLEM_DATA_KILL_OUT="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once two shards are complete.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ents, _ := os.ReadDir(filepath.Join(out, MarkerDir))
		n := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".json") {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child made no progress: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Success() {
		t.Fatalf("child was not killed: %v", err)
	}
	// Every file under a final name is complete and readable.
	partial := outputs(t, out)
	if len(partial) >= 6 {
		t.Fatalf("child finished before the kill (%d outputs)", len(partial))
	}
	for name := range partial {
		if _, err := ReadAll(mustOpen(t, filepath.Join(out, name), ReadOptions{})); err != nil {
			t.Fatalf("final file %s is not complete: %v", name, err)
		}
	}
	st, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{untag, minWords, noJury}, Output: out, Resume: true, Quiet: true}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.ShardsResumed < 2 {
		t.Fatalf("resumed only %d shards", st.ShardsResumed)
	}
	sameOutputs(t, outputs(t, full), outputs(t, out))
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if isTempName(e.Name()) {
			t.Fatalf("temporary file %s left after the restart", e.Name())
		}
	}
}

// TestPipelineKillHelper is the child process of TestPipelineResumeAfterKill: a
// slow pipeline that runs until it is killed.
func TestPipelineKillHelper(t *testing.T) {
	in, out := os.Getenv("GOLEM_DATA_KILL_IN"), os.Getenv("GOLEM_DATA_KILL_OUT")
	if in == "" {
		t.Skip("helper process only")
	}
	slow := StepFunc{"no_jury", func(d *Doc) (string, error) {
		time.Sleep(200 * time.Microsecond)
		return noJury.Fn(d)
	}}
	(&Pipeline{Inputs: []string{in}, Steps: []Step{untag, minWords, slow}, Output: out, Quiet: true, Workers: 2}).Run(nil)
}

type countingFinisher struct {
	StepFunc
	finished atomic.Int64
	seen     atomic.Int64
}

func (c *countingFinisher) Process(d *Doc) (string, error) { c.seen.Add(1); return "", nil }
func (c *countingFinisher) Finish() error                  { c.finished.Add(1); return nil }

func TestPipelineErrorsAndFinisher(t *testing.T) {
	in := brownShards(t)
	boom := errors.New("boom")
	failing := StepFunc{"fails", func(d *Doc) (string, error) {
		if strings.HasPrefix(d.ID, "cc/") {
			return "", boom
		}
		return "", nil
	}}
	panicking := StepFunc{"panics", func(d *Doc) (string, error) {
		if strings.HasPrefix(d.ID, "cd/") {
			var m map[string]int
			m["x"] = 1
		}
		return "", nil
	}}
	fin := &countingFinisher{StepFunc: StepFunc{StepName: "index"}}

	// A step error stops the run, naming the step and the document; no Finish.
	_, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{failing, fin}, Quiet: true}).Run(nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "step fails: doc \"cc/") {
		t.Fatalf("step error: %v", err)
	}
	if fin.finished.Load() != 0 {
		t.Fatal("Finish called after a failed run")
	}
	// SkipErrors: counted, documents dropped, panics recovered; Finish called once.
	fin.seen.Store(0)
	st, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{failing, panicking, fin}, SkipErrors: true, Quiet: true}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Steps[0].Errors == 0 || st.Steps[0].Dropped["error"] != st.Steps[0].Errors || st.Steps[1].Errors == 0 {
		t.Fatalf("errors not counted: %+v", st.Steps)
	}
	if fin.finished.Load() != 1 || fin.seen.Load() != st.Written || st.Outputs != nil {
		t.Fatalf("finish %d seen %d written %d outputs %v", fin.finished.Load(), fin.seen.Load(), st.Written, st.Outputs)
	}
	// A bad input shard stops the run naming the file and line; SkipBad counts it.
	bad := filepath.Join(in, "brown-z.jsonl")
	writeFile(t, bad, []byte("{\"text\":\"ok\"}\n{\"text\":\n{\"text\":\"fine\"}\n"))
	_, err = (&Pipeline{Inputs: []string{in}, Quiet: true}).Run(nil)
	if err == nil || !strings.Contains(err.Error(), bad+": line 2") {
		t.Fatalf("bad shard: %v", err)
	}
	st, err = (&Pipeline{Inputs: []string{in}, Read: ReadOptions{SkipBad: true}, Quiet: true}).Run(nil)
	if err != nil || st.Read.Skipped != 1 || st.Read.Reasons["json"] != 1 {
		t.Fatalf("SkipBad: %v %+v", err, st.Read)
	}
	// Bad configuration.
	if _, err := (&Pipeline{Quiet: true}).Run(nil); err == nil {
		t.Fatal("no inputs accepted")
	}
	if _, err := (&Pipeline{Inputs: []string{in}, Format: "csv", Quiet: true}).Run(nil); err == nil || !strings.Contains(err.Error(), "csv") {
		t.Fatalf("bad format: %v", err)
	}
}

func TestPipelineIDsUniqueAcrossInputs(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		writeFile(t, filepath.Join(root, d, "x.txt"), []byte("same name, "+d))
	}
	var ids []string
	collect := &StepFunc{"collect", nil}
	mu := make(chan struct{}, 1)
	collect.Fn = func(d *Doc) (string, error) {
		mu <- struct{}{}
		ids = append(ids, d.ID)
		<-mu
		return "", nil
	}
	if _, err := (&Pipeline{Inputs: []string{filepath.Join(root, "a"), filepath.Join(root, "b")}, Steps: []Step{collect}, Quiet: true}).Run(nil); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, " ") != "a/x.txt b/x.txt" && strings.Join(ids, " ") != "b/x.txt a/x.txt" {
		t.Fatalf("ids %v", ids)
	}
	if got := commonDir([]string{"/x/y/z", "/x/y/w/v", "/x/y"}); got != "/x/y" {
		t.Fatalf("commonDir %s", got)
	}
}

// TestPipelineEmptyShards: an empty input and an input whose documents are all
// dropped still give complete, readable (empty) output shards in every format.
func TestPipelineEmptyShards(t *testing.T) {
	in := t.TempDir()
	writeFile(t, filepath.Join(in, "a.jsonl"), nil)
	writeFile(t, filepath.Join(in, "b.jsonl"), []byte(`{"text":"dropped"}`+"\n"))
	dropAll := StepFunc{"drop", func(*Doc) (string, error) { return "all", nil }}
	for _, format := range []string{OutJSONL, OutJSONLGzip, OutJSONLZstd, OutParquet} {
		out := filepath.Join(t.TempDir(), "out")
		st, err := (&Pipeline{Inputs: []string{in}, Steps: []Step{dropAll}, Output: out, Format: format, Quiet: true}).Run(nil)
		if err != nil || len(st.Outputs) != 2 || st.Written != 0 || st.Steps[0].Dropped["all"] != 1 {
			t.Fatalf("%s: %v %+v", format, err, st)
		}
		if docs := mustReadAll(t, out, ReadOptions{}); len(docs) != 0 {
			t.Fatalf("%s: read %d docs", format, len(docs))
		}
	}
}
