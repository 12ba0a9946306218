package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/golem-lm/golem/display"
)

// LM is a language model as lm-evaluation-harness sees it: its three request types.
type LM interface {
	// Loglikelihood returns, for each request, log P(continuation | context) summed
	// over the continuation's tokens, and whether greedy decoding yields exactly them.
	Loglikelihood(reqs []Request) ([]LoglikelihoodResult, error)
	// LoglikelihoodRolling returns log P(text) for each text, scored in windows when
	// a text is longer than the model's context (see RollingWindows).
	LoglikelihoodRolling(texts []string) ([]float64, error)
	// GenerateUntil continues each context greedily until a stop string or MaxTokens.
	GenerateUntil(reqs []GenerateRequest) ([]string, error)
}

// Request is a loglikelihood request.
type Request struct {
	Context, Continuation string
}

// LoglikelihoodResult is the answer to one Request.
type LoglikelihoodResult struct {
	LogLikelihood float64
	IsGreedy      bool
	Tokens        int // continuation tokens scored
}

// GenerateRequest is a generate_until request.
type GenerateRequest struct {
	Context   string
	Until     []string
	MaxTokens int
}

// TokenModel is a causal language model over token ids: what ModelLM needs from
// lmlib/gpt (or any other model).
type TokenModel interface {
	ContextLen() int
	VocabSize() int
	// Logits returns the next-token logits after each position of tokens,
	// len(tokens) × VocabSize, row-major. len(tokens) <= ContextLen.
	Logits(tokens []int32) ([]float32, error)
}

// Tokenizer is what ModelLM and Generate need from a tokenizer. BPE and Chars
// adapt lmlib/tokenizer's BPE and lmlib/shard's character vocabulary.
type Tokenizer interface {
	EncodeOrdinary(text string) []int // no special tokens
	DecodeText(ids []int) string      // raw text; may end inside a UTF-8 sequence
	EOT() int
}

// Window is one forward pass of a rolling log-likelihood: the model reads Input and
// the last Scored positions' next-token predictions are scored against Targets.
type Window struct {
	Input   []int32 // tokens fed to the model
	Targets []int32 // the last len(Targets) tokens predicted, aligned to Input's end
}

// RollingWindows splits tokens into windows of at most maxLen inputs so that every
// token is predicted exactly once, the first from prefix (the end-of-text token),
// each later window conditioned on the contextLen-1 tokens before what it predicts
// (lm-eval's rolling windows with context_len; lm-eval uses contextLen = 1).
func RollingWindows(tokens []int32, prefix int32, maxLen, contextLen int) ([]Window, error) {
	if maxLen < 1 || contextLen < 1 || contextLen > maxLen {
		return nil, fmt.Errorf("rolling windows: need 1 <= contextLen (%d) <= maxLen (%d)", contextLen, maxLen)
	}
	var out []Window
	if len(tokens) == 0 {
		return out, nil
	}
	first := min(maxLen, len(tokens))
	in := append([]int32{prefix}, tokens[:first-1]...)
	out = append(out, Window{Input: in, Targets: tokens[:first]})
	predLen := maxLen - contextLen + 1
	for done := first; done < len(tokens); {
		n := min(len(tokens)-done, predLen)
		end := done + n
		start := max(end-maxLen-1, 0)
		// Inputs are the tokens before each predicted one; drop the head so that
		// the window holds exactly the context the last prediction can use.
		input := tokens[start : end-1]
		if len(input) > maxLen {
			input = input[len(input)-maxLen:]
		}
		out = append(out, Window{Input: input, Targets: tokens[end-n : end]})
		done = end
	}
	return out, nil
}

// ModelLM answers lm-eval requests with a TokenModel and a Tokenizer.
type ModelLM struct {
	Model TokenModel
	Tok   Tokenizer
	// Context stops the requests between two of them when cancelled (an error).
	// [display.Context(): in a notebook, the cell's, which Jupyter's interrupt cancels]
	Context context.Context
}

// check returns an error once ctx is cancelled, naming the request reached.
func check(ctx context.Context, i int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eval: interrupted at request %d: %w", i, err)
	}
	return nil
}

// ErrEmptyContinuation is returned when a continuation encodes to no tokens.
var ErrEmptyContinuation = errors.New("continuation encodes to no tokens")

