package train

import (
	"fmt"
	"math"
	"time"

	"github.com/golem-lm/golem/display"
)

// live shows a run's progress: in a notebook an HTML status line and a Vega-Lite
// loss chart, both updated in place; elsewhere a text line per evaluation.
type live struct {
	notebook    bool
	line, chart *display.Handle
	lastLine    time.Time
	lastChart   time.Time
	evals       int
	printed     int // step of the last line printed outside a notebook
	start       time.Time
}

func newLive(r *run) *live {
	l := &live{notebook: display.Active(), start: time.Now(), evals: len(r.res.Evals)}
	if l.notebook {
		l.line, l.chart = display.NewHandle(), display.NewHandle()
	}
	return l
}

func (l *live) update(r *run, final bool) {
	newEval := len(r.res.Evals) > l.evals
	l.evals = len(r.res.Evals)
	status := statusLine(r, time.Since(l.start), final)
	if !l.notebook {
		switch {
		case final && l.printed == r.step && r.step > 0:
			fmt.Println("stopped:", r.res.StopReason)
		case newEval || final:
			fmt.Println(status)
			l.printed = r.step
		}
		return
	}
	now := time.Now()
	if final || now.Sub(l.lastLine) > 250*time.Millisecond {
		l.line.HTML("<code>" + status + "</code>")
		l.lastLine = now
	}
	if final || newEval || now.Sub(l.lastChart) > 2*time.Second {
		l.chart.VegaLite(lossChart(r.res, ""))
		l.lastChart = now
	}
}

func statusLine(r *run, elapsed time.Duration, final bool) string {
	s := fmt.Sprintf("step %d/%d  loss %.4f", r.step, r.o.MaxSteps, r.res.Loss)
	if !math.IsNaN(float64(r.res.ValLoss)) {
		s += fmt.Sprintf("  val %.4f", r.res.ValLoss)
	}
	s += fmt.Sprintf("  lr %.2e", r.o.LRAt(max(r.step, 1)))
	if r.trainTime > 0 {
		s += fmt.Sprintf("  %.0f tok/s", float64(r.trainTokens)/r.trainTime.Seconds())
	}
	s += fmt.Sprintf("  %s", elapsed.Round(time.Second))
	if final && r.res.StopReason != "" {
		s += "  — " + r.res.StopReason
	}
	return s
}

// lossChart is a Vega-Lite spec of the training (downsampled to at most 500
// points) and validation loss against the step.
func lossChart(res *Result, title string) map[string]any {
	var vals []map[string]any
	stride := (len(res.History) + 499) / 500
	if stride < 1 {
		stride = 1
	}
	for i, p := range res.History {
		if i%stride == 0 || i == len(res.History)-1 {
			vals = append(vals, map[string]any{"step": p.Step, "loss": p.Loss, "split": "train"})
		}
	}
	for _, e := range res.Evals {
		vals = append(vals, map[string]any{"step": e.Step, "loss": e.ValLoss, "split": "validation"})
	}
	spec := map[string]any{
		"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
		"width":   480, "height": 240,
		"data": map[string]any{"values": vals},
		"mark": map[string]any{"type": "line", "point": false},
		"encoding": map[string]any{
			"x":     map[string]any{"field": "step", "type": "quantitative", "title": "step"},
			"y":     map[string]any{"field": "loss", "type": "quantitative", "title": "loss (nats/token)", "scale": map[string]any{"zero": false}},
			"color": map[string]any{"field": "split", "type": "nominal", "title": ""},
		},
	}
	if title != "" {
		spec["title"] = title
	}
	return spec
}

// String summarises the run in one line.
func (res *Result) String() string {
	s := fmt.Sprintf("%d steps, %d tokens, loss %.4f", res.Steps, res.Tokens, res.Loss)
	if !math.IsNaN(float64(res.ValLoss)) {
		s += fmt.Sprintf(", val loss %.4f (best %.4f)", res.ValLoss, res.BestValLoss)
	}
	s += fmt.Sprintf(", %.0f tok/s, %s", res.TokensPerSec, res.Elapsed.Round(time.Millisecond))
	if res.StopReason != "" {
		s += "; " + res.StopReason
	}
	return s
}

// DisplayBundle shows the loss curves as a chart titled with the summary.
func (res *Result) DisplayBundle() display.Bundle {
	b := display.VegaLiteBundle(lossChart(res, res.String()))
	b["text/plain"] = res.String()
	return b
}
