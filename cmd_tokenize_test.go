package main

import (
	"bytes"
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
