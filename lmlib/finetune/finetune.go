// Package finetune continues training a pretrained GPT on prompt/completion pairs
// (supervised fine-tuning): the loss counts only the completion tokens (and the
// end-of-text token after them), the learning-rate schedule is its own (short
// warmup, cosine decay from a small peak), and the result is saved as a new
// checkpoint that records its parent.
package finetune

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/train"
)

// Example is one line of a fine-tuning JSONL file: {"prompt": …, "completion": …}.
type Example struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
}

// ReadExamples reads prompt/completion JSONL; a bad line is an error naming the
// file and line.
func ReadExamples(path string) ([]Example, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fine-tuning data %s: %w", path, err)
	}
	var out []Example
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("fine-tuning data %s line %d: invalid UTF-8", path, line)
		}
		var e Example
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("fine-tuning data %s line %d: %v", path, line, err)
		}
		if e.Completion == "" {
			return nil, fmt.Errorf("fine-tuning data %s line %d: empty completion", path, line)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fine-tuning data %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fine-tuning data %s: no examples", path)
	}
	return out, nil
}

// Options configures FineTune. Zero values take the defaults in brackets.
type Options struct {
	Context     context.Context // cancel to stop at the next step boundary [display.Context(): the cell's, in a notebook]
	Steps       int             // optimizer steps [200]
	BatchSize   int             // examples per step [8]
	LR          float32         // peak learning rate [1e-4: far below pretraining's]
	MinLR       float32         // end of the cosine decay [LR/10]
	WarmupSteps int             // linear warmup [Steps/20]
	WeightDecay float32         // decoupled weight decay on matrices [0; negative = none]
	GradClip    float32         // global-norm clip [1; negative = none]
	EvalEvery   int             // held-out completion loss every N steps [Steps/10]
	Seed        uint64          // example order
	Quiet       bool            // no live progress
}

func (o Options) withDefaults() (Options, error) {
	if o.Context == nil {
		o.Context = display.Context()
	}
	if o.Steps == 0 {
		o.Steps = 200
	}
	if o.BatchSize == 0 {
		o.BatchSize = 8
	}
	if o.LR == 0 {
		o.LR = 1e-4
	}
	if o.MinLR == 0 {
		o.MinLR = o.LR / 10
	}
	if o.WarmupSteps == 0 {
		o.WarmupSteps = max(o.Steps/20, 1)
	}
	if o.WeightDecay < 0 {
		o.WeightDecay = 0
	}
	if o.GradClip == 0 {
		o.GradClip = 1
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = max(o.Steps/10, 1)
	}
	switch {
	case o.Steps < 0 || o.BatchSize < 0 || o.WarmupSteps < 0 || o.EvalEvery < 0:
		return o, fmt.Errorf("finetune: Steps %d, BatchSize %d, WarmupSteps %d and EvalEvery %d must not be negative", o.Steps, o.BatchSize, o.WarmupSteps, o.EvalEvery)
	case !(o.LR > 0) || o.MinLR < 0 || o.MinLR > o.LR:
		return o, fmt.Errorf("finetune: need 0 <= MinLR (%g) <= LR (%g) and LR > 0", o.MinLR, o.LR)
	}
	return o, nil
}

// LRAt is the learning rate of step (from 1): linear warmup to LR, then cosine to MinLR.
func (o Options) LRAt(step int) float32 {
	if step <= o.WarmupSteps {
		return o.LR * float32(step) / float32(o.WarmupSteps)
	}
	frac := float64(step-o.WarmupSteps) / float64(max(o.Steps-o.WarmupSteps, 1))
	frac = math.Min(frac, 1)
	return o.MinLR + float32(0.5*(1+math.Cos(math.Pi*frac)))*(o.LR-o.MinLR)
}

// Batch is a padded batch of examples: Targets is -1 everywhere except at the
// positions whose next token belongs to a completion (or its end-of-text token).
type Batch struct {
	Tokens, Targets []int32
	B, T            int
	Counted         int // targets that count
}

// encoded is one example as tokens with the index where the completion starts.
type encoded struct {
	ids   []int32
	start int // ids[start:] are the completion and the EOT token
}

