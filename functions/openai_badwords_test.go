package functions_test

import (
	"strings"
	"testing"

	"github.com/golem-lm/golem/functions"
)

// bad_words (vLLM's parameter) keeps /v1/completions from generating the words:
// ban the words the model writes greedily and they are gone from the new text.
func TestOpenAICompletionsBadWords(t *testing.T) {
	dir, _ := tinyModels(t)
	th := startHost(t, functions.Config{Workers: 1, ModelsDir: dir})
	req := map[string]any{"model": "tiny", "prompt": "Tom whitewashed the", "max_tokens": 16, "temperature": 0}
	var plain completion
	if code := post(t, th.url+"/v1/completions", testKey, req, &plain); code != 200 {
		t.Fatalf("completions: %d %+v", code, plain.Error)
	}
	var banned []string
	for _, w := range strings.Fields(plain.Choices[0].Text) {
		if w = strings.Trim(w, ".,;:!?\"'()"); len(w) > 1 {
			banned = append(banned, w)
		}
	}
	if len(banned) == 0 {
		t.Skipf("the tiny model wrote no word to ban: %q", plain.Choices[0].Text)
	}
	req["bad_words"] = banned
	var c completion
	if code := post(t, th.url+"/v1/completions", testKey, req, &c); code != 200 {
		t.Fatalf("completions with bad_words: %d %+v", code, c.Error)
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(c.Choices[0].Text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r > 127)
	}) {
		for _, b := range banned {
			if w == strings.ToLower(b) {
				t.Fatalf("%q generated with bad_words %q: %q", b, banned, c.Choices[0].Text)
			}
		}
	}
	req["bad_words"] = []string{"ok", " "}
	if code := post(t, th.url+"/v1/completions", testKey, req, &c); code != 400 || c.Error == nil || c.Error.Param == nil || *c.Error.Param != "bad_words" {
		t.Fatalf("an empty bad word: %d %+v", code, c.Error)
	}
}
