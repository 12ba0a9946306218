package hf

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// The reference files: testdata/tiny is a golem model exported by
// TestWriteTestdata (GOLEM_WRITE_HF_TESTDATA=1); testdata/tiny-ref.json holds what
// transformers' GPT2LMHeadModel.from_pretrained(testdata/tiny) computes for fixed
// ids, written by tools/hfref/gen_hf_ref.py. CI checks against them without torch.

const tinyDir = "testdata/tiny"

// The modern recipe's exports, written by TestWriteTestdata too: Arcee (RoPE,
// RMSNorm, tanh GELU, biases, untied head) and Apertus (RoPE, RMSNorm, QK-norm, ReLU²,
// no biases, tied head). Their references are testdata/<dir>-ref.json.
var modernDirs = map[string]gpt.Config{
	"testdata/tiny-arcee":   {ContextLen: 32, Layers: 2, Heads: 2, Width: 32, Bias: true, Rotary: true, RMSNorm: true, Untied: true},
	"testdata/tiny-apertus": {ContextLen: 32, Layers: 2, Heads: 2, Width: 32, Rotary: true, RMSNorm: true, QKNorm: true, ReLU2: true},
}

func TestWriteTestdata(t *testing.T) {
	if os.Getenv("GOLEM_WRITE_HF_TESTDATA") == "" {
		t.Skip("set GOLEM_WRITE_HF_TESTDATA=1 to rewrite testdata/tiny (then run tools/hfref/gen_hf_ref.py)")
	}
	p, err := assets.TomSawyer()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	tok, err := tokenizer.Train([]string{string(b[:200000])}, tokenizer.TrainOptions{VocabSize: 320, SpecialTokens: []string{"<|endoftext|>"}})
	if err != nil {
		t.Fatal(err)
	}
	// No biases: exercises the zero-bias export; weights scaled for sharp logits.
	m, err := gpt.New(gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 32, Layers: 2, Heads: 2, Width: 32}, 11)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		m.Params[i] *= 3
	}
	os.RemoveAll(tinyDir)
	if err := Export(m, tok, tinyDir); err != nil {
		t.Fatal(err)
	}
	for dir, cfg := range modernDirs {
		cfg.VocabSize = tok.VocabSize()
		m, err := gpt.New(cfg, 12)
		if err != nil {
			t.Fatal(err)
		}
		r := gpt.NewRNG(5)
		for i := range m.Params { // not GPT-2's init: norm weights and biases matter too
			m.Params[i] = m.Params[i]*4 + float32(r.NormFloat64()*0.05)
		}
		os.RemoveAll(dir)
		if err := Export(m, tok, dir); err != nil {
			t.Fatal(err)
		}
	}
}

type reference struct {
	IDs       [][]int     `json:"ids"`
	Logits    [][]float32 `json:"logits"` // per sequence, T×V flattened
	Text      string      `json:"text"`
	TextIDs   []int       `json:"text_ids"` // transformers' tokenizer on Text
	Decoded   string      `json:"decoded"`
	Transform string      `json:"transformers_version"`
}

// TestTransformersLogitsMatchGolem: transformers (AutoModelForCausalLM) on golem's
// exports computes golem's logits to 1e-4 relative, for GPT-2, Arcee and Apertus.
func TestTransformersLogitsMatchGolem(t *testing.T) {
	for _, dir := range []string{tinyDir, "testdata/tiny-arcee", "testdata/tiny-apertus"} {
		t.Run(filepath.Base(dir), func(t *testing.T) { transformersLogitsMatchGolem(t, dir) })
	}
}