func encode(tok eval.Tokenizer, e Example, n int) (encoded, error) {
	p := tok.EncodeOrdinary(e.Prompt)
	c := tok.EncodeOrdinary(e.Completion)
	if len(c) == 0 {
		return encoded{}, fmt.Errorf("completion %q encodes to no tokens", e.Completion)
	}
	ids := make([]int32, 0, len(p)+len(c)+1)
	for _, id := range p {
		ids = append(ids, int32(id))
	}
	start := len(ids)
	for _, id := range c {
		ids = append(ids, int32(id))
	}
	ids = append(ids, int32(tok.EOT()))
	if len(ids)-start > n {
		return encoded{}, fmt.Errorf("completion is %d tokens (with end-of-text), longer than the model's context %d", len(ids)-start, n)
	}
	// A prompt too long for the context loses its beginning (the documented rule);
	// n+1 tokens give n inputs and n targets.
	if len(ids) > n+1 {
		cut := len(ids) - (n + 1)
		ids, start = ids[cut:], start-cut
	}
	return encoded{ids: ids, start: start}, nil
}

// makeBatch pads encoded examples into one B×T batch, B = len(exs) and T = the
// longest example's input length (at most the context length: encode truncates).
// Only completion positions (from e.start on) have targets, Counted of them; prompt
// and padding positions have target -1, and padding positions hold pad.
func makeBatch(exs []encoded, pad int32) Batch {
	T := 1
	for _, e := range exs {
		T = max(T, len(e.ids)-1)
	}
	b := Batch{B: len(exs), T: T, Tokens: make([]int32, len(exs)*T), Targets: make([]int32, len(exs)*T)}
	for i := range b.Tokens {
		b.Tokens[i], b.Targets[i] = pad, -1
	}
	for r, e := range exs {
		for j := 0; j < len(e.ids)-1; j++ {
			b.Tokens[r*T+j] = e.ids[j]
			if j+1 >= e.start { // position j predicts ids[j+1]
				b.Targets[r*T+j] = e.ids[j+1]
				b.Counted++
			}
		}
	}
	return b
}

// Result reports a fine-tuning run.
type Result struct {
	Steps       int
	TrainLoss   []float32 // per step
	HeldOutLoss []float32 // at steps HeldOutSteps
	HeldOutStep []int
	Interrupted bool
	Duration    time.Duration
}

// CompletionLoss is the mean cross-entropy over the completion tokens (and their
// end-of-text) of exs, batch by batch, with the model in evaluation mode.
func CompletionLoss(m *gpt.Model, tok eval.Tokenizer, exs []Example, batchSize int) (float32, error) {
	enc, err := encodeAll(tok, exs, m.Config.ContextLen)
	if err != nil {
		return 0, err
	}
	m.SetTrain(false, nil)
	var sum float64
	var count int
	for i := 0; i < len(enc); i += batchSize {
		b := makeBatch(enc[i:min(i+batchSize, len(enc))], int32(tok.EOT()))
		loss, err := m.Forward(b.Tokens, b.Targets, b.B, b.T)
		if err != nil {
			return 0, err
		}
		sum += float64(loss) * float64(b.Counted)
		count += b.Counted
	}
	return float32(sum / float64(count)), nil
}

func encodeAll(tok eval.Tokenizer, exs []Example, n int) ([]encoded, error) {
	out := make([]encoded, len(exs))
	for i, e := range exs {
		enc, err := encode(tok, e, n)
		if err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
		out[i] = enc
	}
	return out, nil
}

