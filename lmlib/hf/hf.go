// Package hf converts golem models to and from Hugging Face checkpoint directories
// (model.safetensors, config.json, tokenizer.json, generation_config.json), so a
// model trained in golem loads with transformers' AutoModelForCausalLM.from_pretrained,
// and one from the HF ecosystem runs in golem.
//
// A GPT-2 configuration (gpt.Config without the modern switches, Untied allowed) is
// GPT2LMHeadModel: golem's tensor names and layouts are already GPT-2's (Conv1D
// weights stored (in, out)), so conversion is renaming plus, for a model trained
// without biases, zero biases (HF GPT-2 always has them). The modern recipe maps onto
// the Llama family without gating: RoPE + RMSNorm (with ReLU² or GELU, untied or not,
// biases or not) is ArceeForCausalLM, and with QK-norm (no biases) ApertusForCausalLM,
// whose per-head q_norm/k_norm weights are exported as ones; their nn.Linear weights
// are (out, in), golem's transposed. A configuration with no counterpart (a logit
// soft-cap, RoPE with LayerNorm, …) is refused with an error naming the switch.
package hf

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

// Config is the subset of HF's GPT2Config golem reads and writes.
type Config struct {
	Architectures      []string `json:"architectures"`
	ModelType          string   `json:"model_type"`
	VocabSize          int      `json:"vocab_size"`
	NPositions         int      `json:"n_positions"`
	NCtx               int      `json:"n_ctx,omitempty"`
	NEmbd              int      `json:"n_embd"`
	NLayer             int      `json:"n_layer"`
	NHead              int      `json:"n_head"`
	NInner             *int     `json:"n_inner"`
	ActivationFunction string   `json:"activation_function"`
	ResidPdrop         float32  `json:"resid_pdrop"`
	EmbdPdrop          float32  `json:"embd_pdrop"`
	AttnPdrop          float32  `json:"attn_pdrop"`
	LayerNormEpsilon   float64  `json:"layer_norm_epsilon"`
	InitializerRange   float64  `json:"initializer_range"`
	BosTokenID         int      `json:"bos_token_id"`
	EosTokenID         int      `json:"eos_token_id"`
	TieWordEmbeddings  *bool    `json:"tie_word_embeddings,omitempty"`
	TorchDtype         string   `json:"torch_dtype,omitempty"`
	ScaleAttnWeights   *bool    `json:"scale_attn_weights,omitempty"`
}

const prefix = "transformer."

// hfName maps a golem tensor name to the GPT2LMHeadModel state-dict key.
func hfName(golem string) string {
	switch golem {
	case "wte", "wpe":
		return prefix + golem + ".weight"
	case "lm_head.weight": // an untied head: GPT2LMHeadModel's own
		return golem
	}
	return prefix + golem
}

// biasShapes lists every bias HF GPT-2 has, with its length, for width C.
func biasShapes(cfg gpt.Config) map[string]int {
	C := cfg.Width
	out := map[string]int{"ln_f.bias": C}
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("h.%d.", l)
		out[p+"ln_1.bias"] = C
		out[p+"ln_2.bias"] = C
		out[p+"attn.c_attn.bias"] = 3 * C
		out[p+"attn.c_proj.bias"] = C
		out[p+"mlp.c_fc.bias"] = 4 * C
		out[p+"mlp.c_proj.bias"] = C
	}
	return out
}

// The Hugging Face architectures golem exports (Architecture).
const (
	ArchGPT2    = "gpt2"    // GPT2LMHeadModel
	ArchArcee   = "arcee"   // ArceeForCausalLM: Llama with a plain (ungated) MLP
	ArchApertus = "apertus" // ApertusForCausalLM: Arcee's block with per-head QK-norm
)

// Architecture returns the Hugging Face model_type a model of config c exports to,
// or an error naming the first switch (or combination) that has no counterpart.
func Architecture(c gpt.Config) (string, error) {
	switch {
	case c.SoftCap > 0:
		return "", fmt.Errorf("Config.SoftCap %v has no counterpart in the Hugging Face architectures golem exports (GPT-2, Arcee, Apertus); train with SoftCap 0 to export", c.SoftCap)
	case !c.Rotary && !c.RMSNorm && !c.QKNorm && !c.ReLU2:
		return ArchGPT2, nil
	case !c.Rotary:
		return "", fmt.Errorf("Config.RMSNorm, QKNorm or ReLU2 with learned position embeddings (Config.Rotary off) has no Hugging Face counterpart: GPT-2 has LayerNorm, GELU and no QK-norm, the Llama family RoPE")
	case !c.RMSNorm:
		return "", fmt.Errorf("Config.Rotary with LayerNorm (Config.RMSNorm off) has no Hugging Face counterpart golem exports: the Llama family has RMSNorm")
	case c.QKNorm && c.Bias:
		return "", fmt.Errorf("Config.QKNorm with Config.Bias has no Hugging Face counterpart: Apertus (QK-norm) has no MLP biases, Arcee (biases) no QK-norm")
	case c.QKNorm:
		return ArchApertus, nil
	}
	return ArchArcee, nil
}