func transformersLogitsMatchGolem(t *testing.T, dir string) {
	b, err := os.ReadFile(dir + "-ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	m, tok, err := Import(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want, ok := modernDirs[dir]; ok {
		want.VocabSize = m.Config.VocabSize
		if m.Config != want {
			t.Fatalf("imported config %+v, exported %+v", m.Config, want)
		}
	}
	V := m.Config.VocabSize
	for s, ids := range ref.IDs {
		in := make([]int32, len(ids))
		for i, id := range ids {
			in[i] = int32(id)
		}
		if _, err := m.Forward(in, nil, 1, len(in)); err != nil {
			t.Fatal(err)
		}
		got := m.Logits()
		want := ref.Logits[s]
		if len(got) != len(want) || len(want) != len(ids)*V {
			t.Fatalf("sequence %d: %d logits, reference %d", s, len(got), len(want))
		}
		// Relative to the largest reference logit of the sequence.
		scale := 0.0
		for _, w := range want {
			scale = math.Max(scale, math.Abs(float64(w)))
		}
		worst := 0.0
		for i := range want {
			worst = math.Max(worst, math.Abs(float64(got[i]-want[i]))/scale)
		}
		if worst > 1e-4 {
			t.Fatalf("sequence %d: max relative logit difference %.2e > 1e-4", s, worst)
		}
		t.Logf("sequence %d (%d tokens): max relative logit difference %.2e", s, len(ids), worst)
	}
	ids := tok.EncodeOrdinary(ref.Text)
	if len(ids) != len(ref.TextIDs) {
		t.Fatalf("tokenizer.json: golem %v, transformers %v", ids, ref.TextIDs)
	}
	for i := range ids {
		if ids[i] != ref.TextIDs[i] {
			t.Fatalf("tokenizer.json: golem %v, transformers %v", ids, ref.TextIDs)
		}
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	for _, dir := range []string{tinyDir, "testdata/tiny-arcee", "testdata/tiny-apertus"} {
		t.Run(filepath.Base(dir), func(t *testing.T) { exportImportRoundTrip(t, dir) })
	}
	// GPT-2 with an untied head: GPT2LMHeadModel with tie_word_embeddings false.
	m, err := gpt.New(gpt.Config{VocabSize: 40, ContextLen: 8, Layers: 1, Heads: 2, Width: 8, Bias: true, Untied: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "untied")
	if err := Export(m, nil, out); err != nil {
		t.Fatal(err)
	}
	back, _, err := Import(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != m.Config || !sameBits(back.Params, m.Params) {
		t.Fatalf("untied GPT-2 round trip: %+v", back.Config)
	}
}

// Configurations without a Hugging Face counterpart are refused, naming the switch.
func TestExportErrors(t *testing.T) {
	base := gpt.Preset(1)
	base.VocabSize, base.ContextLen = 40, 8
	for _, tc := range []struct {
		edit func(c *gpt.Config)
		want string
	}{
		{func(c *gpt.Config) {}, "SoftCap"}, // the preset has the soft-cap on
		{func(c *gpt.Config) { c.SoftCap, c.RMSNorm = 0, false }, "Config.Rotary with LayerNorm"},
		{func(c *gpt.Config) { c.SoftCap, c.Rotary = 0, false }, "Config.RMSNorm, QKNorm or ReLU2 with learned position"},
		{func(c *gpt.Config) { c.SoftCap, c.Bias = 0, true }, "Config.QKNorm with Config.Bias"},
	} {
		cfg := base
		tc.edit(&cfg)
		m, err := gpt.New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := Export(m, nil, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %q", cfg, err, tc.want)
		}
	}
}

func exportImportRoundTrip(t *testing.T, dir string) {
	m, tok, err := Import(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "again")
	if err := Export(m, tok, out); err != nil {
		t.Fatal(err)
	}
	if err := Export(m, tok, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("export over an existing directory: %v", err)
	}
	back, _, err := Import(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Params {
		if math.Float32bits(m.Params[i]) != math.Float32bits(back.Params[i]) {
			t.Fatalf("parameter %d changed in the round trip", i)
		}
	}
	for _, f := range []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImportErrors(t *testing.T) {
	cfg, _ := os.ReadFile(filepath.Join(tinyDir, "config.json"))
	st, _ := os.ReadFile(filepath.Join(tinyDir, "model.safetensors"))
	for _, tc := range []struct{ edit, want string }{
		{`"activation_function": "relu"`, "activation_function"},
		{`"model_type": "llama"`, "model_type"},
		{`"layer_norm_epsilon": 1e-6`, "layer_norm_epsilon"},
		{`"n_embd": 48`, "shape"},
	} {
		dir := t.TempDir()
		var m map[string]any
		json.Unmarshal(cfg, &m)
		var kv map[string]any
		json.Unmarshal([]byte("{"+tc.edit+"}"), &kv)
		for k, v := range kv {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
		os.WriteFile(filepath.Join(dir, "model.safetensors"), st, 0o644)
		if _, _, err := Import(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.edit, err, tc.want)
		}
	}
	if _, _, err := Import(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("empty dir: %v", err)
	}
}