// FineTune trains m on the examples of trainSet, measuring the completion loss of
// heldOut (may be empty) every EvalEvery steps. The model keeps the weights of the
// last completed step when the context is cancelled.
func FineTune(m *gpt.Model, tok eval.Tokenizer, trainSet, heldOut []Example, opts Options) (*Result, error) {
	var end func()
	opts.Context, end = display.Call(opts.Context)
	defer end()
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(trainSet) == 0 {
		return nil, fmt.Errorf("finetune: no training examples")
	}
	enc, err := encodeAll(tok, trainSet, m.Config.ContextLen)
	if err != nil {
		return nil, fmt.Errorf("finetune: %w", err)
	}
	if _, err := encodeAll(tok, heldOut, m.Config.ContextLen); err != nil {
		return nil, fmt.Errorf("finetune: held-out %w", err)
	}
	mState, vState := make([]float32, len(m.Params)), make([]float32, len(m.Params))
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xda942042e4dd58b5))
	order := rng.Perm(len(enc))
	next := 0
	res := &Result{}
	start := time.Now()
	var h *display.Handle
	if !o.Quiet {
		h = display.NewHandle()
	}
	evalNow := func(step int) error {
		if len(heldOut) == 0 {
			return nil
		}
		l, err := CompletionLoss(m, tok, heldOut, o.BatchSize)
		if err != nil {
			return err
		}
		res.HeldOutLoss = append(res.HeldOutLoss, l)
		res.HeldOutStep = append(res.HeldOutStep, step)
		return nil
	}
	if err := evalNow(0); err != nil {
		return nil, fmt.Errorf("finetune: %w", err)
	}
	for step := 1; step <= o.Steps; step++ {
		if o.Context.Err() != nil {
			res.Interrupted = true
			break
		}
		batch := make([]encoded, 0, o.BatchSize)
		for len(batch) < o.BatchSize {
			if next == len(order) {
				order, next = rng.Perm(len(enc)), 0
			}
			batch = append(batch, enc[order[next]])
			next++
		}
		b := makeBatch(batch, int32(tok.EOT()))
		m.SetTrain(true, nil)
		m.ZeroGrad()
		loss, err := m.ForwardBackward(b.Tokens, b.Targets, b.B, b.T)
		if err != nil {
			return res, fmt.Errorf("finetune step %d: %w", step, err)
		}
		if o.GradClip > 0 {
			if n := m.GradNorm(); n > o.GradClip {
				m.ScaleGrads(o.GradClip / n)
			}
		}
		m.AdamWStep(o.LRAt(step), 0.9, 0.99, 1e-8, o.WeightDecay, step, mState, vState)
		res.Steps = step
		res.TrainLoss = append(res.TrainLoss, loss)
		if step%o.EvalEvery == 0 || step == o.Steps {
			if err := evalNow(step); err != nil {
				return res, fmt.Errorf("finetune: %w", err)
			}
		}
		if h != nil {
			status := fmt.Sprintf("finetune step %d/%d  loss %.4f  lr %.2e", step, o.Steps, loss, o.LRAt(step))
			if k := len(res.HeldOutLoss); k > 0 {
				status += fmt.Sprintf("  held-out %.4f", res.HeldOutLoss[k-1])
			}
			if display.Active() || step == o.Steps || step%max(o.Steps/10, 1) == 0 {
				h.Text(status)
			}
		}
	}
	m.SetTrain(false, nil)
	res.Duration = time.Since(start)
	return res, nil
}

// Info is written as finetune.json next to a fine-tuned checkpoint.
type Info struct {
	Parent    string    `json:"parent"` // checkpoint the weights came from
	Data      string    `json:"data,omitempty"`
	Examples  int       `json:"examples"`
	Options   Options   `json:"options"`
	Result    *Result   `json:"result"`
	CreatedAt time.Time `json:"created_at"`
}

// Save writes m as a golem checkpoint in dir (loadable by train.LoadModel and the
// golem CLI) with finetune.json naming its parent, and the tokenizer.json of the
// parent run when there is one. The directory appears complete or not at all.
func Save(m *gpt.Model, dir string, info Info) error {
	info.Options.Context = nil
	info.CreatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(info, "", " ")
	if err != nil {
		return fmt.Errorf("finetune: save %s: %w", dir, err)
	}
	extra := map[string][]byte{"finetune.json": append(b, '\n')}
	if p, ok := eval.FindTokenizerFile(info.Parent); ok && info.Parent != "" {
		if tb, err := os.ReadFile(p); err == nil {
			extra[filepath.Base(p)] = tb
		}
	}
	steps := 0
	if info.Result != nil {
		steps = info.Result.Steps
	}
	return train.SaveModel(m, dir, steps, map[string]string{"parent": info.Parent}, extra)
}

// Parent returns the parent recorded in a fine-tuned checkpoint ("" for a
// pretrained one).
func Parent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "finetune.json"))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return "", fmt.Errorf("finetune.json in %s: %w", dir, err)
	}
	return strings.TrimSpace(info.Parent), nil
}
