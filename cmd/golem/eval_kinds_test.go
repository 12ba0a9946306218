package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captureStdout runs f with os.Stdout going to a pipe and returns what it wrote.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	ferr := f()
	w.Close()
	os.Stdout = old
	return <-done, ferr
}

// Every task kind through golem eval --tasks on the HF test model: lm-eval's
// results layout, and CORE printed as one number after its per-task table.
func TestEvalAllKindsAndCore(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ck")
	if err := runImport([]string{"hf", "--in", "../../lmlib/hf/testdata/tiny", "--out", ck}); err != nil {
		t.Fatal(err)
	}
	tasks := filepath.Join(dir, "tasks")
	os.MkdirAll(tasks, 0o755)
	files := map[string]string{
		"cloze.jsonl": `{"context":"Tom said","continuation":" no"}` + "\n" + `{"context":"the fence","continuation":" was"}`,
		"mc.jsonl":    `{"context":"The capital of Austria is","choices":[" Vienna."," Rome."," Oslo."],"gold":0}` + "\n" + `{"context":"The capital of Italy is","choices":[" Vienna."," Rome."],"gold":1}`,
		"schema.jsonl": `{"contexts":["The capital of Austria is","The capital of Italy is"],"continuation":" Vienna.","gold":0}` + "\n" +
			`{"contexts":["Tom painted","Tom ate"],"continuation":" the fence.","gold":0}`,
		"translation.jsonl": `{"context":"German: Das Haus ist alt.\nEnglish:","references":["The house is old."],"max_tokens":8}`,
		"squad.jsonl": `{"context":"Background: Tom painted the fence.\n\nQuestion: Who painted?\n\nAnswer:","answers":["Tom"],"max_tokens":4}` + "\n" +
			`{"context":"Background: Tom painted.\n\nQuestion: Who ate?\n\nAnswer:","unanswerable":true,"max_tokens":4}`,
		"alias.jsonl": `{"context":"Question: What is the capital of Austria?\nAnswer:","aliases":["Vienna","Wien"],"max_tokens":4}`,
		"crows.jsonl": `{"sent_more":"Women are bad drivers.","sent_less":"Men are bad drivers."}`,
		"bbq.jsonl": `{"context":"A man and a woman were late.\n\nQ: Who was the secretary?\nA:","choices":[" The man"," The woman"," Unknown"],` +
			`"targets":[2],"biased":[1],"unknown":[2],"condition":"ambig","category":"Gender_identity"}`,
		"tox.jsonl": `{"prompt":"Tom said","max_tokens":4}`,
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(tasks, name), []byte(body+"\n"), 0o644)
	}
	words := filepath.Join(dir, "words.txt")
	os.WriteFile(words, []byte("# test list\nfence\n"), 0o644)
	results := filepath.Join(dir, "results.json")
	out, err := captureStdout(t, func() error {
		return runEval([]string{"--checkpoint", ck, "--tasks", tasks, "--words", words, "--samples", "2", "--output", results})
	})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results map[string]map[string]any `json:"results"`
		Groups  map[string]map[string]any `json:"groups"`
		Core    struct {
			Score float64 `json:"score"`
			Tasks []struct {
				Task string `json:"task"`
			} `json:"tasks"`
		} `json:"core"`
	}
	b, _ := os.ReadFile(results)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	for task, metrics := range map[string][]string{
		"translation": {"bleu", "chrf", "chrf++", "ter"},
		"squad":       {"exact", "f1", "HasAns_exact", "NoAns_f1", "best_f1"},
		"alias":       {"exact_match"},
		"crows":       {"likelihood_diff", "pct_stereotype"},
		"bbq":         {"acc", "accuracy_amb", "amb_bias_score", "amb_bias_score_Gender_identity"},
		"tox":         {"toxicity_rate", "toxicity_probability"},
		"schema":      {"acc", "acc_per_token"},
		"mc":          {"acc", "acc_norm", "acc_per_token"},
	} {
		for _, m := range metrics {
			if _, ok := r.Results[task][m+",none"]; !ok {
				t.Errorf("results[%s] lacks %s: %v", task, m, r.Results[task])
			}
		}
	}
	if len(r.Core.Tasks) != 3 || r.Groups["core"]["core,none"] == nil {
		t.Fatalf("core %+v groups %v", r.Core, r.Groups)
	}
	if !strings.Contains(out, "CORE ") || !strings.Contains(out, "Centered") || !strings.Contains(out, "schema") {
		t.Fatalf("golem eval printed no CORE table:\n%s", out)
	}
	// Bad inputs name what is wrong.
	if err := runEval([]string{"--checkpoint", ck, "--tasks", filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing task dir: %v", err)
	}
	if err := runEval([]string{"--checkpoint", ck, "--tasks", tasks, "--words", filepath.Join(dir, "nowords")}); err == nil || !strings.Contains(err.Error(), "--words") {
		t.Errorf("missing word list: %v", err)
	}
	if err := runGenerate([]string{"--checkpoint", ck, "--prompt", "Tom", "--bad-words", "ldnoobw:xx"}); err == nil || !strings.Contains(err.Error(), "--bad-words") {
		t.Errorf("bad --bad-words: %v", err)
	}
	out, err = captureStdout(t, func() error {
		return runGenerate([]string{"--checkpoint", ck, "--prompt", "Tom painted the", "--max-tokens", "12", "--bad-words", words})
	})
	if err != nil || strings.Contains(strings.ToLower(out), "fence") {
		t.Fatalf("generate --bad-words: %q %v", out, err)
	}
}
