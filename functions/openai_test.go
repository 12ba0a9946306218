package functions_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/hf"
	"github.com/golem-lm/golem/lmlib/train"
)

// tinyModels writes lmlib/hf's tiny GPT-2 test model as the checkpoint "tiny" into
// a models directory and returns it with the model in memory.
func tinyModels(t *testing.T) (string, *eval.ModelLM) {
	t.Helper()
	dir := t.TempDir()
	m, tok, err := hf.Import("../lmlib/hf/testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	var tj bytes.Buffer
	if err := tok.WriteHF(&tj); err != nil {
		t.Fatal(err)
	}
	if err := train.SaveModel(m, filepath.Join(dir, "tiny"), 0, nil, map[string][]byte{eval.TokenizerFile: tj.Bytes()}); err != nil {
		t.Fatal(err)
	}
	return dir, &eval.ModelLM{Model: eval.NewGPT(m), Tok: eval.BPE(tok)}
}

// post sends JSON with a key and decodes the answer into out; it returns the status.
func post(t *testing.T, url, key string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decode %s answer: %v", url, err)
		}
	}
	return resp.StatusCode
}

type completion struct {
	Choices []struct {
		Text     string `json:"text"`
		Index    int    `json:"index"`
		Logprobs *struct {
			Tokens        []string             `json:"tokens"`
			TokenLogprobs []*float64           `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
			TextOffset    []int                `json:"text_offset"`
		} `json:"logprobs"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Message, Type string
		Param         *string
	} `json:"error"`
}

// TestOpenAICompletions: /v1/completions with echo and logprobs scores a
// continuation exactly as lmlib/eval does (the way lm-evaluation-harness reads
// it), greedy completions equal lmlib/eval's generation, the stream carries the
// same text, the vLLM tokenizer endpoints use the model's tokenizer, and errors
// have OpenAI's shape.
func TestOpenAICompletions(t *testing.T) {
	dir, lm := tinyModels(t)
	th := startHost(t, functions.Config{Workers: 1, ModelsDir: dir})
	base := th.url + "/models/tiny"

	var tk struct {
		Tokens []int `json:"tokens"`
	}
	if code := post(t, base+"/tokenize", testKey, map[string]any{"prompt": "Tom whitewashed the fence<|endoftext|>", "add_special_tokens": false}, &tk); code != 200 {
		t.Fatalf("tokenize: %d", code)
	}
	want := append(lm.Tok.EncodeOrdinary("Tom whitewashed the fence"), lm.Tok.EOT())
	if !equalInts(tk.Tokens, want) {
		t.Fatalf("tokenize %v, want %v", tk.Tokens, want)
	}
	var dt struct{ Prompt string }
	if post(t, base+"/detokenize", testKey, map[string]any{"tokens": tk.Tokens}, &dt); dt.Prompt != "Tom whitewashed the fence<|endoftext|>" {
		t.Fatalf("detokenize %q", dt.Prompt)
	}

	for _, r := range []eval.Request{{Context: "Tom whitewashed", Continuation: " the fence"}, {Context: "Aunt Polly ", Continuation: "said"}} {
		ref, err := lm.Loglikelihood([]eval.Request{r})
		if err != nil {
			t.Fatal(err)
		}
		ctxIDs := lm.Tok.EncodeOrdinary(strings.TrimRight(r.Context, " "))
		whole := lm.Tok.EncodeOrdinary(r.Context + r.Continuation)
		var c completion
		if code := post(t, th.url+"/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": whole, "max_tokens": 1,
			"echo": true, "logprobs": 1, "temperature": 0}, &c); code != 200 {
			t.Fatalf("completions: %d %+v", code, c.Error)
		}
		lp := c.Choices[0].Logprobs
		sum, greedy := 0.0, true
		for i := len(ctxIDs); i < len(lp.TokenLogprobs)-1; i++ {
			sum += *lp.TokenLogprobs[i]
			best := math.Inf(-1)
			for _, v := range lp.TopLogprobs[i] {
				best = math.Max(best, v)
			}
			if *lp.TokenLogprobs[i] != best {
				greedy = false
			}
		}
		if math.Abs(sum-ref[0].LogLikelihood) > 1e-9 || greedy != ref[0].IsGreedy || lp.TokenLogprobs[0] != nil {
			t.Errorf("%+v: served %v greedy %v, lmlib/eval %v greedy %v", r, sum, greedy, ref[0].LogLikelihood, ref[0].IsGreedy)
		}
		if c.Usage.PromptTokens != len(whole) || c.Usage.CompletionTokens > 1 {
			t.Errorf("usage %+v for %d prompt tokens", c.Usage, len(whole))
		}
	}

	gen, err := lm.GenerateUntil([]eval.GenerateRequest{{Context: "Tom whitewashed", Until: []string{"\n"}, MaxTokens: 12}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(gen[0]) // as JSON carries it: a byte of a cut character becomes U+FFFD
	_ = json.Unmarshal(b, &gen[0])
	var c completion
	if code := post(t, base+"/v1/completions", testKey, map[string]any{"prompt": []string{"Tom whitewashed", "Tom whitewashed"}, "max_tokens": 12,
		"temperature": 0, "stop": "\n"}, &c); code != 200 || len(c.Choices) != 2 {
		t.Fatalf("completions: %d %+v", code, c)
	}
	for _, ch := range c.Choices {
		if ch.Text != gen[0] {
			t.Errorf("choice %d: %q, lmlib/eval %q", ch.Index, ch.Text, gen[0])
		}
	}

	// Streamed: the same text in pieces, then a finish reason, usage and [DONE].
	b, _ = json.Marshal(map[string]any{"model": "tiny", "prompt": "Tom whitewashed", "max_tokens": 12, "temperature": 0, "stop": "\n",
		"stream": true, "stream_options": map[string]bool{"include_usage": true}})
	req, _ := http.NewRequest("POST", th.url+"/v1/completions", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	var text, finish string
	var events int
	done, usage := false, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			break
		}
		var ch completion
		if err := json.Unmarshal([]byte(line), &ch); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		events++
		if len(ch.Choices) == 0 {
			usage = ch.Usage.TotalTokens > 0
			continue
		}
		text += ch.Choices[0].Text
		if ch.Choices[0].FinishReason != "" {
			finish = ch.Choices[0].FinishReason
		}
	}
	if !done || !usage || finish == "" || text != gen[0] || events < 3 {
		t.Fatalf("stream: %d events, text %q (want %q), finish %q, usage %v, done %v", events, text, gen[0], finish, usage, done)
	}

	for _, tc := range []struct {
		url   string
		key   string
		body  map[string]any
		code  int
		param string
	}{
		{th.url + "/v1/completions", testKey, map[string]any{"model": "nope", "prompt": "x"}, 404, "model"},
		{th.url + "/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": "x", "n": 99}, 400, "n"},
		{th.url + "/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": "x", "logit_bias": map[string]int{"1": 5}}, 400, "logit_bias"},
		{th.url + "/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": strings.Repeat("word ", 200)}, 400, "prompt"},
		{th.url + "/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": "x", "max_tokens": "many"}, 400, "max_tokens"},
		{th.url + "/v1/completions", testKey, map[string]any{"model": "tiny", "prompt": "x", "temprature": 0}, 400, "temprature"},
		{base + "/v1/completions", testKey, map[string]any{"model": "other", "prompt": "x"}, 400, "model"},
		{th.url + "/v1/completions", "wrong-key-0123456789", map[string]any{"model": "tiny", "prompt": "x"}, 401, ""},
	} {
		var c completion
		code := post(t, tc.url, tc.key, tc.body, &c)
		if code != tc.code || c.Error == nil || c.Error.Message == "" || (tc.param != "" && (c.Error.Param == nil || *c.Error.Param != tc.param)) {
			t.Errorf("%v: %d %+v, want %d param %q", tc.body, code, c.Error, tc.code, tc.param)
		}
	}
	var list struct {
		Data []struct{ ID, Object string }
	}
	req, _ = http.NewRequest("GET", th.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer lresp.Body.Close()
	if err := json.NewDecoder(lresp.Body).Decode(&list); err != nil || len(list.Data) != 1 || list.Data[0].ID != "tiny" || list.Data[0].Object != "model" {
		t.Fatalf("models %+v %v", list, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
