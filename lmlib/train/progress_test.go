package train

import (
	"bytes"
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// TestProgressWhileTraining reads a run from another goroutine while it trains
// (go test -race checks the guards): WithModel sees weights no step changes while
// it runs, snapshots only grow, and the last snapshot matches the Result.
func TestProgressWhileTraining(t *testing.T) {
	m, tl, vl := small(t, 0, 4, 32)
	_, _, own := small(t, 0, 4, 32) // WithModel evaluates on its own loader
	before := Current()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Train(m, tl, vl, Options{Context: ctx, MaxSteps: 40, EvalEvery: 10, Quiet: true})
		done <- out{res, err}
	}()
	var p *Progress
	for p = Current(); p == before; p = Current() {
		runtime.Gosched()
	}
	lastStep, reads := 0, 0
	for p.Snapshot().Running {
		s := p.Snapshot()
		if s.Step < lastStep || len(s.History) != s.Step {
			t.Fatalf("snapshot went back or is torn: step %d after %d, %d history points", s.Step, lastStep, len(s.History))
		}
		lastStep = s.Step
		err := p.WithModel(func(m *gpt.Model) error {
			w := bytes.Clone(paramBytes(m))
			stepIn := p.Snapshot().Step
			l, err := Evaluate(m, own, 1)
			if err != nil {
				return err
			}
			if math.IsNaN(float64(l)) {
				t.Errorf("validation loss NaN at step %d", stepIn)
			}
			if !bytes.Equal(w, paramBytes(m)) {
				t.Errorf("the weights changed inside WithModel (step %d)", stepIn)
			}
			if s := p.Snapshot().Step; s != stepIn {
				t.Errorf("the step changed inside WithModel (%d, then %d)", stepIn, s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reads++
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	s := p.Snapshot()
	if s.Running || s.Step != o.res.Steps || len(s.History) != 40 || len(s.Evals) != len(o.res.Evals) || s.Loss != o.res.Loss {
		t.Errorf("final snapshot %v (%d points, %d evals) does not match the result %v", s, len(s.History), len(s.Evals), o.res)
	}
	if s.StopReason == "" || !bytes.Contains([]byte(s.String()), []byte("stopped")) {
		t.Errorf("final snapshot says %q", s.String())
	}
	if p.Chart()["application/vnd.vegalite.v5+json"] == nil {
		t.Errorf("Chart has no Vega-Lite: %v", p.Chart())
	}
	t.Logf("%d reads while training", reads)
}

func TestProgressNil(t *testing.T) {
	var p *Progress
	if err := p.WithModel(func(*gpt.Model) error { return nil }); err != ErrNoRun {
		t.Errorf("nil Progress: %v, want ErrNoRun", err)
	}
	if s := p.Snapshot(); s.Running || !math.IsNaN(float64(s.Loss)) {
		t.Errorf("nil Progress snapshot %v", s)
	}
}
