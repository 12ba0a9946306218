// Package train pretrains a GPT from lmlib/gpt on batches from lmlib/shard:
// AdamW through the model's fused kernel (decoupled weight decay, none on biases
// and LayerNorm), or Muon for the matrices with AdamW for the rest; linear warmup
// and a cosine or trapezoidal decay, gradient clipping by global
// norm, gradient accumulation, validation loss, early stopping, live progress in a
// notebook, clean stops on interrupt, and atomic checkpoints (weights and
// optimizer moments in safetensors, the rest in JSON) that Resume continues
// bit-identically.
//
// A notebook cell:
//
//	m, _ := gpt.New(gpt.DefaultConfig(), 1)
//	res, err := train.Train(m, trainLoader, valLoader, train.Options{MaxSteps: 500})
//	res // shows the loss curves
package train

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
)

// Point is one optimizer step of the training curve.
type Point struct {
	Step     int     `json:"step"`
	Tokens   int64   `json:"tokens"`
	Loss     float32 `json:"loss"` // mean training loss of the step's micro-batches
	LR       float32 `json:"lr"`
	GradNorm float32 `json:"grad_norm"` // before clipping
}

// EvalPoint is one validation measurement.
type EvalPoint struct {
	Step    int     `json:"step"`
	Tokens  int64   `json:"tokens"`
	ValLoss float32 `json:"val_loss"`
}

// Result describes a finished (or stopped) run. After Resume it covers the whole
// run, checkpointed steps included.
type Result struct {
	Steps        int           // optimizer steps done
	Tokens       int64         // training tokens consumed
	Loss         float32       // last training loss
	ValLoss      float32       // last validation loss (NaN if none)
	BestValLoss  float32       // best validation loss (NaN if none)
	History      []Point       // every step
	Evals        []EvalPoint   // every validation
	Interrupted  bool          // stopped because Options.Context was cancelled
	EarlyStopped bool          // stopped by Options.Patience
	StopReason   string        // why the run ended, in words
	Elapsed      time.Duration // wall time of this call
	TokensPerSec float64       // training throughput of this call (evaluation excluded)
	Checkpoint   string        // directory of the last checkpoint written ("" if none)
	// AllreducePerStep is the mean time per step this call spent averaging
	// gradients over data-parallel ranks (TrainParallel; 0 otherwise).
	AllreducePerStep time.Duration
}

// run is the state of a run in progress.
type run struct {
	m            *gpt.Model
	cfg          gpt.Config
	trainL, valL *shard.Loader
	o            Options
	mState, vSt  []float32
	rng          *gpt.RNG
	step         int
	tokens       int64
	bestVal      float32
	badEvals     int
	res          *Result
	live         *live
	trainTime    time.Duration
	trainTokens  int64
	par          *parallel // data-parallel ranks (parallel.go), nil for one process
	shards       int       // the shard count the training steps ran as (gpt.NoShards: whole), saved in checkpoints
}

// Train runs AdamW on m with batches from trainLoader, measuring the validation
// loss on valLoader (nil for none) every Options.EvalEvery steps. It returns when
// MaxSteps or MaxTokens is reached, when Patience runs out, or when
// Options.Context is cancelled (Result.Interrupted; the model keeps the weights of
// the last completed step). On a NaN or infinite loss it stops with an error
// naming the step; the last checkpoint written before it is kept. The Result is
// returned with the error when there is one.
func Train(m *gpt.Model, trainLoader, valLoader *shard.Loader, opts Options) (*Result, error) {
	var end func()
	opts.Context, end = display.Call(opts.Context)
	defer end()
	r, err := newRun(m, trainLoader, valLoader, opts)
	if err != nil {
		return nil, err
	}
	return r.loop()
}

