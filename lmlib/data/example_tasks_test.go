package data_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
)

// A pipeline split into 3 tasks, as 3 machines of a Slurm array or a Kubernetes
// Indexed Job would run it (each would take its index from SLURM_ARRAY_TASK_ID or
// JOB_COMPLETION_INDEX: data.TaskIndexFromEnv), then the merge of their stats.
func ExamplePipeline_tasks() {
	dir, _ := os.MkdirTemp("", "tasks")
	defer os.RemoveAll(dir)
	for i := 0; i < 5; i++ { // 5 input shards
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%d.txt", i)), []byte(strings.Repeat("light ", i+1)), 0o644)
	}
	out := filepath.Join(dir, "out")
	upper := data.StepFunc{StepName: "upper", Fn: func(d *data.Doc) (string, error) {
		d.Text = strings.ToUpper(d.Text)
		return "", nil
	}}
	for i := 0; i < 3; i++ {
		p := &data.Pipeline{Inputs: []string{filepath.Join(dir, "*.txt")}, Steps: []data.Step{upper}, Output: out,
			Tasks: 3, TaskIndex: i, Resume: true, Quiet: true}
		st, err := p.Run(nil)
		fmt.Println(data.Task{Index: i, Count: 3}, "did", st.Shards, "shards, error:", err)
	}
	st, err := (&data.Pipeline{Inputs: []string{filepath.Join(dir, "*.txt")}, Steps: []data.Step{upper}, Output: out, Tasks: 3}).Merge()
	fmt.Println(st.Shards, "shards,", st.Written, "documents, error:", err)
	// Output:
	// task 0 of 3 did 2 shards, error: <nil>
	// task 1 of 3 did 2 shards, error: <nil>
	// task 2 of 3 did 1 shards, error: <nil>
	// 5 shards, 5 documents, error: <nil>
}