// Export writes m and its tokenizer as an HF checkpoint directory out (created; an
// existing directory is an error): GPT-2, Arcee or Apertus (Architecture). tok may be
// nil for a model whose tokenizer is not byte-level BPE (then no tokenizer files are
// written).
func Export(m *gpt.Model, tok *tokenizer.Tokenizer, out string) error {
	fail := func(err error) error { return fmt.Errorf("hf export %s: %w", out, err) }
	if _, err := os.Stat(out); err == nil {
		return fail(fmt.Errorf("already exists"))
	}
	c := m.Config
	arch, err := Architecture(c)
	if err != nil {
		return fail(err)
	}
	if tok != nil && tok.VocabSize() > c.VocabSize {
		return fail(fmt.Errorf("tokenizer has %d tokens, the model only %d", tok.VocabSize(), c.VocabSize))
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(out)), 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)

	eos := c.VocabSize - 1
	if tok != nil {
		eos = tok.EOT()
	}
	var nts []train.NamedTensor
	var hc any
	if arch == ArchGPT2 {
		for _, t := range m.Tensors() {
			nts = append(nts, train.NamedTensor{Name: hfName(t.Name), Shape: t.Shape, Data: m.Params[t.Offset : t.Offset+t.Size]})
		}
		if !c.Bias {
			shapes := biasShapes(c)
			names := make([]string, 0, len(shapes))
			for name := range shapes {
				names = append(names, name)
			}
			sort.Strings(names) // the same bytes on every export
			for _, name := range names {
				nts = append(nts, train.NamedTensor{Name: prefix + name, Shape: []int{shapes[name]}, Data: make([]float32, shapes[name])})
			}
		}
		tie, scale := !c.Untied, true
		hc = Config{
			Architectures: []string{"GPT2LMHeadModel"}, ModelType: "gpt2",
			VocabSize: c.VocabSize, NPositions: c.ContextLen, NCtx: c.ContextLen, NEmbd: c.Width, NLayer: c.Layers, NHead: c.Heads,
			ActivationFunction: "gelu_new", ResidPdrop: c.Dropout, EmbdPdrop: c.Dropout, AttnPdrop: c.Dropout,
			LayerNormEpsilon: 1e-5, InitializerRange: 0.02, BosTokenID: eos, EosTokenID: eos,
			TieWordEmbeddings: &tie, TorchDtype: "float32", ScaleAttnWeights: &scale,
		}
	} else {
		nts = llamaTensors(m, arch)
		hc = llamaConfig(c, arch, eos)
	}
	if err := train.WriteSafetensors(filepath.Join(tmp, "model.safetensors"), nts, map[string]string{"format": "pt"}); err != nil {
		return fail(err)
	}
	files := map[string]any{
		"config.json": hc,
		"generation_config.json": map[string]any{
			"bos_token_id": eos, "eos_token_id": eos, "max_length": c.ContextLen, "do_sample": false,
		},
	}
	if tok != nil {
		eot := "<|endoftext|>"
		for s, id := range tok.SpecialTokens() {
			if id == tok.EOT() {
				eot = s
			}
		}
		files["tokenizer_config.json"] = map[string]any{
			"tokenizer_class": "GPT2TokenizerFast", "model_max_length": c.ContextLen,
			"bos_token": eot, "eos_token": eot, "unk_token": eot, "add_prefix_space": false,
		}
		if err := tok.SaveHF(filepath.Join(tmp, "tokenizer.json")); err != nil {
			return fail(err)
		}
	}
	for name, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fail(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), append(b, '\n'), 0o644); err != nil {
			return fail(err)
		}
	}
	if err := publishable(tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fail(err)
	}
	return nil
}

// publishable gives the export directory and its files ordinary permissions
// (temporary files are created private).
func publishable(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o755)
}

