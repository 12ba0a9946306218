package eval

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/golem-lm/golem/display"
)

// Stepper extends one sequence a token at a time, keeping a KV cache so a step
// costs the same however long the prompt was.
type Stepper interface {
	// Start resets the sequence to prompt and returns the logits after its last token.
	Start(prompt []int32) ([]float32, error)
	// Step appends token and returns the logits after it.
	Step(token int32) ([]float32, error)
}

// IncrementalModel is a TokenModel that offers a KV-cached Stepper.
type IncrementalModel interface {
	TokenModel
	NewStepper() (Stepper, error)
}

// GenerateOptions controls Generate. The zero value generates greedily up to 64 tokens.
type GenerateOptions struct {
	MaxTokens int      // new tokens at most (default 64)
	Stop      []string // stop when the generated text contains one (it is cut off)
	Sampler   Sampler  // temperature 0 = greedy
	NoCache   bool     // recompute the whole window each step (the reference path)
	// OnText, when set, receives the generated text piece by piece as it is
	// produced (whole UTF-8 characters only), for streaming into a notebook cell.
	OnText func(piece string)
	// Context stops generation between tokens when cancelled: Generate returns the
	// text so far (StopReason "interrupted") with the context's error.
	// [display.Context(): in a notebook, the cell's, which Jupyter's interrupt cancels]
	Context context.Context
	// OnToken, when set, receives each chosen token with the model's logits it was
	// chosen from (before temperature, filtering or penalty; valid during the
	// call only), end-of-text included: for log-probabilities.
	OnToken func(token int32, logits []float32)
	// BadWords, when set, are never emitted: before each token is chosen, every
	// token that would complete a listed word as a whole word in the generated
	// text gets probability 0 (as HF's bad_words_ids, but on the text, so no
	// spelling of the word in tokens gets through), and so does ending the text
	// on one, also where a stop string cuts it. A word the prompt completes is
	// the prompt's.
	BadWords *WordList
}

// Generation is the result of Generate.
type Generation struct {
	Text         string  // generated text (without the prompt, cut at a stop string)
	Tokens       []int32 // generated token ids
	PromptTokens int     // prompt tokens used (after left truncation to the context)
	StopReason   string  // "stop", "max_tokens", "eot" or "interrupted"
}

// Generate continues prompt with model. A prompt longer than the model's context is
// truncated from the left to its last ContextLen-1 tokens, so at least one new token
// fits; once prompt+generation fills the context the window slides (the oldest
// tokens drop out), identically with and without the KV cache.
func Generate(model TokenModel, tok Tokenizer, prompt string, opts GenerateOptions) (*Generation, error) {
	return GenerateTokens(model, tok, toInt32(tok.EncodeOrdinary(prompt)), opts)
}

// GenerateTokens is Generate for a prompt given as token ids (an empty prompt is
// the end-of-text token).
func GenerateTokens(model TokenModel, tok Tokenizer, prompt []int32, opts GenerateOptions) (*Generation, error) {
	if err := opts.Sampler.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = 64
	}
	if opts.MaxTokens < 0 {
		return nil, fmt.Errorf("generate: max tokens %d must be positive", opts.MaxTokens)
	}
	ctx, end := display.Call(opts.Context)
	defer end()
	n := model.ContextLen()
	seq := append([]int32(nil), prompt...)
	if len(seq) == 0 {
		seq = []int32{int32(tok.EOT())}
	}
	if len(seq) > n-1 {
		seq = seq[len(seq)-(n-1):]
	}
	g := &Generation{PromptTokens: len(seq), StopReason: "max_tokens"}

	var stepper Stepper
	if im, ok := model.(IncrementalModel); ok && !opts.NoCache {
		s, err := im.NewStepper()
		if err != nil {
			return nil, err
		}
		stepper = s
	}
	next := func(appended int32, first bool) ([]float32, error) {
		window := seq
		if len(window) > n {
			window = window[len(window)-n:]
		}
		if stepper != nil {
			if first || len(seq) > n {
				return stepper.Start(window)
			}
			return stepper.Step(appended)
		}
		all, err := model.Logits(window)
		if err != nil {
			return nil, err
		}
		v := model.VocabSize()
		return all[(len(window)-1)*v:], nil
	}

	logits, err := next(0, true)
	if err != nil {
		return nil, err
	}
	var filter *wordFilter
	var promptText string
	if opts.BadWords != nil {
		filter = newWordFilter(opts.BadWords, tok, model.VocabSize())
		promptText = tok.DecodeText(toInts(seq))
		filter.start(promptText)
	}
	sampler := opts.Sampler
	emitted := 0
	for len(g.Tokens) < opts.MaxTokens {
		if err := ctx.Err(); err != nil {
			g.StopReason = "interrupted"
			emit(opts.OnText, g.Text, &emitted, true)
			return g, fmt.Errorf("generate: interrupted after %d tokens: %w", len(g.Tokens), err)
		}
		var t int32
		var stopBanned []int32 // tokens whose stop string would end the text on a listed word
		for {
			work := append([]float32(nil), logits...)
			if filter != nil {
				if err := filter.ban(work, len(g.Tokens) == opts.MaxTokens-1); err != nil {
					return nil, err
				}
				for _, b := range stopBanned {
					work[b] = float32(math.Inf(-1))
				}
			}
			t = sampler.Sample(work, seq)
			if filter == nil || len(opts.Stop) == 0 || int(t) == tok.EOT() {
				break
			}
			// A stop string that starts with a word character cuts the text
			// right after what was only the start of a longer word.
			text := tok.DecodeText(toInts(append(g.Tokens[:len(g.Tokens):len(g.Tokens)], t)))
			cut, ok := firstStop(text, opts.Stop)
			if !ok || !filter.endsOnWord(promptText, text[:cut]) {
				break
			}
			if stopBanned = append(stopBanned, t); len(stopBanned) > 64 {
				return nil, fmt.Errorf("generate: every likely token ends the text on a listed word at a stop string")
			}
		}
		if filter != nil {
			filter.accept(int(t))
		}
		if opts.OnToken != nil {
			opts.OnToken(t, logits)
		}
		if int(t) == tok.EOT() {
			g.StopReason = "eot"
			break
		}
		g.Tokens = append(g.Tokens, t)
		seq = append(seq, t)
		text := tok.DecodeText(toInts(g.Tokens))
		if cut, ok := firstStop(text, opts.Stop); ok {
			g.Text = text[:cut]
			g.StopReason = "stop"
			emit(opts.OnText, g.Text, &emitted, true)
			return g, nil
		}
		g.Text = text
		emit(opts.OnText, text, &emitted, false)
		if len(g.Tokens) == opts.MaxTokens {
			break
		}
		if logits, err = next(t, false); err != nil {
			return nil, err
		}
	}
	emit(opts.OnText, g.Text, &emitted, true)
	return g, nil
}

func toInts(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// firstStop returns where the earliest stop string starts in text.
func firstStop(text string, stops []string) (int, bool) {
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best, best >= 0
}

// emit sends the not-yet-emitted tail of text, holding back an incomplete UTF-8
// sequence at the end (and a possible stop-string prefix is not held back: stop
// strings are cut from Text, pieces already streamed stay streamed).
func emit(f func(string), text string, done *int, final bool) {
	if f == nil || *done >= len(text) {
		return
	}
	end := len(text)
	if !final {
		for end > *done && !utf8.ValidString(text[*done:end]) {
			end--
		}
	}
	if end > *done {
		f(text[*done:end])
		*done = end
	}
}
