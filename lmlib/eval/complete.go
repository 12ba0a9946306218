package eval

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CompletionRequest is one prompt of an OpenAI-style completion (what a server's
// /v1/completions runs per prompt and choice).
type CompletionRequest struct {
	Prompt    []int32 // token ids, at least one
	MaxTokens int     // new tokens at most; 0 only with Echo (score the prompt)
	Stop      []string
	Sampler   Sampler
	// Echo puts the prompt's tokens (with their log-probabilities) before the
	// completion's: how lm-evaluation-harness scores a continuation through an API.
	Echo bool
	// TopLogprobs is how many most likely alternatives to report per token (0:
	// none; the chosen token's own log-probability is always reported).
	TopLogprobs int
	Context     context.Context
	// OnText receives the generated text piece by piece (streaming).
	OnText func(piece string)
	// BadWords are never generated (GenerateOptions.BadWords).
	BadWords *WordList
}

// TokenLogprob is one token of a completion with its log-probability under the
// model (before temperature or filtering, as vLLM and OpenAI report them).
type TokenLogprob struct {
	Token   int32
	Text    string   // the token's text; "bytes:\xNN…" when not valid UTF-8 alone
	Logprob *float64 // nil for the first token of an echoed prompt
	Top     []Alternative
	Offset  int // characters of the completion's text before this token
}

// Alternative is one of the most likely tokens at a position.
type Alternative struct {
	Text    string
	Logprob float64
}

// Completion is the result of Complete.
type Completion struct {
	Text             string         // the echoed prompt's text (with Echo), then the generated text
	Tokens           []TokenLogprob // the echoed prompt's tokens (with Echo), then the generated ones
	PromptTokens     int
	CompletionTokens int
	FinishReason     string // "stop" (end of text or a stop string) or "length"
}

// Complete runs one completion: with Echo, the prompt's log-probabilities from one
// forward pass, then up to MaxTokens generated tokens (GenerateTokens: the KV
// cache, the window sliding past the context) with theirs. A prompt may have up to
// ContextLen tokens, ContextLen+1 with Echo (the first is only read), as
// lm-evaluation-harness sends them.
func Complete(model IncrementalModel, tok Tokenizer, req CompletionRequest) (*Completion, error) {
	n := model.ContextLen()
	L := len(req.Prompt)
	switch {
	case L == 0:
		return nil, fmt.Errorf("complete: the prompt has no tokens")
	case req.Echo && L > n+1:
		return nil, fmt.Errorf("complete: the prompt is %d tokens; this model reads at most %d (its context, +1 when echoed)", L, n+1)
	case !req.Echo && L > n:
		return nil, fmt.Errorf("complete: the prompt is %d tokens; this model's context is %d", L, n)
	case req.MaxTokens < 0 || req.MaxTokens == 0 && !req.Echo:
		return nil, fmt.Errorf("complete: max tokens %d must be positive (0 only with echo)", req.MaxTokens)
	case req.TopLogprobs < 0 || req.TopLogprobs > model.VocabSize():
		return nil, fmt.Errorf("complete: top logprobs %d must be in [0, %d]", req.TopLogprobs, model.VocabSize())
	}
	for i, t := range req.Prompt {
		if t < 0 || int(t) >= model.VocabSize() {
			return nil, fmt.Errorf("complete: prompt token %d at position %d is outside the vocabulary [0,%d)", t, i, model.VocabSize())
		}
	}
	c := &Completion{PromptTokens: L, FinishReason: "length"}
	var ids []int
	add := func(t int32, lp *float64, top []Alternative) {
		c.Tokens = append(c.Tokens, TokenLogprob{Token: t, Text: tokenText(tok, int(t)), Logprob: lp, Top: top,
			Offset: utf8.RuneCountInString(tok.DecodeText(ids))})
		ids = append(ids, int(t))
	}
	if req.Echo {
		window := req.Prompt[:min(L, n)]
		logits, err := model.Logits(window)
		if err != nil {
			return nil, err
		}
		v := model.VocabSize()
		add(req.Prompt[0], nil, nil)
		for i := 1; i < L; i++ {
			row := logits[(i-1)*v : i*v]
			lp, _ := logSoftmaxAt(row, int(req.Prompt[i]))
			add(req.Prompt[i], &lp, topAlternatives(tok, row, req.TopLogprobs))
		}
		c.Text = tok.DecodeText(ids)
		if req.MaxTokens == 0 {
			return c, nil
		}
	}
	echoed := len(ids)
	g, err := GenerateTokens(model, tok, req.Prompt, GenerateOptions{MaxTokens: req.MaxTokens, Stop: req.Stop, Sampler: req.Sampler,
		Context: req.Context, OnText: req.OnText, BadWords: req.BadWords,
		OnToken: func(t int32, logits []float32) {
			if int(t) == tok.EOT() {
				return // the end of the text is the finish reason, not a token of it
			}
			lp, _ := logSoftmaxAt(logits, int(t))
			c.Tokens = append(c.Tokens, TokenLogprob{Token: t, Text: tokenText(tok, int(t)), Logprob: &lp,
				Top: topAlternatives(tok, logits, req.TopLogprobs)})
		}})
	if err != nil {
		return nil, err
	}
	// Offsets of the generated tokens; a stop string cut the text, not the tokens.
	gen := c.Tokens[echoed:]
	for i := range gen {
		gen[i].Offset = utf8.RuneCountInString(c.Text) + utf8.RuneCountInString(tok.DecodeText(toInts(g.Tokens[:i])))
	}
	c.Text += g.Text
	c.CompletionTokens = len(g.Tokens)
	if g.StopReason == "eot" || g.StopReason == "stop" {
		c.FinishReason = "stop"
	}
	return c, nil
}

// tokenText is a token's text, or its bytes spelled as OpenAI does when they are
// not valid UTF-8 on their own (part of a character).
func tokenText(tok Tokenizer, id int) string {
	s := tok.DecodeText([]int{id})
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.WriteString("bytes:")
	for i := 0; i < len(s); i++ {
		b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
	}
	return b.String()
}

// topAlternatives returns the k most likely tokens of a logits row with their
// log-probabilities, most likely first (the lower id first on ties).
func topAlternatives(tok Tokenizer, row []float32, k int) []Alternative {
	if k <= 0 {
		return nil
	}
	// One pass keeping the k best in order: O(V·k) for the small k an API allows.
	best := make([]int, 0, k+1)
	for i, x := range row {
		if len(best) == k && x <= row[best[k-1]] {
			continue
		}
		j := sort.Search(len(best), func(j int) bool { return row[best[j]] < x })
		best = append(best, 0)
		copy(best[j+1:], best[j:])
		best[j] = i
		if len(best) > k {
			best = best[:k]
		}
	}
	m := float64(row[best[0]])
	z := 0.0
	for _, x := range row {
		z += math.Exp(float64(x) - m)
	}
	lz := math.Log(z)
	out := make([]Alternative, len(best))
	for i, id := range best {
		// The same expression as logSoftmaxAt: the chosen token's value and its top
		// alternative's compare equal, bit for bit (lm-eval's greedy test).
		out[i] = Alternative{Text: tokenText(tok, id), Logprob: float64(row[id]) - m - lz}
	}
	return out
}
