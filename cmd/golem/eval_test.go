package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/train"
)

// The issue-6 command line end to end on the HF test model: import it, evaluate,
// generate, fine-tune, export again.
func TestEvalGenerateFinetuneExportCLI(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ck")
	if err := runImport([]string{"hf", "--in", "../../lmlib/hf/testdata/tiny", "--out", ck}); err != nil {
		t.Fatal(err)
	}
	task := filepath.Join(dir, "cloze.jsonl")
	os.WriteFile(task, []byte(`{"context":"Tom said","continuation":" no"}`+"\n"+`{"context":"the fence","continuation":" was"}`+"\n"), 0o644)
	text := filepath.Join(dir, "text.txt")
	os.WriteFile(text, []byte(strings.Repeat("Tom whitewashed the fence. ", 10)), 0o644)
	results := filepath.Join(dir, "results.json")
	if err := runEval([]string{"--checkpoint", ck, "--task", task, "--text", text, "--output", results}); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	b, _ := os.ReadFile(results)
	if err := json.Unmarshal(b, &r); err != nil || r["results"].(map[string]any)["cloze"] == nil {
		t.Fatalf("results %s: %v", b, err)
	}
	if err := runGenerate([]string{"--checkpoint", ck, "--prompt", "Tom", "--max-tokens", "5", "--temperature", "0.7", "--seed", "1"}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "ft.jsonl")
	os.WriteFile(data, []byte(`{"prompt":"Q: who? A:","completion":" Tom"}`+"\n"), 0o644)
	ft := filepath.Join(dir, "ft")
	if err := runFinetune([]string{"--checkpoint", ck, "--data", data, "--held-out", data, "--out", ft, "--steps", "3", "--batch", "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ft, "tokenizer.json")); err != nil {
		t.Fatal("fine-tuned checkpoint lacks its tokenizer:", err)
	}
	if err := runExport([]string{"hf", "--checkpoint", ft, "--out", filepath.Join(dir, "hf")}); err != nil {
		t.Fatal(err)
	}
	// Bad inputs name what is wrong.
	for _, tc := range []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{runEval, []string{"--checkpoint", ck}, "nothing to evaluate"},
		{runEval, []string{"--checkpoint", filepath.Join(dir, "nope"), "--task", task}, "nope"},
		{runGenerate, []string{"--checkpoint", ck, "--prompt", "x", "--temperature", "-1"}, "temperature"},
		{runExport, []string{"onnx"}, "usage"},
		{runFinetune, []string{"--checkpoint", ck, "--data", data, "--out", ft}, "already exists"},
	} {
		if err := tc.run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// The modern recipe through the command line: an Apertus export imports, generates
// (KV cache with RoPE and QK-norm) and exports again; a model with a logit soft-cap
// is refused, naming the switch.
func TestModernRecipeCLI(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ck")
	if err := runImport([]string{"hf", "--in", "../../lmlib/hf/testdata/tiny-apertus", "--out", ck}); err != nil {
		t.Fatal(err)
	}
	if err := runGenerate([]string{"--checkpoint", ck, "--prompt", "Tom", "--max-tokens", "5"}); err != nil {
		t.Fatal(err)
	}
	if err := runExport([]string{"hf", "--checkpoint", ck, "--out", filepath.Join(dir, "hf")}); err != nil {
		t.Fatal(err)
	}
	cfg := gpt.Preset(1)
	cfg.VocabSize = 320 // the test tokenizer's
	m, err := gpt.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile("../../lmlib/hf/testdata/tiny-apertus/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	capped := filepath.Join(dir, "capped")
	if err := train.SaveModel(m, capped, 0, nil, map[string][]byte{"tokenizer.json": tok}); err != nil {
		t.Fatal(err)
	}
	if err := runExport([]string{"hf", "--checkpoint", capped, "--out", filepath.Join(dir, "hf2")}); err == nil || !strings.Contains(err.Error(), "SoftCap") {
		t.Fatalf("export of a soft-capped model: %v", err)
	}
}
