package builtin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// TokenizeInput is the input of the built-in function "tokenize".
type TokenizeInput struct {
	// Encoding is a built-in vocabulary: gpt2, r50k_base, p50k_base, cl100k_base
	// (default) or o200k_base.
	Encoding string `json:"encoding"`
	// Text is one document; Texts a batch (give one or the other).
	Text  string   `json:"text"`
	Texts []string `json:"texts"`
	// AllowedSpecial lists special tokens encoded as such ("all" for every one);
	// without it special-token text is encoded as ordinary text.
	AllowedSpecial []string `json:"allowed_special"`
}

// TokenizeOutput is the result of "tokenize".
type TokenizeOutput struct {
	Encoding string  `json:"encoding"`
	Tokens   []int   `json:"tokens,omitempty"`
	Batch    [][]int `json:"batch,omitempty"`
	Count    int     `json:"count"`
}

// DetokenizeInput is the input of the built-in function "detokenize".
type DetokenizeInput struct {
	Encoding string `json:"encoding"`
	Tokens   []int  `json:"tokens"`
}

// DetokenizeOutput is the result of "detokenize".
type DetokenizeOutput struct {
	Text string `json:"text"`
}

func loadEncoding(name string) (*tokenizer.Tokenizer, error) {
	if name == "" {
		name = "cl100k_base"
	}
	// Only the built-in vocabularies: tokenizer.Load also opens file paths, which a
	// remote caller must not choose.
	if !slices.Contains(tokenizer.Builtins(), name) {
		return nil, &functions.CallError{Kind: api.KindInput, Field: "encoding", Msg: fmt.Sprintf("input field \"encoding\": unknown encoding %q (known: %s)", name, strings.Join(tokenizer.Builtins(), ", "))}
	}
	return tokenizer.Load(name)
}

// Tokenize is the built-in "tokenize": the lmlib tokenizer as a function.
func Tokenize(ctx context.Context, in *TokenizeInput) (*TokenizeOutput, error) {
	tok, err := loadEncoding(in.Encoding)
	if err != nil {
		return nil, err
	}
	if in.Text != "" && len(in.Texts) > 0 {
		return nil, &functions.CallError{Kind: api.KindInput, Field: "texts", Msg: "give text or texts, not both"}
	}
	encode := func(s string) ([]int, error) {
		if len(in.AllowedSpecial) == 0 {
			return tok.EncodeOrdinary(s), nil
		}
		ids, err := tok.EncodeAllowed(s, in.AllowedSpecial...)
		if err != nil {
			return nil, &functions.CallError{Kind: api.KindInput, Field: "allowed_special", Msg: err.Error()}
		}
		return ids, nil
	}
	out := &TokenizeOutput{Encoding: tok.Name()}
	if len(in.Texts) == 0 {
		out.Tokens, err = encode(in.Text)
		out.Count = len(out.Tokens)
		return out, err
	}
	out.Batch = make([][]int, len(in.Texts))
	for i, s := range in.Texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out.Batch[i], err = encode(s); err != nil {
			return nil, err
		}
		out.Count += len(out.Batch[i])
		if i%64 == 63 {
			fn.Progress(ctx, float64(i+1)/float64(len(in.Texts)), fmt.Sprintf("%d of %d texts", i+1, len(in.Texts)))
		}
	}
	return out, nil
}

// Detokenize is the built-in "detokenize".
func Detokenize(ctx context.Context, in *DetokenizeInput) (*DetokenizeOutput, error) {
	tok, err := loadEncoding(in.Encoding)
	if err != nil {
		return nil, err
	}
	s, err := tok.Decode(in.Tokens)
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Field: "tokens", Msg: err.Error()}
	}
	return &DetokenizeOutput{Text: s}, nil
}

func init() {
	functions.Register("tokenize", "encode text with a built-in BPE vocabulary (lmlib/tokenizer; tiktoken-identical ids)", Tokenize)
	functions.Register("detokenize", "decode token ids to text with a built-in BPE vocabulary (lmlib/tokenizer)", Detokenize)
}
