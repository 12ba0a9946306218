package functions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/train"
	"github.com/nats-io/nats.go/jetstream"
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

// model loads (once) the checkpoint name from the models directory, fetching it
// from the shared object store first when another host trained it.
func (h *Host) model(name string) (*loadedModel, error) {
	if !validName.MatchString(name) {
		return nil, &CallError{Kind: api.KindInput, Field: "model", Msg: fmt.Sprintf("input field \"model\": %q is not a model name (a directory under --models)", name)}
	}
	h.modelMu.Lock()
	defer h.modelMu.Unlock()
	if m := h.models[name]; m != nil {
		return m, nil
	}
	dir := filepath.Join(h.cfg.ModelsDir, name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		found, err := h.fetchModel(name, dir)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &CallError{Kind: api.KindInput, Field: "model", Msg: fmt.Sprintf("input field \"model\": no model %q on this host", name)}
		}
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

// modelObjects lists the objects of a model in the shared store (name/file).
func (h *Host) modelObjects(ctx context.Context, name string) ([]string, error) {
	infos, err := h.objs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []string
	for _, in := range infos {
		if strings.HasPrefix(in.Name, name+"/") && !in.Deleted {
			out = append(out, in.Name)
		}
	}
	return out, nil
}

// publishModel copies a checkpoint directory into the shared object store.
func (h *Host) publishModel(ctx context.Context, name, dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		_, err = h.objs.Put(ctx, jetstream.ObjectMeta{Name: name + "/" + e.Name()}, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("store model %s: %w", name, err)
		}
	}
	return nil
}

// fetchModel copies a model from the shared object store into dir (atomically:
// a temporary directory renamed). It reports false when the store has no such model.
func (h *Host) fetchModel(name, dir string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	objs, err := h.modelObjects(ctx, name)
	if err != nil || len(objs) == 0 {
		return false, err
	}
	if err := os.MkdirAll(h.cfg.ModelsDir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(h.cfg.ModelsDir, ".fetch-"+name+"-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	for _, o := range objs {
		if err := h.objs.GetFile(ctx, o, filepath.Join(tmp, strings.TrimPrefix(o, name+"/"))); err != nil {
			return false, fmt.Errorf("fetch model %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return false, fmt.Errorf("fetch model %s: %w", name, err)
	}
	return true, nil
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
