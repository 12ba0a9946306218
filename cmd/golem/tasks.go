package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
)

// taskFlags are the flags that split a data-stage command into tasks
// (--tasks N --task-index I --stage S), shared by clean, tokenize and shard.
type taskFlags struct {
	fs     *flag.FlagSet
	tasks  *int
	index  *int
	stage  *string
	stages []string // the command's stages, in order
}

func addTaskFlags(fs *flag.FlagSet, stages ...string) *taskFlags {
	return &taskFlags{fs: fs, stages: stages,
		tasks: fs.Int("tasks", 1, "split the work into this many tasks (datatrove's split: task i takes input shards i, i+N, ...)"),
		index: fs.Int("task-index", 0, "this task, 0 ≤ I < tasks (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)"),
		stage: fs.String("stage", "all", "stage to run: "+strings.Join(stages, ", ")+", or all (every stage in order; one task only)"),
	}
}

// resolve returns the task, whether the command runs in task mode (any of the
// flags given, or a task index in the environment) and the stages to run.
func (f *taskFlags) resolve() (t data.Task, split bool, stages []string, err error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	split = set["tasks"] || set["task-index"] || set["stage"]
	t = data.Task{Index: *f.index, Count: *f.tasks}
	from := "--task-index"
	if !set["task-index"] {
		i, name, err := data.TaskIndexFromEnv()
		if err != nil {
			return t, false, nil, err
		}
		if name != "" {
			t.Index, from, split = i, "$"+name, true
		}
	}
	if *f.tasks < 1 {
		return t, false, nil, fmt.Errorf("--tasks %d: need at least 1", *f.tasks)
	}
	if err := t.Check(); err != nil {
		return t, false, nil, fmt.Errorf("task index %d (from %s) is not below --tasks %d: give --tasks the number of tasks of the array or job", t.Index, from, t.Count)
	}
	switch {
	case *f.stage == "all":
		if t.Count > 1 {
			return t, false, nil, fmt.Errorf("with --tasks %d give --stage: run %s in this order, each once every task of the one before has finished", t.Count, strings.Join(f.stages, ", then "))
		}
		stages = f.stages
	default:
		for _, s := range f.stages {
			if s == *f.stage {
				stages = []string{s}
			}
		}
		if stages == nil {
			return t, false, nil, fmt.Errorf("--stage %q: the stages are %s (or all)", *f.stage, strings.Join(f.stages, ", "))
		}
	}
	return t, split, stages, nil
}
