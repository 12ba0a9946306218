package train

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/gpt"
)

// Progress is a live, concurrency-safe view of a run of Train, Resume or
// TrainParallel, for code that runs beside it: a Jupyter subshell reading the loss
// while the main shell trains, or a goroutine. Current returns the run started
// last in this process.
//
// What is safe while the run goes on:
//   - Snapshot and Chart: copies taken under the progress lock, at any time.
//   - WithModel: f runs between two optimizer steps, holding the step lock, so the
//     weights, the gradients and the model's activation buffers are not written
//     while it reads them (the training loop waits for f to return). Read the
//     model only inside f: a forward pass or Evaluate there is safe, keeping a
//     slice of m.Params for later is not.
//
// Reading m.Params without WithModel while the run goes on races with the
// optimizer (torn values, and a data race in Go's sense).
type Progress struct {
	step sync.Mutex // held by the training loop for the whole of each step

	mu   sync.Mutex // guards the fields below
	snap Snapshot
	hist []Point
	evls []EvalPoint
	m    *gpt.Model
}

// Snapshot is a copy of a run's progress at one moment.
type Snapshot struct {
	Step, MaxSteps int
	Tokens         int64
	Loss           float32 // training loss of the last step (NaN before the first)
	ValLoss        float32 // last validation loss (NaN before the first)
	Running        bool    // false once the run has returned
	StopReason     string  // why it stopped (when not Running)
	Elapsed        time.Duration
	History        []Point     // every step so far (a copy)
	Evals          []EvalPoint // every validation so far (a copy)
}

var (
	currentMu sync.Mutex
	current   *Progress
)

// Current returns the progress of the run started last in this process (nil
// before the first).
func Current() *Progress {
	currentMu.Lock()
	defer currentMu.Unlock()
	return current
}

func startProgress(r *run) *Progress {
	p := &Progress{m: r.m}
	p.snap = Snapshot{Step: r.step, MaxSteps: r.o.MaxSteps, Tokens: r.tokens, Loss: r.res.Loss, ValLoss: r.res.ValLoss, Running: true}
	if len(r.res.History) == 0 {
		p.snap.Loss = float32(math.NaN())
	}
	p.hist = append([]Point(nil), r.res.History...)
	p.evls = append([]EvalPoint(nil), r.res.Evals...)
	currentMu.Lock()
	current = p
	currentMu.Unlock()
	return p
}

// record copies the state of r after a step (or at the end, running=false).
func (p *Progress) record(r *run, start time.Time, running bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snap.Step, p.snap.Tokens = r.step, r.tokens
	if len(r.res.History) > 0 {
		p.snap.Loss = r.res.Loss
	}
	p.snap.ValLoss = r.res.ValLoss
	p.snap.Running = running
	p.snap.StopReason = r.res.StopReason
	p.snap.Elapsed = time.Since(start)
	p.hist = append(p.hist, r.res.History[len(p.hist):]...)
	p.evls = append(p.evls, r.res.Evals[len(p.evls):]...)
}

// Snapshot returns a copy of the run's progress now.
func (p *Progress) Snapshot() Snapshot {
	if p == nil {
		return Snapshot{Loss: float32(math.NaN()), ValLoss: float32(math.NaN())}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.snap
	s.History = append([]Point(nil), p.hist...)
	s.Evals = append([]EvalPoint(nil), p.evls...)
	return s
}

// Chart is the Vega-Lite chart of the training and validation loss so far.
func (p *Progress) Chart() display.Bundle {
	s := p.Snapshot()
	res := &Result{History: s.History, Evals: s.Evals}
	return display.VegaLiteBundle(lossChart(res, ""))
}

// ErrNoRun is returned by WithModel on a nil Progress (Current before any run).
var ErrNoRun = errors.New("train: no training run in this process")

// WithModel runs f on the run's model between two optimizer steps, holding the
// step lock: training waits until f returns. After the run has ended it simply
// runs f. The model is left in evaluation mode for f and put back by the next
// step.
func (p *Progress) WithModel(f func(m *gpt.Model) error) error {
	if p == nil {
		return ErrNoRun
	}
	if f == nil {
		return errors.New("train: WithModel: nil function")
	}
	p.step.Lock()
	defer p.step.Unlock()
	p.m.SetTrain(false, nil)
	return f(p.m)
}

// String is the snapshot in one line.
func (s Snapshot) String() string {
	state := "running"
	if !s.Running {
		state = "stopped"
		if s.StopReason != "" {
			state += ": " + s.StopReason
		}
	}
	return fmt.Sprintf("step %d/%d  loss %.4f  val %.4f  (%s)", s.Step, s.MaxSteps, s.Loss, s.ValLoss, state)
}
