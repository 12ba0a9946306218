package shard

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// Opticks, one document per paragraph from lmlib/data, tokenized with the real
// GPT-2 vocabulary into small shards with a validation split: every document
// comes back through the index as exactly its GPT-2 tokens, in order.
func TestWriterWithGPT2AndDataReader(t *testing.T) {
	tok, err := tokenizer.Load("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	path, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	r, err := data.Open(path, data.ReadOptions{TextSplit: data.SplitParagraph})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w, err := NewWriter(dir, tok, WriterOptions{Prefix: "opticks", ShardTokens: 40000, ValFraction: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddReader(r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.TrainShards) < 3 || len(st.ValShards) < 1 || st.TrainTokens < 100000 {
		t.Fatalf("stats %+v", st)
	}
	// Expected documents per split, read again sequentially.
	r, _ = data.Open(path, data.ReadOptions{TextSplit: data.SplitParagraph})
	want := map[bool][]string{}
	for d, err := r.Next(); err == nil; d, err = r.Next() {
		v := IsValidation(d.ID, 1, 0.1)
		want[v] = append(want[v], d.Text)
	}
	r.Close()
	for _, val := range []bool{false, true} {
		paths := st.TrainShards
		if val {
			paths = st.ValShards
		}
		i := 0
		for _, p := range paths {
			s, err := ReadShard(p)
			if err != nil {
				t.Fatal(err)
			}
			if s.Header.Version != Version16 || s.Header.VocabSize != 50257 {
				t.Fatalf("%s header %+v", p, s.Header)
			}
			offs, err := s.Docs()
			if err != nil {
				t.Fatal(err)
			}
			for j := range offs {
				got := s.Document(offs, j)
				exp := Int32s(tok.EncodeOrdinary(want[val][i]))
				if !reflect.DeepEqual(got, exp) {
					t.Fatalf("%s document %d (#%d of the split) differs from its GPT-2 encoding", p, j, i)
				}
				i++
			}
		}
		if i != len(want[val]) {
			t.Errorf("validation=%v: %d documents in shards, want %d", val, i, len(want[val]))
		}
	}
	// Batches from these shards decode to Opticks text.
	l, err := NewLoaderGlob(filepath.Join(dir, "opticks_train_*.bin"), LoaderOptions{B: 4, T: 256, Shuffle: true, Seed: 2, VocabSize: tok.VocabSize()})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := l.Next()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, 256)
	for i := range ids {
		ids[i] = int(x[i])
	}
	text, err := tok.DecodeBytes(ids)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(path)
	if piece := strings.SplitN(strings.ReplaceAll(string(text), "<|endoftext|>", "\x00"), "\x00", 2)[0]; len(piece) > 20 && !strings.Contains(string(full), piece[1:len(piece)-1]) {
		t.Errorf("decoded batch row is not Opticks text: %q", piece)
	}
}
