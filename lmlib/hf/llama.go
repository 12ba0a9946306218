package hf

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/train"
)

// The Llama-family side of the conversion (Arcee, Apertus): the modern recipe's
// RoPE (Llama's rotate_half, θ = gpt.RopeTheta), RMSNorm (ε = gpt.NormEps), plain
// MLP up_proj → act → down_proj of width 4C, an untied or tied head.

// llamaConfig is the config.json of an Arcee or Apertus export of c.
func llamaConfig(c gpt.Config, arch string, eos int) map[string]any {
	act := "gelu_pytorch_tanh"
	if c.ReLU2 {
		act = "relu2"
	}
	name := map[string]string{ArchArcee: "ArceeForCausalLM", ArchApertus: "ApertusForCausalLM"}[arch]
	hc := map[string]any{
		"architectures": []string{name}, "model_type": arch,
		"vocab_size": c.VocabSize, "hidden_size": c.Width, "intermediate_size": 4 * c.Width,
		"num_hidden_layers": c.Layers, "num_attention_heads": c.Heads, "num_key_value_heads": c.Heads,
		"head_dim": c.Width / c.Heads, "hidden_act": act, "max_position_embeddings": c.ContextLen,
		"rms_norm_eps": gpt.NormEps, "rope_parameters": map[string]any{"rope_type": "default", "rope_theta": float64(gpt.RopeTheta)},
		"attention_bias": c.Bias, "attention_dropout": 0.0, "tie_word_embeddings": !c.Untied,
		"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": nil,
		"initializer_range": 0.02, "torch_dtype": "float32", "use_cache": true,
	}
	if arch == ArchArcee {
		hc["mlp_bias"] = c.Bias
	}
	return hc
}

// llamaNames are the per-layer norm names of arch: before attention, before the MLP.
func llamaNames(arch string) (attnNorm, mlpNorm string) {
	if arch == ArchApertus {
		return "attention_layernorm", "feedforward_layernorm"
	}
	return "input_layernorm", "post_attention_layernorm"
}

// transposeCols returns columns [c0,c1) of the rows×cols row-major w, transposed:
// a (c1−c0)×rows matrix (golem's (in, out) block as nn.Linear's (out, in)).
func transposeCols(w []float32, rows, cols, c0, c1 int) []float32 {
	out := make([]float32, (c1-c0)*rows)
	for r := 0; r < rows; r++ {
		for c := c0; c < c1; c++ {
			out[(c-c0)*rows+r] = w[r*cols+c]
		}
	}
	return out
}

// llamaTensors are m's parameters under Arcee's or Apertus's names and layouts.
func llamaTensors(m *gpt.Model, arch string) []train.NamedTensor {
	c := m.Config
	C, hs := c.Width, c.Width/c.Heads
	get := func(name string) []float32 {
		t, _ := m.Tensor(name)
		return m.Params[t.Offset : t.Offset+t.Size]
	}
	var nts []train.NamedTensor
	add := func(name string, shape []int, data []float32) {
		nts = append(nts, train.NamedTensor{Name: name, Shape: shape, Data: data})
	}
	add("model.embed_tokens.weight", []int{c.VocabSize, C}, get("wte"))
	an, mn := llamaNames(arch)
	for l := 0; l < c.Layers; l++ {
		g := fmt.Sprintf("h.%d.", l)
		h := fmt.Sprintf("model.layers.%d.", l)
		add(h+an+".weight", []int{C}, get(g+"ln_1.weight"))
		qkv := get(g + "attn.c_attn.weight")
		for i, p := range []string{"q_proj", "k_proj", "v_proj"} {
			add(h+"self_attn."+p+".weight", []int{C, C}, transposeCols(qkv, C, 3*C, i*C, (i+1)*C))
			if c.Bias {
				add(h+"self_attn."+p+".bias", []int{C}, get(g + "attn.c_attn.bias")[i*C:(i+1)*C])
			}
		}
		add(h+"self_attn.o_proj.weight", []int{C, C}, transposeCols(get(g+"attn.c_proj.weight"), C, C, 0, C))
		if c.Bias {
			add(h+"self_attn.o_proj.bias", []int{C}, get(g+"attn.c_proj.bias"))
		}
		if arch == ArchApertus { // golem's QK-norm has no weights: Apertus's are ones
			ones := make([]float32, hs)
			for i := range ones {
				ones[i] = 1
			}
			add(h+"self_attn.q_norm.weight", []int{hs}, ones)
			add(h+"self_attn.k_norm.weight", []int{hs}, ones)
		}
		add(h+mn+".weight", []int{C}, get(g+"ln_2.weight"))
		add(h+"mlp.up_proj.weight", []int{4 * C, C}, transposeCols(get(g+"mlp.c_fc.weight"), C, 4*C, 0, 4*C))
		add(h+"mlp.down_proj.weight", []int{C, 4 * C}, transposeCols(get(g+"mlp.c_proj.weight"), 4*C, C, 0, C))
		if c.Bias {
			add(h+"mlp.up_proj.bias", []int{4 * C}, get(g+"mlp.c_fc.bias"))
			add(h+"mlp.down_proj.bias", []int{C}, get(g+"mlp.c_proj.bias"))
		}
	}
	add("model.norm.weight", []int{C}, get("ln_f.weight"))
	if c.Untied {
		add("lm_head.weight", []int{c.VocabSize, C}, get("lm_head.weight"))
	}
	return nts
}