// encodePair tokenizes a request as lm-eval does: trailing whitespace of the
// context moves to the continuation, the pair is encoded whole and the
// continuation's tokens are what follows the context's tokens; an empty context is
// the end-of-text token.
func (lm *ModelLM) encodePair(ctx, cont string) (ctxIDs, contIDs []int32, err error) {
	if n := len(ctx) - len(strings.TrimRight(ctx, " \t\n\r")); n > 0 {
		cont = ctx[len(ctx)-n:] + cont
		ctx = ctx[:len(ctx)-n]
	}
	whole := lm.Tok.EncodeOrdinary(ctx + cont)
	c := lm.Tok.EncodeOrdinary(ctx)
	if len(c) > len(whole) {
		c = c[:len(whole)]
	}
	contIDs = toInt32(whole[len(c):])
	if len(contIDs) == 0 {
		return nil, nil, fmt.Errorf("loglikelihood: continuation %q: %w", cont, ErrEmptyContinuation)
	}
	if ctx == "" {
		return []int32{int32(lm.Tok.EOT())}, contIDs, nil
	}
	return toInt32(c), contIDs, nil
}

func toInt32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// scoreTargets runs the model on input and returns Σ log p(target) over the last
// len(targets) positions and whether each target was the argmax.
func (lm *ModelLM) scoreTargets(input, targets []int32) (float64, bool, error) {
	logits, err := lm.Model.Logits(input)
	if err != nil {
		return 0, false, err
	}
	v := lm.Model.VocabSize()
	ll, greedy := 0.0, true
	off := len(input) - len(targets)
	for i, tgt := range targets {
		row := logits[(off+i)*v : (off+i+1)*v]
		lp, arg := logSoftmaxAt(row, int(tgt))
		ll += lp
		if arg != int(tgt) {
			greedy = false
		}
	}
	return ll, greedy, nil
}

// logSoftmaxAt returns log softmax(row)[i] in float64 and the row's argmax.
func logSoftmaxAt(row []float32, i int) (float64, int) {
	arg := 0
	for j, x := range row {
		if x > row[arg] {
			arg = j
		}
	}
	m := float64(row[arg])
	z := 0.0
	for _, x := range row {
		z += math.Exp(float64(x) - m)
	}
	return float64(row[i]) - m - math.Log(z), arg
}

// Loglikelihood implements LM. A context+continuation longer than the model's
// context keeps its last ContextLen+1 tokens (the context is truncated from the
// left, lm-eval's rule); a continuation alone longer than that is an error.
func (lm *ModelLM) Loglikelihood(reqs []Request) ([]LoglikelihoodResult, error) {
	out := make([]LoglikelihoodResult, len(reqs))
	n := lm.Model.ContextLen()
	watch, end := display.Call(lm.Context)
	defer end()
	for i, r := range reqs {
		if err := check(watch, i); err != nil {
			return nil, err
		}
		ctx, cont, err := lm.encodePair(r.Context, r.Continuation)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		if len(cont) > n {
			return nil, fmt.Errorf("request %d: continuation is %d tokens, longer than the model's context %d", i, len(cont), n)
		}
		all := append(append([]int32{}, ctx...), cont...)
		if len(all) > n+1 {
			all = all[len(all)-(n+1):]
		}
		ll, greedy, err := lm.scoreTargets(all[:len(all)-1], cont)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		out[i] = LoglikelihoodResult{LogLikelihood: ll, IsGreedy: greedy, Tokens: len(cont)}
	}
	return out, nil
}

// LoglikelihoodRolling implements LM with lm-eval's windows (contextLen 1).
func (lm *ModelLM) LoglikelihoodRolling(texts []string) ([]float64, error) {
	out := make([]float64, len(texts))
	ctx, end := display.Call(lm.Context)
	defer end()
	for i, text := range texts {
		if err := check(ctx, i); err != nil {
			return nil, err
		}
		ws, err := RollingWindows(toInt32(lm.Tok.EncodeOrdinary(text)), int32(lm.Tok.EOT()), lm.Model.ContextLen(), 1)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			ll, _, err := lm.scoreTargets(w.Input, w.Targets)
			if err != nil {
				return nil, fmt.Errorf("text %d: %w", i, err)
			}
			out[i] += ll
		}
	}
	return out, nil
}

// GenerateUntil implements LM with greedy decoding.
func (lm *ModelLM) GenerateUntil(reqs []GenerateRequest) ([]string, error) {
	out := make([]string, len(reqs))
	ctx, end := display.Call(lm.Context)
	defer end()
	for i, r := range reqs {
		if err := check(ctx, i); err != nil {
			return nil, err
		}
		g, err := Generate(lm.Model, lm.Tok, r.Context, GenerateOptions{MaxTokens: r.MaxTokens, Stop: r.Until, Context: ctx})
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		out[i] = g.Text
	}
	return out, nil
}
