package builtin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
)

// StagePlan is the pseudo-stage of "clean-task" that runs nothing and returns
// the run's stages and how many units (tasks) each has.
const StagePlan = "plan"

// CleanTaskInput is the input of the built-in function "clean-task": one task
// of one stage of a cleaning run split into stages and tasks (lmlib/clean's
// StagedRun with the FineWeb chain), on files in the host's files directory
// (`golem serve --files DIR`). Inputs and Output are paths relative to that
// directory; nothing outside it can be named. `golem clean --queue` submits one
// job per task, stage after stage.
type CleanTaskInput struct {
	Stage     string   `json:"stage"`      // plan, filter, buckets, clusters, dedup or merge
	Tasks     int      `json:"tasks"`      // number of tasks of the stage (default 1)
	TaskIndex int      `json:"task_index"` // this task
	Inputs    []string `json:"inputs"`     // files, directories or globs, relative to the files directory
	Output    string   `json:"output"`     // output directory, relative to the files directory
	Format    string   `json:"format"`     // output format (default jsonl.zst)
	HTML      bool     `json:"html"`
	Languages []string `json:"languages"` // default ["en"]; ["any"] keeps every language
	NoMinHash bool     `json:"no_minhash"`
	NoPII     bool     `json:"no_pii"`
	SkipBad   bool     `json:"skip_bad"`
	TextField string   `json:"text_field"`
	Workers   int      `json:"workers"` // goroutines (default GOMAXPROCS)
}

// CleanTaskOutput is the result of "clean-task": the plan, or the task's report
// (its counts; for merge the whole run's stats). Paths in it are relative to the
// files directory.
type CleanTaskOutput struct {
	Stages []string          `json:"stages,omitempty"`
	Units  map[string]int    `json:"units,omitempty"`
	Shards int               `json:"shards,omitempty"`
	Report *clean.TaskReport `json:"report,omitempty"`
}

func inputErr(field, format string, args ...any) error {
	return &functions.CallError{Kind: api.KindInput, Field: field, Msg: fmt.Sprintf("input field %q: ", field) + fmt.Sprintf(format, args...)}
}

// CleanTask is the built-in "clean-task".
func CleanTask(ctx context.Context, in *CleanTaskInput) (*CleanTaskOutput, error) {
	root := functions.Files(ctx)
	if len(in.Inputs) == 0 {
		return nil, inputErr("inputs", "no inputs")
	}
	inputs := make([]string, len(in.Inputs))
	for i, rel := range in.Inputs {
		p, err := functions.ConfinedPath(root, rel, "inputs")
		if err != nil {
			return nil, err
		}
		inputs[i] = p
	}
	if strings.Trim(filepath.ToSlash(in.Output), "./") == "" {
		return nil, inputErr("output", "give an output directory below the files directory")
	}
	out, err := functions.ConfinedPath(root, in.Output, "output")
	if err != nil {
		return nil, err
	}
	// Every file the inputs expand to must be inside the files directory too (a
	// link in a directory could point anywhere).
	shards, err := data.InputShards(inputs)
	if err != nil {
		return nil, inputErr("inputs", "%v", strings.ReplaceAll(err.Error(), root+string(filepath.Separator), ""))
	}
	for _, s := range shards {
		if err := functions.Within(root, s.Path); err != nil {
			rel, _ := filepath.Rel(root, s.Path)
			return nil, inputErr("inputs", "%s %v", rel, err)
		}
	}
	steps, err := clean.FineWebSteps(clean.FineWebOptions{HTML: in.HTML, Languages: in.Languages, NoMinHash: in.NoMinHash, NoPII: in.NoPII})
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: "clean options: " + err.Error()}
	}
	if in.Format != "" && data.OutFormatOf("x."+in.Format) != in.Format {
		return nil, inputErr("format", "%q is not an output format (jsonl, jsonl.gz, jsonl.zst, parquet)", in.Format)
	}
	run := &clean.StagedRun{Inputs: inputs, Read: data.ReadOptions{SkipBad: in.SkipBad, TextField: in.TextField},
		Steps: steps, Output: out, Format: in.Format, Workers: in.Workers, Quiet: true,
		Progress: func(frac float64, note string) { fn.Progress(ctx, frac, note) }}
	stages, err := run.Stages()
	if err != nil {
		return nil, err
	}
	if in.Stage == StagePlan {
		o := &CleanTaskOutput{Stages: stages, Units: map[string]int{}, Shards: len(shards)}
		for _, s := range stages {
			if o.Units[s], err = run.Units(s); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	task := data.Task{Index: in.TaskIndex, Count: in.Tasks}
	if err := task.Check(); err != nil {
		return nil, inputErr("task_index", "%v", err)
	}
	known := false
	for _, s := range stages {
		known = known || s == in.Stage
	}
	if !known {
		return nil, inputErr("stage", "%q is not a stage of this run: %s (or plan)", in.Stage, strings.Join(stages, ", "))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	rep, err := run.RunTask(ctx, in.Stage, task)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), root+string(filepath.Separator), ""))
	}
	if rep.Stats != nil {
		for i, o := range rep.Stats.Outputs {
			if r, err := filepath.Rel(root, o); err == nil {
				rep.Stats.Outputs[i] = r
			}
		}
	}
	return &CleanTaskOutput{Report: rep}, nil
}

func init() {
	functions.Register("clean-task", "one task of one stage of a cleaning run split into tasks (lmlib/clean StagedRun, FineWeb chain) on files in the host's --files directory; golem clean --queue submits them", CleanTask)
}