// llamaHF is the subset of an Arcee or Apertus config.json golem reads.
type llamaHF struct {
	ModelType         string  `json:"model_type"`
	VocabSize         int     `json:"vocab_size"`
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	Layers            int     `json:"num_hidden_layers"`
	Heads             int     `json:"num_attention_heads"`
	KVHeads           *int    `json:"num_key_value_heads"`
	HeadDim           *int    `json:"head_dim"`
	HiddenAct         string  `json:"hidden_act"`
	MaxPositions      int     `json:"max_position_embeddings"`
	RMSNormEps        float64 `json:"rms_norm_eps"`
	AttentionBias     bool    `json:"attention_bias"`
	MLPBias           bool    `json:"mlp_bias"`
	TieWordEmbeddings *bool   `json:"tie_word_embeddings"`
	RopeTheta         float64 `json:"rope_theta"`
	RopeParameters    *struct {
		RopeType  string  `json:"rope_type"`
		RopeTheta float64 `json:"rope_theta"`
	} `json:"rope_parameters"`
}

// readLlamaConfig reads and checks an Arcee or Apertus config.json: it must be one
// golem computes exactly.
func readLlamaConfig(dir string) (*llamaHF, gpt.Config, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, gpt.Config{}, fmt.Errorf("hf import: %w", err)
	}
	var hc llamaHF
	if err := json.Unmarshal(b, &hc); err != nil {
		return nil, gpt.Config{}, fmt.Errorf("hf import %s: %w", path, err)
	}
	bad := func(format string, a ...any) (*llamaHF, gpt.Config, error) {
		return nil, gpt.Config{}, fmt.Errorf("hf import %s: %s", path, fmt.Sprintf(format, a...))
	}
	theta := hc.RopeTheta
	if hc.RopeParameters != nil {
		if hc.RopeParameters.RopeType != "" && hc.RopeParameters.RopeType != "default" {
			return bad("rope_type %q; golem computes the default RoPE", hc.RopeParameters.RopeType)
		}
		theta = hc.RopeParameters.RopeTheta
	}
	switch {
	case hc.HiddenAct != "relu2" && hc.HiddenAct != "gelu_pytorch_tanh" && hc.HiddenAct != "gelu_new":
		return bad("hidden_act %q; golem computes relu2 (Config.ReLU2) or the tanh GELU", hc.HiddenAct)
	case math.Abs(hc.RMSNormEps-gpt.NormEps) > 1e-12:
		return bad("rms_norm_eps %g; golem's RMSNorm uses %g", hc.RMSNormEps, gpt.NormEps)
	case theta != gpt.RopeTheta:
		return bad("rope_theta %g; golem's RoPE uses %d", theta, gpt.RopeTheta)
	case hc.IntermediateSize != 4*hc.HiddenSize:
		return bad("intermediate_size %d; golem's MLP is 4×hidden_size = %d", hc.IntermediateSize, 4*hc.HiddenSize)
	case hc.KVHeads != nil && *hc.KVHeads != hc.Heads:
		return bad("num_key_value_heads %d; golem has no grouped-query attention (%d heads)", *hc.KVHeads, hc.Heads)
	case hc.Heads > 0 && hc.HeadDim != nil && *hc.HeadDim != hc.HiddenSize/hc.Heads:
		return bad("head_dim %d; golem's heads are hidden_size/num_attention_heads", *hc.HeadDim)
	case hc.ModelType == ArchArcee && hc.AttentionBias != hc.MLPBias:
		return bad("attention_bias %v and mlp_bias %v differ; golem's Config.Bias sets both", hc.AttentionBias, hc.MLPBias)
	}
	cfg := gpt.Config{VocabSize: hc.VocabSize, ContextLen: hc.MaxPositions, Layers: hc.Layers, Heads: hc.Heads, Width: hc.HiddenSize,
		Bias: hc.AttentionBias, Rotary: true, RMSNorm: true, QKNorm: hc.ModelType == ArchApertus, ReLU2: hc.HiddenAct == "relu2",
		Untied: hc.TieWordEmbeddings != nil && !*hc.TieWordEmbeddings}
	if err := cfg.Validate(); err != nil {
		return bad("%v", err)
	}
	return &hc, cfg, nil
}