func newRun(m *gpt.Model, trainL, valL *shard.Loader, opts Options) (*run, error) {
	if m == nil || trainL == nil {
		return nil, errors.New("train: nil model or training loader")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg := m.Config
	for _, l := range []*shard.Loader{trainL, valL} {
		if l == nil {
			continue
		}
		if l.T() > cfg.ContextLen {
			return nil, fmt.Errorf("train: loader sequence length T=%d is longer than the model's context length %d", l.T(), cfg.ContextLen)
		}
	}
	if valL != nil && valL.B()*o.EvalBatches == 0 {
		return nil, fmt.Errorf("train: EvalBatches %d gives no validation batch", o.EvalBatches)
	}
	if o.Shards != 0 {
		if err := m.SetShards(o.Shards); err != nil {
			return nil, fmt.Errorf("train options: Shards: %w", err)
		}
	}
	n := len(m.Params)
	return &run{
		m: m, cfg: cfg, trainL: trainL, valL: valL, o: o,
		mState: make([]float32, n), vSt: make([]float32, n),
		rng:     gpt.NewRNG(o.Seed),
		bestVal: float32(math.NaN()),
		res:     &Result{ValLoss: float32(math.NaN()), BestValLoss: float32(math.NaN())},
	}, nil
}

func (r *run) loop() (*Result, error) {
	o := r.o
	start := time.Now()
	if !o.Quiet {
		r.live = newLive(r)
	}
	prog := startProgress(r)
	locked := false // prog.step is held for the whole of a step (Progress.WithModel waits for it)
	defer func() {
		if !locked {
			prog.step.Lock()
		}
		r.m.SetTrain(false, nil)
		prog.step.Unlock()
		prog.record(r, start, false)
	}()
	B, T := r.trainL.B(), r.trainL.T()
	stepTokens := int64(B * T * o.GradAccum * r.size())
	var runErr error
	for {
		if r.step >= o.MaxSteps {
			r.res.StopReason = fmt.Sprintf("reached MaxSteps=%d", o.MaxSteps)
			break
		}
		if o.MaxTokens > 0 && r.tokens >= o.MaxTokens {
			r.res.StopReason = fmt.Sprintf("reached MaxTokens=%d", o.MaxTokens)
			break
		}
		if err := r.stopRequested(); err != nil {
			r.res.Interrupted = true
			r.res.StopReason = fmt.Sprintf("interrupted after step %d (%v)", r.step, err)
			break
		}
		prog.step.Lock()
		locked = true
		t0 := time.Now()
		step := r.step + 1
		loss, norm, err := r.trainStep(step, B, T)
		if err != nil {
			runErr = err
			r.res.StopReason = err.Error()
			break
		}
		r.trainTime += time.Since(t0)
		r.trainTokens += stepTokens
		r.step = step
		r.tokens += stepTokens
		r.res.History = append(r.res.History, Point{Step: step, Tokens: r.tokens, Loss: loss, LR: o.LRAt(step), GradNorm: norm})
		r.res.Loss = loss
		last := step >= o.MaxSteps || (o.MaxTokens > 0 && r.tokens >= o.MaxTokens)
		stop := false
		if r.valL != nil && (step%o.EvalEvery == 0 || last) {
			vl, err := r.evaluate()
			if err != nil {
				runErr = fmt.Errorf("train: step %d: validation: %w", step, err)
				r.res.StopReason = runErr.Error()
				break
			}
			r.res.Evals = append(r.res.Evals, EvalPoint{Step: step, Tokens: r.tokens, ValLoss: vl})
			r.res.ValLoss = vl
			if math.IsNaN(float64(r.bestVal)) || vl < r.bestVal {
				r.bestVal, r.badEvals = vl, 0
			} else {
				r.badEvals++
			}
			r.res.BestValLoss = r.bestVal
			if o.Patience > 0 && r.badEvals >= o.Patience {
				stop = true
				r.res.EarlyStopped = true
				r.res.StopReason = fmt.Sprintf("early stop at step %d: no better validation loss than %.4f for %d evaluations", step, r.bestVal, r.badEvals)
			}
		}
		if o.CheckpointDir != "" && (step%o.CheckpointEvery == 0 || last || stop) {
			if err := r.save(); err != nil {
				runErr = err
				r.res.StopReason = err.Error()
				break
			}
		}
		prog.record(r, start, true) // under the step lock: WithModel sees the step it reports
		prog.step.Unlock()
		locked = false
		if r.live != nil {
			r.live.update(r, false)
		}
		r.notify()
		if stop {
			break
		}
	}
	// An interrupted run saves where it stopped, so Resume can continue from there.
	if runErr == nil && r.res.Interrupted && o.CheckpointDir != "" && r.step > 0 && r.res.Checkpoint != checkpointPath(o.CheckpointDir, r.step) {
		if err := r.save(); err != nil {
			runErr = err
		}
	}
	r.res.Steps, r.res.Tokens = r.step, r.tokens
	r.res.Elapsed = time.Since(start)
	if r.trainTime > 0 {
		r.res.TokensPerSec = float64(r.trainTokens) / r.trainTime.Seconds()
	}
	if r.live != nil {
		r.live.update(r, true)
	}
	return r.res, runErr
}

// trainStep runs the micro-batches of one optimizer step and the AdamW update.
func (r *run) trainStep(step, B, T int) (loss, norm float32, err error) {
	o := r.o
	r.beginStep(step)
	r.m.SetTrain(true, r.rng)
	r.m.ZeroGrad()
	var sum float64
	for micro := 0; micro < o.GradAccum; micro++ {
		x, y, err := r.trainL.Next()
		if err != nil {
			return 0, 0, fmt.Errorf("train: step %d: %w", step, err)
		}
		if err := checkTokens(x, y, r.cfg.VocabSize); err != nil {
			return 0, 0, fmt.Errorf("train: step %d: %w", step, err)
		}
		l, err := r.m.ForwardBackward(x, y, B, T)
		if r.shards = r.m.Shards(); r.shards == 0 {
			r.shards = gpt.NoShards
		}
		if errors.Is(err, gpt.ErrNonFinite) || math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return l, 0, fmt.Errorf("train: step %d: training loss is %v; stopped before the update (last good checkpoint: %s)", step, l, orNone(r.res.Checkpoint))
		}
		if err != nil {
			return 0, 0, fmt.Errorf("train: step %d: forward-backward: %w", step, err)
		}
		sum += float64(l)
	}
	loss = float32(sum / float64(o.GradAccum))
	if loss, err = r.reduceStep(step, loss); err != nil {
		return loss, 0, err
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, 0, fmt.Errorf("train: step %d: training loss is %v; stopped before the update (last good checkpoint: %s)", step, loss, orNone(r.res.Checkpoint))
	}
	if o.GradAccum > 1 {
		r.m.ScaleGrads(1 / float32(o.GradAccum))
	}
	norm = r.m.GradNorm()
	if math.IsNaN(float64(norm)) || math.IsInf(float64(norm), 0) {
		return loss, norm, fmt.Errorf("train: step %d: gradient norm is %v; stopped before the update (last good checkpoint: %s)", step, norm, orNone(r.res.Checkpoint))
	}
	if o.GradClip > 0 {
		// PyTorch's clip_grad_norm_: scale by max_norm/(norm+1e-6) when that is below 1.
		if c := o.GradClip / (norm + 1e-6); c < 1 {
			r.m.ScaleGrads(c)
		}
	}
	r.update(step)
	return loss, norm, nil
}

