package eval

import (
	"fmt"

	"github.com/golem-lm/golem/display"
)

// Core is a CORE-style aggregate as DCLM (Li et al. 2024) defines it and
// nanochat computes it: every task's accuracy is centered on its random
// baseline, (acc − b) / (1 − b), so chance is 0 and a perfect score 1, and CORE
// is the mean over tasks. Three task types count: language modelling (a cloze
// task: is the continuation the greedy one, baseline 0), multiple choice and
// schema (the choice, or context, whose continuation has the highest mean
// log-likelihood per token wins, acc_per_token; baseline 1/choices averaged over
// the examples).
type Core struct {
	Score float64    `json:"score"`
	Tasks []CoreTask `json:"tasks"`
}

// CoreTask is one row of the CORE table.
type CoreTask struct {
	Task           string  `json:"task"`
	Type           string  `json:"type"` // language_modeling, multiple_choice or schema
	Metric         string  `json:"metric"`
	Examples       int     `json:"examples"`
	Accuracy       float64 `json:"accuracy"`
	RandomBaseline float64 `json:"random_baseline"`
	Centered       float64 `json:"centered"`
}

// CenteredAccuracy is (acc − baseline) / (1 − baseline).
func CenteredAccuracy(acc, baseline float64) float64 { return (acc - baseline) / (1 - baseline) }

// coreOf computes CORE over the tasks of r that count (nil when none does).
func coreOf(r *Results, tasks []*Task) *Core {
	c := &Core{}
	for _, t := range tasks {
		var typ, metricName string
		switch t.Kind {
		case KindCloze:
			typ, metricName = "language_modeling", "acc"
		case KindMultipleChoice:
			typ, metricName = "multiple_choice", "acc_per_token"
		case KindSchema:
			typ, metricName = "schema", "acc_per_token"
		default:
			continue
		}
		acc, ok := r.Results[t.Name][metricName+",none"].(float64)
		if !ok {
			continue
		}
		n := r.NSamples[t.Name]["effective"]
		base := 0.0
		if typ != "language_modeling" {
			for _, e := range t.Examples[:n] {
				k := len(e.Choices)
				if typ == "schema" {
					k = len(e.Contexts)
				}
				base += 1 / float64(k)
			}
			base /= float64(n)
		}
		c.Tasks = append(c.Tasks, CoreTask{Task: t.Name, Type: typ, Metric: metricName, Examples: n,
			Accuracy: acc, RandomBaseline: base, Centered: CenteredAccuracy(acc, base)})
	}
	if len(c.Tasks) == 0 {
		return nil
	}
	for _, t := range c.Tasks {
		c.Score += t.Centered
	}
	c.Score /= float64(len(c.Tasks))
	return c
}

// Rows is the per-task table: task, type, examples, accuracy, random baseline, centered.
func (c *Core) Rows() [][]string {
	rows := make([][]string, 0, len(c.Tasks)+1)
	for _, t := range c.Tasks {
		rows = append(rows, []string{t.Task, t.Type, fmt.Sprint(t.Examples), fmt.Sprintf("%.4f", t.Accuracy),
			fmt.Sprintf("%.4f", t.RandomBaseline), fmt.Sprintf("%.4f", t.Centered)})
	}
	return append(rows, []string{"CORE", "", "", "", "", fmt.Sprintf("%.4f", c.Score)})
}

// DisplayBundle renders the CORE table in a notebook.
func (c *Core) DisplayBundle() display.Bundle {
	return display.Table([]string{"Task", "Type", "n", "Accuracy", "Random", "Centered"}, c.Rows())
}

// String is the CORE table as text, ending with the CORE line.
func (c *Core) String() string { return c.DisplayBundle()["text/plain"].(string) }
