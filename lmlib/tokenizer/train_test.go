package tokenizer

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
)

// trainCorpus is gen_train.py's corpus: Opticks and Tom Sawyer split at blank lines.
func trainCorpus(t testing.TB) []string {
	t.Helper()
	var docs []string
	for _, find := range []func() (string, error){assets.Opticks, assets.TomSawyer} {
		p, err := find()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, strings.Split(string(b), "\n\n")...)
	}
	return docs
}

type trainVectors struct {
	Tokenizers string   `json:"tokenizers"`
	VocabSize  int      `json:"vocab_size"`
	Specials   []string `json:"specials"`
	Patterns   map[string]struct {
		Pattern      string                      `json:"pattern"`
		MinFrequency int                         `json:"min_frequency"`
		HFMerges     [][2]string                 `json:"hf_merges"`
		Encodings    map[string]map[string][]int `json:"encodings"`
	} `json:"patterns"`
}

// TestTrainMatchesHF: on the same corpus, pattern and vocabulary size, golem learns
// exactly the merges of HF tokenizers' BpeTrainer, and the vocabulary it writes encodes
// sample texts in HF tokenizers and tiktoken exactly as golem does.
func TestTrainMatchesHF(t *testing.T) {
	f, err := os.Open("testdata/train_vectors.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var v trainVectors
	if err := json.NewDecoder(zr).Decode(&v); err != nil {
		t.Fatal(err)
	}
	docs := trainCorpus(t)
	for pattern, want := range v.Patterns {
		tok, err := Train(docs, TrainOptions{VocabSize: v.VocabSize, SpecialTokens: v.Specials, Pattern: want.Pattern,
			MinFrequency: want.MinFrequency})
		if err != nil {
			t.Fatal(err)
		}
		if want.MinFrequency == 0 && tok.VocabSize() != v.VocabSize {
			t.Errorf("%s: vocab size %d, want %d", pattern, tok.VocabSize(), v.VocabSize)
		}
		merges, _ := tok.Merges()
		if len(merges) != len(want.HFMerges) {
			t.Errorf("%s: %d merges, HF %s has %d", pattern, len(merges), v.Tokenizers, len(want.HFMerges))
		}
		for i := 0; i < min(len(merges), len(want.HFMerges)); i++ {
			got := [2]string{ByteLevelString(tok.tokens[merges[i][0]]), ByteLevelString(tok.tokens[merges[i][1]])}
			if got != want.HFMerges[i] {
				t.Fatalf("%s: merge %d is %q, HF's is %q", pattern, i, got, want.HFMerges[i])
			}
		}
		for name, enc := range want.Encodings {
			text, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			sample := string([]rune(string(text))[:min(20000, len([]rune(string(text))))])
			got := tok.EncodeOrdinary(sample)
			if !reflect.DeepEqual(got, enc["tiktoken"]) {
				t.Errorf("%s %s: golem's ids differ from tiktoken's with the same vocabulary", pattern, name)
			}
			if !reflect.DeepEqual(got, enc["hf"]) {
				t.Errorf("%s %s: golem's ids differ from HF tokenizers' with the same vocabulary", pattern, name)
			}
		}
	}
}

func TestTrainOptions(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	docs := []string{"low lower lowest", "low low newer newest", "wider wide"}
	tests := []struct {
		name    string
		opts    TrainOptions
		wantErr string
		check   func(t *testing.T, tok *Tokenizer)
	}{
		{"too small", TrainOptions{VocabSize: 100}, "below 256", nil},
		{"bad pattern", TrainOptions{VocabSize: 300, Pattern: "bert"}, "unknown pattern", nil},
		{"interrupted", TrainOptions{VocabSize: 300, Context: cancelled}, "interrupted", nil},
		{"repeated special", TrainOptions{VocabSize: 300, SpecialTokens: []string{"<a>", "<a>"}}, "repeated", nil},
		{"specials first", TrainOptions{VocabSize: 270, SpecialTokens: []string{"<|endoftext|>", "<pad>"}}, "", func(t *testing.T, tok *Tokenizer) {
			if tok.EOT() != 0 || tok.SpecialTokens()["<pad>"] != 1 || tok.VocabSize() != 270 {
				t.Fatalf("EOT %d specials %v size %d", tok.EOT(), tok.SpecialTokens(), tok.VocabSize())
			}
			if r, _ := tok.Rank("!"); r != 2 { // bytes follow in byte-level order: '!' first
				t.Fatalf("rank of '!' = %d", r)
			}
		}},
		{"min frequency stops early", TrainOptions{VocabSize: 1000, MinFrequency: 3}, "", func(t *testing.T, tok *Tokenizer) {
			m, _ := tok.Merges()
			// pairs seen ≥ 3 times: "lo"(5) "ow"(5) " l"(3)… training stops before rarer ones
			if len(m) == 0 || tok.VocabSize() >= 1000 {
				t.Fatalf("%d merges, size %d", len(m), tok.VocabSize())
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Train(docs, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tok)
			for _, d := range docs {
				if back, _ := tok.Decode(tok.EncodeOrdinary(d)); back != d {
					t.Fatalf("round trip of %q gave %q", d, back)
				}
			}
		})
	}
}

func TestTrainReaderEqualsTrain(t *testing.T) {
	texts := trainCorpus(t)[:400]
	var docs []*data.Doc
	for _, s := range texts {
		docs = append(docs, &data.Doc{Text: s})
	}
	a, err := TrainReader(data.SliceReader(docs), TrainOptions{VocabSize: 600})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(texts, TrainOptions{VocabSize: 600, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ma, _ := a.Merges()
	mb, _ := b.Merges()
	if !reflect.DeepEqual(ma, mb) {
		t.Fatal("TrainReader and Train (1 worker) learned different merges")
	}
}