// importLlama reads an Arcee or Apertus checkpoint into a golem model.
func importLlama(dir string) (*gpt.Model, error) {
	hc, cfg, err := readLlamaConfig(dir)
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
	C, hs := cfg.Width, cfg.Width/cfg.Heads
	seen := map[string]bool{}
	read := func(name string, shape ...int) ([]float32, error) {
		nt, ok := st.Tensor(name)
		if !ok {
			return nil, fmt.Errorf("hf import %s: tensor %s is missing", path, name)
		}
		if fmt.Sprint(nt.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("hf import %s: tensor %s has shape %v, config.json implies %v", path, name, nt.Shape, shape)
		}
		seen[name] = true
		return nt.Data, nil
	}
	dst := func(name string) []float32 {
		t, _ := m.Tensor(name)
		return m.Params[t.Offset : t.Offset+t.Size]
	}
	// put copies the (out, in) nn.Linear weight x into columns [c0, c0+out) of golem's
	// rows×cols (in, out) matrix.
	put := func(w []float32, cols, c0 int, x []float32, out, in int) {
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				w[i*cols+c0+o] = x[o*in+i]
			}
		}
	}
	fail := func(err error) (*gpt.Model, error) { return nil, err }
	x, err := read("model.embed_tokens.weight", cfg.VocabSize, C)
	if err != nil {
		return fail(err)
	}
	copy(dst("wte"), x)
	an, mn := llamaNames(hc.ModelType)
	for l := 0; l < cfg.Layers; l++ {
		g := fmt.Sprintf("h.%d.", l)
		h := fmt.Sprintf("model.layers.%d.", l)
		steps := []struct {
			hf, golem string
			shape     []int
			do        func(x []float32)
		}{
			{h + an + ".weight", g + "ln_1.weight", []int{C}, nil},
			{h + "self_attn.q_proj.weight", "", []int{C, C}, func(x []float32) { put(dst(g+"attn.c_attn.weight"), 3*C, 0, x, C, C) }},
			{h + "self_attn.k_proj.weight", "", []int{C, C}, func(x []float32) { put(dst(g+"attn.c_attn.weight"), 3*C, C, x, C, C) }},
			{h + "self_attn.v_proj.weight", "", []int{C, C}, func(x []float32) { put(dst(g+"attn.c_attn.weight"), 3*C, 2*C, x, C, C) }},
			{h + "self_attn.o_proj.weight", "", []int{C, C}, func(x []float32) { put(dst(g+"attn.c_proj.weight"), C, 0, x, C, C) }},
			{h + mn + ".weight", g + "ln_2.weight", []int{C}, nil},
			{h + "mlp.up_proj.weight", "", []int{4 * C, C}, func(x []float32) { put(dst(g+"mlp.c_fc.weight"), 4*C, 0, x, 4*C, C) }},
			{h + "mlp.down_proj.weight", "", []int{C, 4 * C}, func(x []float32) { put(dst(g+"mlp.c_proj.weight"), C, 0, x, C, 4*C) }},
		}
		if cfg.Bias {
			steps = append(steps, []struct {
				hf, golem string
				shape     []int
				do        func(x []float32)
			}{
				{h + "self_attn.q_proj.bias", "", []int{C}, func(x []float32) { copy(dst(g + "attn.c_attn.bias")[:C], x) }},
				{h + "self_attn.k_proj.bias", "", []int{C}, func(x []float32) { copy(dst(g + "attn.c_attn.bias")[C:2*C], x) }},
				{h + "self_attn.v_proj.bias", "", []int{C}, func(x []float32) { copy(dst(g + "attn.c_attn.bias")[2*C:], x) }},
				{h + "self_attn.o_proj.bias", g + "attn.c_proj.bias", []int{C}, nil},
				{h + "mlp.up_proj.bias", g + "mlp.c_fc.bias", []int{4 * C}, nil},
				{h + "mlp.down_proj.bias", g + "mlp.c_proj.bias", []int{C}, nil},
			}...)
		}
		if cfg.QKNorm {
			for _, n := range []string{"q_norm", "k_norm"} {
				steps = append(steps, struct {
					hf, golem string
					shape     []int
					do        func(x []float32)
				}{h + "self_attn." + n + ".weight", "", []int{hs}, nil})
			}
		}
		for _, s := range steps {
			x, err := read(s.hf, s.shape...)
			if err != nil {
				return fail(err)
			}
			switch {
			case s.do != nil:
				s.do(x)
			case s.golem != "":
				copy(dst(s.golem), x)
			default: // q_norm, k_norm: golem's QK-norm has no weights
				for _, v := range x {
					if v != 1 {
						return fail(fmt.Errorf("hf import %s: %s is not all ones; golem's QK-norm has no weights", path, s.hf))
					}
				}
			}
		}
	}
	if x, err = read("model.norm.weight", C); err != nil {
		return fail(err)
	}
	copy(dst("ln_f.weight"), x)
	if cfg.Untied {
		if x, err = read("lm_head.weight", cfg.VocabSize, C); err != nil {
			return fail(err)
		}
		copy(dst("lm_head.weight"), x)
	}
	for _, name := range st.Names {
		if seen[name] {
			continue
		}
		if name == "lm_head.weight" && !cfg.Untied {
			nt, _ := st.Tensor(name)
			if !sameBits(nt.Data, dst("wte")) {
				return fail(fmt.Errorf("hf import %s: lm_head.weight differs from model.embed_tokens.weight, but config.json ties them", path))
			}
			continue
		}
		if strings.HasSuffix(name, "rotary_emb.inv_freq") {
			continue
		}
		return fail(fmt.Errorf("hf import %s: tensor %s is not part of %s as golem computes it", path, name, hc.ModelType))
	}
	return m, nil
}
