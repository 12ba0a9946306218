package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Task is one of Count tasks that share a job's input shards, as datatrove's
// executors split a pipeline: task i takes the shards i, i+Count, i+2·Count, …
// (shard s belongs to task s mod Count), where a shard's number is its place in
// the Expand order over all inputs. The split depends only on the inputs and
// Count, so N tasks on N machines do exactly what one task does, shard for shard.
// The zero value is the one task that does everything.
type Task struct {
	Index int `json:"index"` // 0 ≤ Index < Count
	Count int `json:"count"` // number of tasks; 0 means 1
}

// TaskIndexEnv are the environment variables a task's index defaults from, in
// this order: Slurm job arrays (`sbatch --array=0-N-1`) and Kubernetes Indexed
// Jobs (`completionMode: Indexed`).
var TaskIndexEnv = []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}

// TaskIndexFromEnv returns the task index the environment gives (the first set
// variable of TaskIndexEnv) and the variable's name; name is "" when none is set.
// A value that is not a non-negative integer is an error naming the variable.
func TaskIndexFromEnv() (index int, name string, err error) {
	for _, v := range TaskIndexEnv {
		s, ok := os.LookupEnv(v)
		if !ok || s == "" {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || i < 0 {
			return 0, v, fmt.Errorf("task index from %s=%q is not a non-negative integer", v, s)
		}
		return i, v, nil
	}
	return 0, "", nil
}

// Tasks returns Count, or 1 when it is 0.
func (t Task) Tasks() int {
	if t.Count <= 0 {
		return 1
	}
	return t.Count
}

// Check reports an index outside [0, Count) or a negative count.
func (t Task) Check() error {
	if t.Count < 0 {
		return fmt.Errorf("task count %d is negative", t.Count)
	}
	if t.Index < 0 || t.Index >= t.Tasks() {
		return fmt.Errorf("task index %d is not in [0, %d) (the number of tasks is %d)", t.Index, t.Tasks(), t.Tasks())
	}
	return nil
}

// Owns reports whether shard number s belongs to this task.
func (t Task) Owns(s int) bool { return s%t.Tasks() == t.Index }

// Split reports whether the work is split between several tasks.
func (t Task) Split() bool { return t.Tasks() > 1 }

// String is "task I of N".
func (t Task) String() string { return fmt.Sprintf("task %d of %d", t.Index, t.Tasks()) }

// TaskMarkerName is the file name of a task's completion marker,
// task-IIIII-of-NNNNN.json.
func (t Task) TaskMarkerName() string {
	return fmt.Sprintf("task-%05d-of-%05d.json", t.Index, t.Tasks())
}

// InputShard is one input file of a job: its number in the Expand order over
// all inputs and the directory its documents' sources (and so default ids) are
// relative to.
type InputShard struct {
	Index   int    `json:"index"`
	Path    string `json:"path"`
	Base    string `json:"base"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
}

// InputShards expands inputs (files, directories, globs; see Open) into the
// numbered shards a Pipeline runs: every file, in Expand order, spec after spec.
// Sources are relative to the deepest directory holding every input, so two
// inputs holding the same relative names still give distinct ids. A spec that
// matches no file is an error naming it.
func InputShards(inputs []string) ([]InputShard, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no inputs")
	}
	var bases []string
	var lists [][]string
	for _, spec := range inputs {
		files, base, err := expand(spec)
		if err != nil {
			return nil, err
		}
		bases = append(bases, base)
		lists = append(lists, files)
	}
	common := commonDir(bases)
	var out []InputShard
	for _, files := range lists {
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				return nil, err
			}
			out = append(out, InputShard{Index: len(out), Path: f, Base: common, Size: st.Size(), ModTime: st.ModTime().UnixNano()})
		}
	}
	return out, nil
}

// WriteTaskMarker writes v as the completion marker of task t in dir
// (dir/task-IIIII-of-NNNNN.json), atomically.
func WriteTaskMarker(dir string, t Task, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, t.TaskMarkerName()), append(b, '\n'))
}

// ReadTaskMarker reads task t's completion marker from dir into v; ok is false
// when there is none (or it does not parse, which counts as not complete).
func ReadTaskMarker(dir string, t Task, v any) (ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, t.TaskMarkerName()))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// MissingShards describes shards (by number) that are not complete, naming the
// first few inputs and, for a split job, the tasks to run again.
func MissingShards(shards []InputShard, missing []int, t Task) string {
	sort.Ints(missing)
	var names []string
	tasks := map[int]bool{}
	for i, s := range missing {
		if i < 5 {
			names = append(names, fmt.Sprintf("%d (%s)", s, shards[s].Path))
		}
		tasks[s%t.Tasks()] = true
	}
	if len(missing) > 5 {
		names = append(names, fmt.Sprintf("and %d more", len(missing)-5))
	}
	msg := fmt.Sprintf("%d of %d shards are not complete: %s", len(missing), len(shards), strings.Join(names, ", "))
	if t.Split() {
		var ts []int
		for k := range tasks {
			ts = append(ts, k)
		}
		sort.Ints(ts)
		var s []string
		for _, k := range ts {
			s = append(s, strconv.Itoa(k))
		}
		msg += fmt.Sprintf("; run tasks %s of %d (again)", strings.Join(s, ", "), t.Tasks())
	}
	return msg
}
