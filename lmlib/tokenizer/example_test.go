package tokenizer_test

import (
	"fmt"
	"os"
	"path/filepath"

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

func ExampleTrain() {
	docs := []string{"low lower lowest", "new newer newest", "wide wider widest"}
	tok, err := tokenizer.Train(docs, tokenizer.TrainOptions{
		VocabSize:     270, // 1 special + 256 bytes + 13 merges
		SpecialTokens: []string{"<|endoftext|>"},
	})
	if err != nil {
		panic(err)
	}
	ids := tok.EncodeOrdinary("lowest newest")
	var pieces []string
	for _, id := range ids {
		b, _ := tok.TokenBytes(id)
		pieces = append(pieces, string(b))
	}
	fmt.Printf("%d ids, EOT %d: %q\n", tok.VocabSize(), tok.EOT(), pieces) // HF tokenizers: the same
	// Output: 270 ids, EOT 0: ["lo" "west" " ne" "west"]
}

func ExampleLoad_file() {
	dir, _ := os.MkdirTemp("", "vocab")
	defer os.RemoveAll(dir)
	tok, _ := tokenizer.Load("gpt2")
	path := filepath.Join(dir, "tokenizer.json")
	if err := tok.SaveHF(path); err != nil { // also SaveTiktoken, SaveGPT2
		panic(err)
	}
	back, err := tokenizer.Load(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.EncodeOrdinary("same ids"), tok.EncodeOrdinary("same ids"))
	// Output: [31642 220 2340] [31642 220 2340]
}
