package tokenizer_test

import (
	"fmt"

	"github.com/golem-lm/golem/lmlib/tokenizer"
)

func Example() {
	tok, err := tokenizer.Load("cl100k_base")
	if err != nil {
		panic(err)
	}
	ids := tok.EncodeOrdinary("hello world")
	text, _ := tok.Decode(ids)
	fmt.Println(ids, text)
	// Output: [15339 1917] hello world
}

func ExampleTokenizer_EncodeAllowed() {
	tok, _ := tokenizer.Load("gpt2")
	if _, err := tok.Encode("end<|endoftext|>"); err != nil {
		fmt.Println("Encode:", err != nil)
	}
	ids, _ := tok.EncodeAllowed("end<|endoftext|>", "<|endoftext|>")
	fmt.Println(ids, tok.EOT())
	// Output:
	// Encode: true
	// [437 50256] 50256
}

func ExampleTokenizer_EncodeBatch() {
	tok, _ := tokenizer.Load("o200k_base")
	batch := tok.EncodeBatch([]string{"first document", "second one"})
	fmt.Println(len(batch), len(batch[0]) > 0)
	// Output: 2 true
}
