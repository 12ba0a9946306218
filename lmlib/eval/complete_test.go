package eval

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestCompleteEchoScoresLikeLoglikelihood: the echoed prompt's log-probabilities,
// summed over the continuation the way lm-evaluation-harness's local-completions
// model sums them (token_logprobs[ctxlen:-1] with max_tokens 1), equal
// ModelLM.Loglikelihood, and the greedy flag read from top_logprobs agrees — up to
// the longest input the model takes (context + 1 tokens).
func TestCompleteEchoScoresLikeLoglikelihood(t *testing.T) {
	g := testGPT(t, true)
	lm := &ModelLM{Model: g, Tok: byteTok{}}
	long := strings.Repeat("the cat sat on the mat. ", 3)
	for _, r := range []Request{
		{"The cat", " sat"},
		{"", "hello"},
		{"a b c ", "d e"},
		{long[:30], long[30:40]}, // 40 tokens: only the last context+1 are read
	} {
		want, err := lm.Loglikelihood([]Request{r})
		if err != nil {
			t.Fatal(err)
		}
		ctxIDs, contIDs, err := lm.encodePair(r.Context, r.Continuation)
		if err != nil {
			t.Fatal(err)
		}
		all := append(append([]int32{}, ctxIDs...), contIDs...)
		ctxlen := len(ctxIDs)
		if over := len(all) - (g.ContextLen() + 1); over > 0 { // lm-eval's truncation
			all, ctxlen = all[over:], ctxlen-over
		}
		c, err := Complete(g, byteTok{}, CompletionRequest{Prompt: all, MaxTokens: 1, Echo: true, TopLogprobs: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Tokens) != len(all)+1 || c.Tokens[0].Logprob != nil {
			t.Fatalf("%q: %d tokens for a %d-token prompt and 1 new", r.Context, len(c.Tokens), len(all))
		}
		sum, greedy := 0.0, true
		for _, tk := range c.Tokens[ctxlen : len(c.Tokens)-1] {
			sum += *tk.Logprob
			if *tk.Logprob != tk.Top[0].Logprob {
				greedy = false
			}
		}
		if math.Abs(sum-want[0].LogLikelihood) > 1e-9 || greedy != want[0].IsGreedy {
			t.Errorf("%q+%q: echo gives %v (greedy %v), Loglikelihood %v (greedy %v)", r.Context, r.Continuation, sum, greedy, want[0].LogLikelihood, want[0].IsGreedy)
		}
	}
}

// TestCompleteGeneratesLikeGenerate: the completion's tokens and text are
// Generate's, each with the log-probability the model gave it; stop strings and
// the end of text finish with "stop", the token limit with "length".
func TestCompleteGeneratesLikeGenerate(t *testing.T) {
	g := testGPT(t, false)
	prompt := toInt32(byteTok{}.EncodeOrdinary("the cat"))
	ref, err := GenerateTokens(g, byteTok{}, prompt, GenerateOptions{MaxTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	var streamed strings.Builder
	c, err := Complete(g, byteTok{}, CompletionRequest{Prompt: prompt, MaxTokens: 10, TopLogprobs: 3, OnText: func(s string) { streamed.WriteString(s) }})
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	for _, tk := range c.Tokens {
		got = append(got, tk.Token)
		if len(tk.Top) != 3 || *tk.Logprob != tk.Top[0].Logprob || tk.Top[0].Logprob < tk.Top[1].Logprob || *tk.Logprob > 0 {
			t.Fatalf("greedy token %d: logprob %v, top %+v", tk.Token, *tk.Logprob, tk.Top)
		}
	}
	if !slices.Equal(got, ref.Tokens) || c.Text != ref.Text || streamed.String() != ref.Text || c.CompletionTokens != len(ref.Tokens) {
		t.Fatalf("complete %q %v, generate %q %v", c.Text, got, ref.Text, ref.Tokens)
	}
	if c.FinishReason != "length" && ref.StopReason == "max_tokens" {
		t.Fatalf("finish %q for stop reason %q", c.FinishReason, ref.StopReason)
	}
	if len(ref.Text) > 2 {
		stop := ref.Text[1:3]
		c, err := Complete(g, byteTok{}, CompletionRequest{Prompt: prompt, MaxTokens: 10, Stop: []string{stop}})
		if err != nil {
			t.Fatal(err)
		}
		if c.FinishReason != "stop" || strings.Contains(c.Text, stop) {
			t.Fatalf("stop %q: finish %q text %q", stop, c.FinishReason, c.Text)
		}
	}
	// Echo with new tokens: the prompt's text, then the completion's, with offsets.
	c, err = Complete(g, byteTok{}, CompletionRequest{Prompt: prompt, MaxTokens: 4, Echo: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Text, "the cat") || c.Tokens[len(prompt)].Offset != len("the cat") || c.Tokens[3].Offset != 3 {
		t.Fatalf("echo: %q, offsets %v %v", c.Text, c.Tokens[len(prompt)].Offset, c.Tokens[3].Offset)
	}
}

func TestCompleteErrors(t *testing.T) {
	g := testGPT(t, false)
	long := make([]int32, g.ContextLen()+2)
	for _, tc := range []struct {
		req  CompletionRequest
		want string
	}{
		{CompletionRequest{MaxTokens: 1}, "no tokens"},
		{CompletionRequest{Prompt: long, MaxTokens: 1, Echo: true}, "reads at most 25"},
		{CompletionRequest{Prompt: long[:25], MaxTokens: 1}, "context is 24"},
		{CompletionRequest{Prompt: []int32{1}}, "max tokens 0 must be positive (0 only with echo)"},
		{CompletionRequest{Prompt: []int32{300}, MaxTokens: 1}, "outside the vocabulary"},
		{CompletionRequest{Prompt: []int32{1}, MaxTokens: 1, TopLogprobs: -1}, "top logprobs -1"},
	} {
		if _, err := Complete(g, byteTok{}, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
		}
	}
	if s := tokenText(byteTok{}, 0xe2); s != `bytes:\xe2` {
		t.Errorf("partial UTF-8 token text %q", s)
	}
}
