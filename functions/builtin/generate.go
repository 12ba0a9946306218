package builtin

import (
	"context"
	"errors"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/eval"
)

// GenerateInput is the input of the built-in function "generate": continue a
// prompt with a checkpoint from the host's models directory (--models DIR).
type GenerateInput struct {
	Model             string   `json:"model"` // a checkpoint directory name under --models
	Prompt            string   `json:"prompt"`
	MaxTokens         int      `json:"max_tokens"` // default 64
	Stop              []string `json:"stop"`
	Temperature       float64  `json:"temperature"` // 0: greedy
	TopK              int      `json:"top_k"`
	TopP              float64  `json:"top_p"`
	RepetitionPenalty float64  `json:"repetition_penalty"`
	Seed              uint64   `json:"seed"`
	BadWords          []string `json:"bad_words"` // never generated (whole words, case-insensitive)
}

// GenerateOutput is the result of "generate".
type GenerateOutput struct {
	Text         string  `json:"text"`
	Tokens       []int32 `json:"tokens"`
	PromptTokens int     `json:"prompt_tokens"`
	StopReason   string  `json:"stop_reason"`
}

type stopGeneration struct{}

// Generate is the built-in "generate" (lmlib/eval.Generate with a KV cache). Progress
// is the share of max_tokens produced; the note holds the text so far.
func Generate(ctx context.Context, in *GenerateInput) (out *GenerateOutput, err error) {
	store := functions.Models(ctx)
	if store == nil {
		return nil, errors.New("generate runs on a function host")
	}
	lm, err := store.Load(in.Model)
	if err != nil {
		return nil, modelError(err)
	}
	if in.MaxTokens <= 0 {
		in.MaxTokens = 64
	}
	s := eval.Sampler{Temperature: in.Temperature, TopK: in.TopK, TopP: in.TopP, RepetitionPenalty: in.RepetitionPenalty, Seed: in.Seed}
	if err := s.Validate(); err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: "sampling options: " + err.Error()}
	}
	var banned *eval.WordList
	if len(in.BadWords) > 0 {
		if banned, err = eval.NewWordList("bad_words", in.BadWords); err != nil {
			return nil, &functions.CallError{Kind: api.KindInput, Field: "bad_words", Msg: err.Error()}
		}
	}
	lm.Mu.Lock()
	defer lm.Mu.Unlock()
	text, pieces := "", 0
	defer func() { // a timeout or cancel stops generation at the next piece of text
		if r := recover(); r != nil {
			if _, ok := r.(stopGeneration); !ok {
				panic(r)
			}
			err = ctx.Err()
		}
	}()
	g, err := eval.Generate(lm.GPT, lm.Tok, in.Prompt, eval.GenerateOptions{MaxTokens: in.MaxTokens, Stop: in.Stop, Sampler: s, BadWords: banned,
		OnText: func(p string) {
			if ctx.Err() != nil {
				panic(stopGeneration{})
			}
			text += p
			pieces++
			note := text
			if len(note) > 200 {
				note = "…" + note[len(note)-200:]
			}
			fn.Progress(ctx, float64(pieces)/float64(in.MaxTokens), note)
		}})
	if err != nil {
		return nil, err
	}
	return &GenerateOutput{Text: g.Text, Tokens: g.Tokens, PromptTokens: g.PromptTokens, StopReason: g.StopReason}, nil
}

func init() {
	functions.Register("generate", "continue a prompt with a checkpoint from --models (lmlib/eval, KV cache)", Generate)
}