// ReadConfig reads and checks an HF GPT-2 config.json: the architecture must be
// one golem computes exactly (GPT-2 with the tanh GELU and LayerNorm ε 1e-5). An
// untied head (tie_word_embeddings false) is Config.Untied. Arcee and Apertus
// checkpoints are read by Import (readLlamaConfig).
func ReadConfig(dir string) (*Config, gpt.Config, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, gpt.Config{}, fmt.Errorf("hf import: %w", err)
	}
	var hc Config
	if err := json.Unmarshal(b, &hc); err != nil {
		return nil, gpt.Config{}, fmt.Errorf("hf import %s: %w", path, err)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("hf import %s: %s", path, fmt.Sprintf(format, a...))
	}
	switch {
	case hc.ModelType != "gpt2":
		return nil, gpt.Config{}, bad("model_type %q, golem imports gpt2, arcee and apertus (as golem exports them)", hc.ModelType)
	case hc.ActivationFunction != "gelu_new" && hc.ActivationFunction != "gelu_pytorch_tanh":
		return nil, gpt.Config{}, bad("activation_function %q, golem computes the tanh GELU (gelu_new)", hc.ActivationFunction)
	case hc.LayerNormEpsilon != 0 && math.Abs(hc.LayerNormEpsilon-1e-5) > 1e-12:
		return nil, gpt.Config{}, bad("layer_norm_epsilon %g, golem's LayerNorm uses 1e-5", hc.LayerNormEpsilon)
	case hc.NInner != nil && *hc.NInner != 4*hc.NEmbd:
		return nil, gpt.Config{}, bad("n_inner %d, golem's MLP is 4×n_embd = %d", *hc.NInner, 4*hc.NEmbd)
	case hc.ScaleAttnWeights != nil && !*hc.ScaleAttnWeights:
		return nil, gpt.Config{}, bad("scale_attn_weights is false; golem scales attention by 1/sqrt(head size)")
	}
	cfg := gpt.Config{VocabSize: hc.VocabSize, ContextLen: hc.NPositions, Layers: hc.NLayer, Heads: hc.NHead, Width: hc.NEmbd, Bias: true}
	cfg.Untied = hc.TieWordEmbeddings != nil && !*hc.TieWordEmbeddings
	if err := cfg.Validate(); err != nil {
		return nil, gpt.Config{}, bad("%v", err)
	}
	return &hc, cfg, nil
}

// Import reads an HF checkpoint directory (GPT-2, or Arcee and Apertus as Export
// writes them) into a golem model, with its tokenizer (tokenizer.json, or vocab.json
// + merges.txt) when present (nil otherwise).
func Import(dir string) (*gpt.Model, *tokenizer.Tokenizer, error) {
	var mt struct {
		ModelType string `json:"model_type"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		json.Unmarshal(b, &mt)
	}
	var m *gpt.Model
	var err error
	if mt.ModelType == ArchArcee || mt.ModelType == ArchApertus {
		m, err = importLlama(dir)
	} else {
		m, err = importGPT2(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	tok, err := readTokenizer(dir)
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

func importGPT2(dir string) (*gpt.Model, error) {
	_, cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "model.safetensors")
	st, err := train.ReadSafetensors(path)
	if err != nil {
		return nil, fmt.Errorf("hf import: %w", err)
	}
	m, err := gpt.New(cfg, 0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range m.Tensors() {
		want := hfName(t.Name)
		nt, ok := st.Tensor(want)
		if !ok {
			nt, ok = st.Tensor(strings.TrimPrefix(want, prefix)) // saved from GPT2Model
		}
		if !ok {
			return nil, fmt.Errorf("hf import %s: tensor %s is missing", path, want)
		}
		if fmt.Sprint(nt.Shape) != fmt.Sprint(t.Shape) {
			return nil, fmt.Errorf("hf import %s: tensor %s has shape %v, config.json implies %v", path, nt.Name, nt.Shape, t.Shape)
		}
		copy(m.Params[t.Offset:t.Offset+t.Size], nt.Data)
		seen[nt.Name] = true
	}
	wte, _ := m.Tensor("wte")
	for _, name := range st.Names {
		if seen[name] {
			continue
		}
		base := strings.TrimPrefix(name, prefix)
		switch {
		case strings.HasSuffix(base, ".attn.bias") || strings.HasSuffix(base, ".attn.masked_bias"):
			continue // causal-mask buffers of older checkpoints
		case name == "lm_head.weight" && !cfg.Untied:
			nt, _ := st.Tensor(name)
			if !sameBits(nt.Data, m.Params[wte.Offset:wte.Offset+wte.Size]) {
				return nil, fmt.Errorf("hf import %s: lm_head.weight differs from wte, but config.json ties them", path)
			}
			continue
		}
		return nil, fmt.Errorf("hf import %s: tensor %s is not part of GPT-2", path, name)
	}
	return m, nil
}

// readTokenizer reads dir's tokenizer.json, or vocab.json + merges.txt; nil when
// there is neither.
func readTokenizer(dir string) (*tokenizer.Tokenizer, error) {
	var tok *tokenizer.Tokenizer
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		if tok, err = tokenizer.LoadHF(filepath.Join(dir, "tokenizer.json")); err != nil {
			return nil, fmt.Errorf("hf import: %w", err)
		}
	} else if _, err := os.Stat(filepath.Join(dir, "merges.txt")); err == nil {
		if tok, err = tokenizer.LoadGPT2(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")); err != nil {
			return nil, fmt.Errorf("hf import: %w", err)
		}
	}
	return tok, nil
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
