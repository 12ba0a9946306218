package data

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// positions records, per step call, the shard and position the Pipeline gave.
type positions struct {
	mu  sync.Mutex
	got map[string][2]int // doc id -> shard, position
}

func (p *positions) Name() string                   { return "positions" }
func (p *positions) Process(d *Doc) (string, error) { panic("Process called on a PositionStep") }
func (p *positions) ProcessAt(shard, pos int, d *Doc) (string, error) {
	p.mu.Lock()
	p.got[d.ID] = [2]int{shard, pos}
	p.mu.Unlock()
	return "", nil
}

// TestPipelineTasks: 3 tasks (run concurrently, as on 3 machines) write the same
// files as one task, Merge sums the same stats, a rerun of a complete task does
// nothing, Merge names what is missing, and PositionSteps see the positions of a
// sequential read whatever the split.
func TestPipelineTasks(t *testing.T) {
	in := brownShards(t)
	steps := func(p *positions) []Step { return []Step{untag, minWords, p, noJury} }
	one := filepath.Join(t.TempDir(), "one")
	p1 := &positions{got: map[string][2]int{}}
	st1, err := (&Pipeline{Inputs: []string{in}, Steps: steps(p1), Output: one, Quiet: true, BatchSize: 7}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}

	three := filepath.Join(t.TempDir(), "three")
	p3 := &positions{got: map[string][2]int{}}
	var wg sync.WaitGroup
	stats := make([]*Stats, 3)
	errs := make([]error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: three, Quiet: true,
				Tasks: 3, TaskIndex: i, Workers: 2, BatchSize: 5}).Run(nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		if stats[i].Shards != 2 || stats[i].Task == nil || stats[i].Task.Index != i {
			t.Fatalf("task %d: %d shards, task %+v", i, stats[i].Shards, stats[i].Task)
		}
		if _, err := os.Stat(filepath.Join(three, MarkerDir, Task{i, 3}.TaskMarkerName())); err != nil {
			t.Fatalf("task %d has no completion marker: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(three, "stats.json")); !os.IsNotExist(err) {
		t.Fatalf("a split task wrote stats.json (%v)", err)
	}
	sameOutputs(t, outputs(t, one), outputs(t, three))
	if !reflect.DeepEqual(p1.got, p3.got) || len(p1.got) == 0 {
		t.Fatalf("positions differ between 1 and 3 tasks (%d, %d documents)", len(p1.got), len(p3.got))
	}
	for id, sp := range p1.got {
		if !strings.HasPrefix(id, []string{"ca", "cb", "cc", "cd", "ce", "cf"}[sp[0]]+"/") {
			t.Fatalf("document %s placed in shard %d", id, sp[0])
		}
	}

	merged, err := (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: three, Tasks: 3}).Merge()
	if err != nil {
		t.Fatal(err)
	}
	if merged.Written != st1.Written || !reflect.DeepEqual(merged.Read, st1.Read) || merged.Shards != 6 {
		t.Fatalf("merged stats %+v, one task %+v", merged, st1)
	}
	for i := range st1.Steps {
		a, b := st1.Steps[i], merged.Steps[i]
		if a.In != b.In || a.Out != b.Out || !reflect.DeepEqual(a.Dropped, b.Dropped) {
			t.Fatalf("step %s: one task %+v, merged %+v", a.Name, a, b)
		}
	}
	var onDisk Stats
	if b, err := os.ReadFile(filepath.Join(three, "stats.json")); err != nil || json.Unmarshal(b, &onDisk) != nil || onDisk.Written != st1.Written {
		t.Fatalf("stats.json: %v", err)
	}

	// A rerun of a complete task does nothing; losing a shard makes Merge name it and its task.
	again, err := (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: three, Quiet: true, Tasks: 3, TaskIndex: 1, Resume: true}).Run(nil)
	if err != nil || again.ShardsDone != 0 || again.ShardsResumed != 2 {
		t.Fatalf("rerun: done %d resumed %d err %v", again.ShardsDone, again.ShardsResumed, err)
	}
	os.Remove(filepath.Join(three, ShardName("part", 4, OutJSONLZstd)))
	_, err = (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: three, Tasks: 3}).Merge()
	if err == nil || !strings.Contains(err.Error(), "1 of 6 shards are not complete: 4 (") || !strings.Contains(err.Error(), "run tasks 1 of 3") {
		t.Fatalf("merge with a lost shard: %v", err)
	}
	again, err = (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: three, Quiet: true, Tasks: 3, TaskIndex: 1, Resume: true}).Run(nil)
	if err != nil || again.ShardsDone != 1 || again.ShardsResumed != 1 {
		t.Fatalf("rerun after a loss: done %d resumed %d err %v", again.ShardsDone, again.ShardsResumed, err)
	}
	sameOutputs(t, outputs(t, one), outputs(t, three))

	// Bad task numbers are errors naming them.
	for _, c := range []struct{ n, i int }{{3, 3}, {3, -1}, {-2, 0}} {
		_, err := (&Pipeline{Inputs: []string{in}, Steps: steps(p3), Output: t.TempDir(), Quiet: true, Tasks: c.n, TaskIndex: c.i}).Run(nil)
		if err == nil || !strings.Contains(err.Error(), "task") {
			t.Fatalf("tasks %d index %d: %v", c.n, c.i, err)
		}
	}
}

func TestTaskIndexFromEnv(t *testing.T) {
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	t.Setenv("JOB_COMPLETION_INDEX", "")
	if i, name, err := TaskIndexFromEnv(); i != 0 || name != "" || err != nil {
		t.Fatalf("unset: %d %q %v", i, name, err)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "4")
	if i, name, err := TaskIndexFromEnv(); i != 4 || name != "JOB_COMPLETION_INDEX" || err != nil {
		t.Fatalf("k8s: %d %q %v", i, name, err)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "2")
	if i, name, err := TaskIndexFromEnv(); i != 2 || name != "SLURM_ARRAY_TASK_ID" || err != nil {
		t.Fatalf("slurm first: %d %q %v", i, name, err)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "x1")
	if _, _, err := TaskIndexFromEnv(); err == nil || !strings.Contains(err.Error(), `SLURM_ARRAY_TASK_ID="x1"`) {
		t.Fatalf("bad value: %v", err)
	}
}
