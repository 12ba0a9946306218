package functions_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/builtin"
	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/eval"
)

// TestTokenizeMatchesTiktoken calls the built-in "tokenize" over HTTP and compares
// with tiktoken 0.14.0's ids (testdata/gen_tokenize.py).
func TestTokenizeMatchesTiktoken(t *testing.T) {
	var ref struct {
		Cases []struct {
			Encoding       string   `json:"encoding"`
			Text           string   `json:"text"`
			AllowedSpecial []string `json:"allowed_special"`
			Tokens         []int    `json:"tokens"`
		} `json:"cases"`
	}
	b, err := os.ReadFile("testdata/tokenize_tiktoken.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	th := startHost(t, functions.Config{Workers: 1})
	c := th.c
	batches := map[string][]string{}
	want := map[string][][]int{}
	for _, tc := range ref.Cases {
		var out builtin.TokenizeOutput
		in := builtin.TokenizeInput{Encoding: tc.Encoding, Text: tc.Text, AllowedSpecial: tc.AllowedSpecial}
		if err := c.Call("tokenize", in, &out); err != nil {
			t.Fatalf("%s %q: %v", tc.Encoding, tc.Text, err)
		}
		if !slices.Equal(out.Tokens, tc.Tokens) || out.Count != len(tc.Tokens) {
			t.Errorf("%s %q: got %v, tiktoken %v", tc.Encoding, tc.Text, out.Tokens, tc.Tokens)
		}
		var back builtin.DetokenizeOutput
		if err := c.Call("detokenize", builtin.DetokenizeInput{Encoding: tc.Encoding, Tokens: tc.Tokens}, &back); err != nil || back.Text != tc.Text {
			t.Errorf("detokenize %s: %q %v", tc.Encoding, back.Text, err)
		}
		if tc.AllowedSpecial == nil {
			batches[tc.Encoding] = append(batches[tc.Encoding], tc.Text)
			want[tc.Encoding] = append(want[tc.Encoding], tc.Tokens)
		}
	}
	// The same as a batch job.
	for enc, texts := range batches {
		id, err := c.Submit("tokenize", builtin.TokenizeInput{Encoding: enc, Texts: texts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.Wait(id, 30*time.Second)
		if err != nil || j.Status != api.StatusSucceeded {
			t.Fatalf("tokenize job: %+v %v", j, err)
		}
		var out builtin.TokenizeOutput
		if err := json.Unmarshal(j.Result, &out); err != nil {
			t.Fatal(err)
		}
		for i := range want[enc] {
			if !slices.Equal(out.Batch[i], want[enc][i]) {
				t.Errorf("batch %s text %d: %v, tiktoken %v", enc, i, out.Batch[i], want[enc][i])
			}
		}
	}
	for _, tc := range []struct {
		body, field, msg string
	}{
		{`{"encoding": "/etc/passwd", "text": "x"}`, "encoding", "unknown encoding"},
		{`{"text": 3}`, "text", `"text"`},
		{`{"txt": "a"}`, "txt", "no such field"},
		{`{"text": "a", "texts": ["b"]}`, "texts", "not both"},
	} {
		code, e, _ := raw(t, "POST", th.url+"/functions/tokenize", testKey, "application/json", []byte(tc.body))
		if code != http.StatusBadRequest || e.Field != tc.field || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s: %d %+v", tc.body, code, e)
		}
	}
}

// TestCleanBuiltin runs the FineWeb chain as a function and as a job.
func TestCleanBuiltin(t *testing.T) {
	th := startHost(t, functions.Config{Workers: 1})
	page := "<p>Newton found that white light is a mixture of rays which the prism separates by their refrangibility. " +
		"He showed this with a second prism, which did not change the colour of any single ray.</p>" +
		"<p>The rays that are most refrangible give violet, and the least refrangible give red. " +
		"Between them lie the blue, the green, the yellow and the orange, in the order of the rainbow.</p>" +
		"<p>He wrote these letters to the Royal Society, and the quarrel with Hooke that followed lasted for years. " +
		"Contact me at isaac@trinity.example.org for copies of the letters.</p>" +
		"<p>It was only after the death of Hooke that the Opticks itself was printed, in the year 1704.</p>"
	in := map[string]any{"html": true, "docs": []map[string]any{
		{"id": "a", "text": "<html><body><nav><a href='/'>Home</a></nav>" + page + "</body></html>"},
		{"id": "b", "text": "<html><body><nav><a href='/x'>Menu</a></nav>" + page + "</body></html>"},
		{"id": "c", "text": "<html><body><p>Le chat dort sur le canapé pendant que la pluie tombe.</p></body></html>"},
		{"id": "d", "text": "<p>Buy now!</p>"},
	}}
	check := func(out builtin.CleanOutput) {
		t.Helper()
		if len(out.Kept) != 1 || out.Kept[0].ID != "a" || !strings.Contains(out.Kept[0].Text, "email@example.com") || strings.Contains(out.Kept[0].Text, "<p>") {
			t.Fatalf("kept %+v", out.Kept)
		}
		got := map[string]string{}
		for _, d := range out.Dropped {
			got[d.ID] = d.Reason
		}
		if got["b"] != "minhash_duplicate" || got["c"] != "language" || got["d"] == "" || out.Reasons["language"]+out.Reasons["minhash_duplicate"] != 3 {
			t.Fatalf("dropped %+v reasons %v", out.Dropped, out.Reasons)
		}
	}
	var out builtin.CleanOutput
	if err := th.c.Call("clean", in, &out); err != nil {
		t.Fatal(err)
	}
	check(out)
	id, err := th.c.Submit("clean", in, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := th.c.Wait(id, 30*time.Second)
	if err != nil || j.Status != api.StatusSucceeded || j.Progress != 1 {
		t.Fatalf("clean job %+v %v", j, err)
	}
	out = builtin.CleanOutput{}
	if err := json.Unmarshal(j.Result, &out); err != nil {
		t.Fatal(err)
	}
	check(out)
	code, e, _ := raw(t, "POST", th.url+"/functions/clean", testKey, "", []byte(`{"docs": [{"id": 1}]}`))
	if code != 400 || e.Field != "docs.id" {
		t.Fatalf("bad clean input: %d %+v", code, e)
	}
}

// TestGenerateBuiltin serves a checkpoint (lmlib/hf's tiny GPT-2 test model,
// imported as a golem checkpoint) and checks the built-in against lmlib/eval
// called directly.
func TestGenerateBuiltin(t *testing.T) {
	models, lm := tinyModels(t)
	ref, err := eval.Generate(lm.Model, lm.Tok, "Tom whitewashed", eval.GenerateOptions{MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	th := startHost(t, functions.Config{Workers: 1, ModelsDir: models})
	var out builtin.GenerateOutput
	if err := th.c.Call("generate", builtin.GenerateInput{Model: "tiny", Prompt: "Tom whitewashed", MaxTokens: 12}, &out); err != nil {
		t.Fatal(err)
	}
	var refText string // as JSON carries it: invalid UTF-8 (a token cut mid-character) becomes U+FFFD
	b, _ := json.Marshal(ref.Text)
	_ = json.Unmarshal(b, &refText)
	if out.Text != refText || !slices.Equal(out.Tokens, ref.Tokens) || out.StopReason != ref.StopReason {
		t.Fatalf("generate %+v, lmlib/eval %+v", out, ref)
	}
	id, err := th.c.Submit("generate", builtin.GenerateInput{Model: "tiny", Prompt: "Tom whitewashed", MaxTokens: 12, Temperature: 0.8, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := th.c.Wait(id, 60*time.Second)
	if err != nil || j.Status != api.StatusSucceeded {
		t.Fatalf("generate job %+v %v", j, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"model": "../tiny", "prompt": "x"}`, "model"},
		{`{"model": "nope", "prompt": "x"}`, "model"},
		{`{"model": "tiny", "max_tokens": "x"}`, "max_tokens"},
	} {
		code, e, _ := raw(t, "POST", th.url+"/functions/generate", testKey, "", []byte(tc.body))
		if code != 400 || e.Field != tc.field {
			t.Errorf("%s: %d %+v", tc.body, code, e)
		}
	}
}

// TestTrainBuiltin trains a small char-level model as a job, then serves it with
// "generate".
func TestTrainBuiltin(t *testing.T) {
	path, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b[20000:60000])
	th := startHost(t, functions.Config{Workers: 1, ModelsDir: t.TempDir()})
	in := builtin.TrainInput{Model: "opticks", Text: text, Layers: 1, Heads: 2, Width: 32, ContextLen: 32, Batch: 8, MaxSteps: 60, LR: 3e-3, Seed: 1}
	id, err := th.c.Submit("train", in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	j, err := th.c.WaitProgress(id, 2*time.Minute, func(j *api.Job) {
		if j.Status == api.StatusRunning && j.Note != "" && (len(notes) == 0 || notes[len(notes)-1] != j.Note) {
			notes = append(notes, j.Note)
		}
	})
	if err != nil || j.Status != api.StatusSucceeded {
		t.Fatalf("train job %+v %v", j, err)
	}
	var out builtin.TrainOutput
	if err := json.Unmarshal(j.Result, &out); err != nil {
		t.Fatal(err)
	}
	if out.Steps != 60 || !(out.Loss < out.FirstLoss-0.5) || out.Params == 0 {
		t.Fatalf("training result %+v", out)
	}
	t.Logf("train: %+v; progress notes %v", out, notes)
	var g builtin.GenerateOutput
	if err := th.c.Call("generate", builtin.GenerateInput{Model: "opticks", Prompt: "The light", MaxTokens: 20}, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Tokens) == 0 || g.Text == "" {
		t.Fatalf("generate from the trained model: %+v", g)
	}
	if e := hostErr(t, th.c.Call("train", in, nil)); e.Status != 400 || e.Body.Field != "model" {
		t.Fatalf("training over an existing model: %v", e)
	}
}
