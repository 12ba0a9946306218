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
		var out functions.TokenizeOutput
		in := functions.TokenizeInput{Encoding: tc.Encoding, Text: tc.Text, AllowedSpecial: tc.AllowedSpecial}
		if err := c.Call("tokenize", in, &out); err != nil {
			t.Fatalf("%s %q: %v", tc.Encoding, tc.Text, err)
		}
		if !slices.Equal(out.Tokens, tc.Tokens) || out.Count != len(tc.Tokens) {
			t.Errorf("%s %q: got %v, tiktoken %v", tc.Encoding, tc.Text, out.Tokens, tc.Tokens)
		}
		var back functions.DetokenizeOutput
		if err := c.Call("detokenize", functions.DetokenizeInput{Encoding: tc.Encoding, Tokens: tc.Tokens}, &back); err != nil || back.Text != tc.Text {
			t.Errorf("detokenize %s: %q %v", tc.Encoding, back.Text, err)
		}
		if tc.AllowedSpecial == nil {
			batches[tc.Encoding] = append(batches[tc.Encoding], tc.Text)
			want[tc.Encoding] = append(want[tc.Encoding], tc.Tokens)
		}
	}
	// The same as a batch job.
	for enc, texts := range batches {
		id, err := c.Submit("tokenize", functions.TokenizeInput{Encoding: enc, Texts: texts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.Wait(id, 30*time.Second)
		if err != nil || j.Status != api.StatusSucceeded {
			t.Fatalf("tokenize job: %+v %v", j, err)
		}
		var out functions.TokenizeOutput
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
