package eval

import (
	"fmt"
	"math"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/gpt"
)

// LossReport is the language-modelling loss of a model on a document stream.
type LossReport struct {
	Docs, Tokens, Bytes, Words int
	NLL                        float64 // Σ -log p(token), in nats
	Loss                       float64 // mean NLL per token (the validation loss)
	Perplexity                 float64 // exp(Loss), per token
	BitsPerByte                float64 // NLL / ln 2 / UTF-8 bytes: comparable across tokenizers
	WordPerplexity             float64 // exp(NLL / words)
}

// DisplayBundle shows the report as a table in a notebook.
func (r *LossReport) DisplayBundle() display.Bundle {
	f := func(x float64) string { return fmt.Sprintf("%.4f", x) }
	return display.Table([]string{"docs", "tokens", "loss", "perplexity", "bits/byte", "word perplexity"},
		[][]string{{fmt.Sprint(r.Docs), fmt.Sprint(r.Tokens), f(r.Loss), f(r.Perplexity), f(r.BitsPerByte), f(r.WordPerplexity)}})
}

// DocLoss scores every document of a stream with m: each document is tokenized
// without special tokens, split into rolling windows of the model's context (the
// first token predicted from the end-of-text token, every token exactly once, as
// lm-eval's loglikelihood_rolling), and windows are packed batchSize at a time
// into one masked forward pass. next returns the documents until ok is false.
// Special tokens are never scored; bytes and words count the documents' text.
// It has no options, so it watches display.Context() (lmlib's rule for long calls,
// see package lmlib): cancelled, it stops between documents with an error.
func DocLoss(m *gpt.Model, tok Tokenizer, next func() (text string, ok bool), batchSize int) (*LossReport, error) {
	if batchSize <= 0 {
		batchSize = 8
	}
	ctx, end := display.Call(nil)
	defer end()
	m.SetTrain(false, nil)
	T := m.Config.ContextLen
	r := &LossReport{}
	tokens := make([]int32, 0, batchSize*T)
	targets := make([]int32, 0, batchSize*T)
	rows, counted := 0, 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		loss, err := m.Forward(tokens, targets, rows, T)
		if err != nil {
			return err
		}
		r.NLL += float64(loss) * float64(counted)
		r.Tokens += counted
		tokens, targets, rows, counted = tokens[:0], targets[:0], 0, 0
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: doc loss interrupted after %d documents: %w", r.Docs, err)
		}
		text, ok := next()
		if !ok {
			break
		}
		r.Docs++
		r.Bytes += len(text)
		r.Words += CountWords(text)
		ws, err := RollingWindows(toInt32(tok.EncodeOrdinary(text)), int32(tok.EOT()), T, 1)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			// Row: the window's inputs, padded to T; only the last len(Targets)
			// positions are scored.
			off := len(w.Input) - len(w.Targets)
			for j := 0; j < T; j++ {
				switch {
				case j >= len(w.Input):
					tokens, targets = append(tokens, int32(tok.EOT())), append(targets, -1)
				case j < off:
					tokens, targets = append(tokens, w.Input[j]), append(targets, -1)
				default:
					tokens, targets = append(tokens, w.Input[j]), append(targets, w.Targets[j-off])
					counted++
				}
			}
			if rows++; rows == batchSize {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if r.Tokens == 0 {
		return nil, fmt.Errorf("eval: no tokens to score in %d documents", r.Docs)
	}
	r.Loss = r.NLL / float64(r.Tokens)
	r.Perplexity = math.Exp(r.Loss)
	r.BitsPerByte = r.NLL / math.Ln2 / float64(r.Bytes)
	if r.Words > 0 {
		r.WordPerplexity = math.Exp(r.NLL / float64(r.Words))
	}
	return r, nil
}

// Texts turns a slice into the document stream DocLoss reads.
func Texts(texts []string) func() (string, bool) {
	i := 0
	return func() (string, bool) {
		if i == len(texts) {
			return "", false
		}
		i++
		return texts[i-1], true
	}
}

// String is the report's table as text.
func (r *LossReport) String() string { return r.DisplayBundle()["text/plain"].(string) }