// update applies the optimizer step: AdamW on every tensor, or (Optimizer "muon")
// Muon on the matrices and AdamW on the rest, each group at its learning rate
// scaled by the schedule. The Muon momentum lives in mState at the matrices' offsets.
func (r *run) update(step int) {
	o := r.o
	wd := o.WeightDecay
	if wd < 0 {
		wd = 0
	}
	lr := o.LRAt(step)
	if o.Optimizer == OptimizerAdamW && o.EmbedLR == o.LR && o.HeadLR == o.LR {
		r.m.AdamWStep(lr, o.Beta1, o.Beta2, o.Eps, wd, step, r.mState, r.vSt)
		return
	}
	scale := lr / o.LR
	groups := []struct {
		kind gpt.TensorKind
		lr   float32
	}{{gpt.KindEmbedding, o.EmbedLR}, {gpt.KindHead, o.HeadLR}, {gpt.KindVector, o.LR}, {gpt.KindMatrix, o.LR}}
	if o.Optimizer == OptimizerMuon {
		r.m.MuonStep(r.m.MatrixTensors(), o.MuonLR*scale, o.muonMomentumAt(step), o.MuonWeightDecay, true, 5, r.mState)
		groups = groups[:3]
	}
	for _, g := range groups {
		r.m.AdamWStepOn(r.m.TensorsOf(g.kind), g.lr*scale, o.Beta1, o.Beta2, o.Eps, wd, step, r.mState, r.vSt)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func checkTokens(x, y []int32, vocab int) error {
	for _, s := range [][]int32{x, y} {
		for i, t := range s {
			if t < 0 || int(t) >= vocab {
				return fmt.Errorf("token id %d at batch position %d is not below the model's vocabulary size %d", t, i, vocab)
			}
		}
	}
	return nil
}

// Evaluate returns the mean loss of m over the first batches of l (l is reset
// first, so every evaluation sees the same tokens). Dropout is off.
func Evaluate(m *gpt.Model, l *shard.Loader, batches int) (float32, error) {
	if batches <= 0 {
		return 0, fmt.Errorf("evaluate: batches %d must be positive", batches)
	}
	if l.T() > m.Config.ContextLen {
		return 0, fmt.Errorf("evaluate: loader sequence length T=%d is longer than the model's context length %d", l.T(), m.Config.ContextLen)
	}
	m.SetTrain(false, nil)
	l.Reset()
	var sum float64
	for i := 0; i < batches; i++ {
		x, y, err := l.Next()
		if err != nil {
			return 0, err
		}
		if err := checkTokens(x, y, m.Config.VocabSize); err != nil {
			return 0, err
		}
		loss, err := m.Forward(x, y, l.B(), l.T())
		if err != nil {
			return 0, err
		}
		sum += float64(loss)
	}
	l.Reset()
	return float32(sum / float64(batches)), nil
}
