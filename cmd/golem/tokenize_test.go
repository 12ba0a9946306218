package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Expected ids: tiktoken 0.14.0 (encode_ordinary / encode with allowed_special="all").
func TestTokenizeCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		in      string
		want    string
		wantErr string
	}{
		{"gpt2 lines", []string{"--vocab", "gpt2"}, "Hello world\n\nit's\n", "15496 995\n\n270 338\n", ""},
		{"cl100k no final newline", []string{"--vocab", "cl100k_base"}, "Hello world", "9906 1917\n", ""},
		{"special disallowed", []string{"--vocab", "cl100k_base"}, "ok\nx<|endoftext|>\n", "", "line 2"},
		{"special allowed", []string{"--vocab", "cl100k_base", "--allow-special"}, "x<|endoftext|>\n", "87 100257\n", ""},
		{"special as text", []string{"--vocab", "gpt2", "--ordinary"}, "<|endoftext|>\n", "27 91 437 1659 5239 91 29\n", ""},
		{"decode", []string{"--vocab", "cl100k_base", "--decode"}, "9906 1917\n87 100257\n", "Hello world\nx<|endoftext|>\n", ""},
		{"decode bad id", []string{"--vocab", "gpt2", "--decode"}, "1 x\n", "", `"x" is not a token id`},
		{"decode unknown id", []string{"--vocab", "gpt2", "--decode"}, "99999999\n", "", "unknown token id 99999999"},
		{"unknown vocab", []string{"--vocab", "nope_base"}, "", "", "neither a built-in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tokenizeMain(tc.args, strings.NewReader(tc.in), &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestTokenizeTrainCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	os.WriteFile(corpus, []byte(`{"id":"1","text":"low lower lowest"}
{"id":"2","text":"new newer newest"}
{"id":"3","text":"wide wider widest"}
`), 0o644)
	out := filepath.Join(dir, "vocab")
	var buf bytes.Buffer
	if err := tokenizeMain([]string{"train", "--vocab-size", "270", "--out", out, corpus}, nil, &buf); err != nil {
		t.Fatal(err)
	}
	// the vocabulary it wrote encodes like the one Train returns (see ExampleTrain)
	var enc bytes.Buffer
	if err := tokenizeMain([]string{"--vocab", filepath.Join(out, "tokenizer.json")}, strings.NewReader("lowest newest\n"), &enc); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(enc.String()); len(got) != 4 {
		t.Fatalf("encoded to %q", enc.String())
	}
	for _, f := range []string{"vocab.tiktoken", "vocab.tiktoken.json", "encoder.json", "vocab.bpe"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tokenizeMain([]string{"train", "--out", out, corpus}, nil, &buf); err == nil || !strings.Contains(err.Error(), "--vocab-size") {
		t.Fatalf("missing --vocab-size: %v", err)
	}
	if err := tokenizeMain([]string{"train", "--vocab-size", "300", "--out", out, filepath.Join(dir, "missing.jsonl")}, nil, &buf); err == nil {
		t.Fatal("missing input accepted")
	}
}
