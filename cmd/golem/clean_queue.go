package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/builtin"
	"github.com/golem-lm/golem/functions/client"
)

func cleanRequestOptions(format string, html bool, langs []string, noMinHash, noPII, skipBad bool, textField string) builtin.CleanTaskInput {
	return builtin.CleanTaskInput{Format: format, HTML: html, Languages: langs, NoMinHash: noMinHash, NoPII: noPII,
		SkipBad: skipBad, TextField: textField}
}

// queuePoll is how often cleanQueue reads the jobs' states.
var queuePoll = 500 * time.Millisecond

// cleanQueue runs a staged clean as JetStream jobs of the built-in clean-task on
// the golem serve hosts behind url: a plan call, then for each stage one job per
// unit (input shard, bucket), waiting for every job of a stage before the next.
// Inputs and out are relative to the hosts' --files directory.
func cleanQueue(url, key string, inputs []string, out string, base builtin.CleanTaskInput, quiet bool) error {
	if out == "" {
		return errors.New("clean --queue: give -o, the output directory (relative to the hosts' --files directory)")
	}
	if key == "" {
		key = os.Getenv("GOLEM_API_KEY")
	}
	c := client.New(url, key)
	base.Inputs, base.Output = inputs, out
	plan := base
	plan.Stage = builtin.StagePlan
	var p builtin.CleanTaskOutput
	if err := c.Call("clean-task", plan, &p); err != nil {
		return fmt.Errorf("clean --queue: plan on %s: %w", url, err)
	}
	fmt.Fprintf(os.Stderr, "clean --queue: %d input shards; stages %s\n", p.Shards, strings.Join(p.Stages, " → "))
	var last *builtin.CleanTaskOutput
	for _, stage := range p.Stages {
		n := p.Units[stage]
		ids := make([]string, n)
		for i := range ids {
			req := base
			req.Stage, req.Tasks, req.TaskIndex = stage, n, i
			id, err := c.Submit("clean-task", req, nil)
			if err != nil {
				return fmt.Errorf("clean --queue: submit stage %s task %d of %d: %w", stage, i, n, err)
			}
			ids[i] = id
		}
		results, err := waitStage(c, stage, ids, quiet)
		if err != nil {
			return err
		}
		if len(results) > 0 {
			last = results[0]
		}
	}
	if last != nil && last.Report != nil && last.Report.Stats != nil {
		fmt.Fprintln(os.Stderr, last.Report.Stats.String())
	}
	return nil
}

// waitStage waits for every job of a stage, printing each task's report as it
// finishes and a progress line now and then; a job that fails stops the run with
// its error.
func waitStage(c *client.Client, stage string, ids []string, quiet bool) ([]*builtin.CleanTaskOutput, error) {
	results := make([]*builtin.CleanTaskOutput, len(ids))
	done := make([]bool, len(ids))
	left := len(ids)
	lastLine := time.Now()
	for left > 0 {
		running, progress := 0, 0.0
		hosts := map[string]int{}
		for i, id := range ids {
			if done[i] {
				progress++
				continue
			}
			j, err := c.Job(id)
			if err != nil {
				return nil, fmt.Errorf("clean --queue: stage %s task %d: job %s: %w", stage, i, id, err)
			}
			switch {
			case j.Status == api.StatusSucceeded:
				var o builtin.CleanTaskOutput
				if err := json.Unmarshal(j.Result, &o); err != nil || o.Report == nil {
					return nil, fmt.Errorf("clean --queue: stage %s task %d: job %s: unreadable result: %v", stage, i, id, err)
				}
				results[i], done[i] = &o, true
				left--
				progress++
				if !quiet {
					line := describeReport(o.Report)
					if j.Attempts > 1 {
						line += fmt.Sprintf(" [attempt %d, on %s]", j.Attempts, j.Host)
					}
					fmt.Fprintln(os.Stderr, line)
				}
			case api.Terminal(j.Status):
				return nil, fmt.Errorf("clean --queue: stage %s task %d of %d: job %s %s after %d attempts: %s", stage, i, len(ids), id, j.Status, j.Attempts, j.Error)
			case j.Status == api.StatusRunning:
				running++
				hosts[j.Host]++
				progress += j.Progress
			}
		}
		if left == 0 {
			break
		}
		if !quiet && time.Since(lastLine) > 5*time.Second {
			var hs []string
			for h, k := range hosts {
				hs = append(hs, fmt.Sprintf("%s: %d", h, k))
			}
			sort.Strings(hs)
			fmt.Fprintf(os.Stderr, "clean --queue: stage %s: %d of %d tasks done, %d running (%s), %.0f%%\n", stage,
				len(ids)-left, len(ids), running, strings.Join(hs, ", "), 100*progress/float64(len(ids)))
			lastLine = time.Now()
		}
		time.Sleep(queuePoll)
	}
	return results, nil
}
