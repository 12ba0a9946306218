package functions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/train"
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
}

// GenerateOutput is the result of "generate".
type GenerateOutput struct {
	Text         string  `json:"text"`
	Tokens       []int32 `json:"tokens"`
	PromptTokens int     `json:"prompt_tokens"`
	StopReason   string  `json:"stop_reason"`
}

type hostKey struct{}

type stopGeneration struct{}

// loadedModel is a checkpoint in memory; a model's activations are its own, so
// one generation at a time runs on it.
type loadedModel struct {
	mu  sync.Mutex
	gpt *eval.GPT
	tok eval.Tokenizer
}

// model loads (once) the checkpoint name from the models directory.
func (h *Host) model(name string) (*loadedModel, error) {
	if h.cfg.ModelsDir == "" {
		return nil, &CallError{Kind: "input", Field: "model", Msg: "this host serves no models: start golem serve with --models DIR"}
	}
	if !validName.MatchString(name) {
		return nil, &CallError{Kind: "input", Field: "model", Msg: fmt.Sprintf("input field \"model\": %q is not a model name (a directory under --models)", name)}
	}
	h.modelMu.Lock()
	defer h.modelMu.Unlock()
	if m := h.models[name]; m != nil {
		return m, nil
	}
	dir := filepath.Join(h.cfg.ModelsDir, name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, &CallError{Kind: api.KindInput, Field: "model", Msg: fmt.Sprintf("input field \"model\": no model %q on this host", name)}
	}
	m, err := train.LoadModel(dir)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", name, err)
	}
	tok, err := eval.LoadTokenizer("", dir)
	if err != nil {
		return nil, fmt.Errorf("load the tokenizer of model %s: %w", name, err)
	}
	lm := &loadedModel{gpt: eval.NewGPT(m), tok: tok}
	h.models[name] = lm
	return lm, nil
}

// Generate is the built-in "generate" (lmlib/eval.Generate with a KV cache). Progress
// is the share of max_tokens produced; the note holds the text so far.
func Generate(ctx context.Context, in *GenerateInput) (out *GenerateOutput, err error) {
	h, _ := ctx.Value(hostKey{}).(*Host)
	if h == nil {
		return nil, errors.New("generate runs on a function host")
	}
	lm, err := h.model(in.Model)
	if err != nil {
		return nil, err
	}
	if in.MaxTokens <= 0 {
		in.MaxTokens = 64
	}
	s := eval.Sampler{Temperature: in.Temperature, TopK: in.TopK, TopP: in.TopP, RepetitionPenalty: in.RepetitionPenalty, Seed: in.Seed}
	if err := s.Validate(); err != nil {
		return nil, &CallError{Kind: "input", Msg: "sampling options: " + err.Error()}
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	text, pieces := "", 0
	defer func() { // a timeout or cancel stops generation at the next piece of text
		if r := recover(); r != nil {
			if _, ok := r.(stopGeneration); !ok {
				panic(r)
			}
			err = ctx.Err()
		}
	}()
	g, err := eval.Generate(lm.gpt, lm.tok, in.Prompt, eval.GenerateOptions{MaxTokens: in.MaxTokens, Stop: in.Stop, Sampler: s,
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
	RegisterBuiltin(Builtin{Name: "generate", Summary: "continue a prompt with a checkpoint from --models (lmlib/eval, KV cache)",
		Input: reflect.TypeOf(GenerateInput{}),
		Call:  func(ctx context.Context, in any) (any, error) { return Generate(ctx, in.(*GenerateInput)) }})
}
