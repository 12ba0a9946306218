package clean

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/golem-lm/golem/lmlib/data"
)

// readGzipJSONL decodes every line of a gzip-compressed JSONL test vector into fn.
func readGzipJSONL(t testing.TB, name string, fn func(line []byte)) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("open vector %s: %v (regenerate with lmlib/clean/testdata/gen_datatrove.py)", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("gunzip %s: %v", name, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
}

// readGzipJSON decodes a gzip-compressed JSON test vector into v.
func readGzipJSON(t testing.TB, name string, v any) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("open vector %s: %v", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("gunzip %s: %v", name, err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

type spacyVector struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	Words     []string `json:"words"`
	Sentences *int     `json:"sentences"`
}

func loadSpacyVectors(t testing.TB) []spacyVector {
	var out []spacyVector
	readGzipJSONL(t, "spacy_words.jsonl.gz", func(line []byte) {
		var v spacyVector
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("spacy_words.jsonl.gz: %v", err)
		}
		out = append(out, v)
	})
	return out
}

// TestWordsMatchSpacy compares Words with spaCy's English tokenizer (via datatrove's
// split_into_words) token by token.
func TestWordsMatchSpacy(t *testing.T) {
	vecs := loadSpacyVectors(t)
	same, total, tokSame, tokTotal := 0, 0, 0, 0
	shown := 0
	for _, v := range vecs {
		got := Words(v.Text)
		total++
		eq := len(got) == len(v.Words)
		for i := 0; eq && i < len(got); i++ {
			eq = got[i] == v.Words[i]
		}
		if eq {
			same++
		} else if shown < 15 && testing.Verbose() {
			shown++
			// find first difference
			i := 0
			for i < len(got) && i < len(v.Words) && got[i] == v.Words[i] {
				i++
			}
			lo := i - 3
			if lo < 0 {
				lo = 0
			}
			hiG, hiW := i+4, i+4
			if hiG > len(got) {
				hiG = len(got)
			}
			if hiW > len(v.Words) {
				hiW = len(v.Words)
			}
			t.Logf("%s: golem %q spacy %q", v.ID, got[lo:hiG], v.Words[lo:hiW])
		}
		tokTotal += len(v.Words)
		d := len(got) - len(v.Words)
		if d < 0 {
			d = -d
		}
		tokSame += len(v.Words) - d
	}
	rate := float64(same) / float64(total)
	t.Logf("Words: %d/%d texts tokenized exactly like spaCy (%.1f%%); token-count agreement %.2f%%",
		same, total, 100*rate, 100*float64(tokSame)/float64(tokTotal))
	if rate < 0.98 {
		t.Errorf("only %.1f%% of texts tokenized exactly like spaCy, want ≥ 98%%", 100*rate)
	}
}

// TestSentencesMatchSpacy compares CountSentences with datatrove's split_into_sentences.
func TestSentencesMatchSpacy(t *testing.T) {
	same, total := 0, 0
	for _, v := range loadSpacyVectors(t) {
		if v.Sentences == nil {
			continue
		}
		total++
		if got := CountSentences(v.Text); got == *v.Sentences {
			same++
		} else if testing.Verbose() {
			t.Logf("%s: golem %d spacy %d sentences in %q", v.ID, got, *v.Sentences, v.Text)
		}
	}
	rate := float64(same) / float64(total)
	t.Logf("CountSentences: %d/%d lines agree with spaCy's Sentencizer (%.1f%%)", same, total, 100*rate)
	if rate < 0.99 {
		t.Errorf("sentence counts agree on %.1f%% of lines, want ≥ 99%%", 100*rate)
	}
}

type corpusDoc struct {
	ID   string         `json:"id"`
	Text string         `json:"text"`
	Meta map[string]any `json:"metadata"`
}

func loadCorpus(t testing.TB) []corpusDoc {
	var docs []corpusDoc
	readGzipJSONL(t, "corpus.jsonl.gz", func(line []byte) {
		var d corpusDoc
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("corpus.jsonl.gz: %v", err)
		}
		docs = append(docs, d)
	})
	return docs
}

// TestFiltersAgreeWithDatatrove runs each filter over the parity corpus and compares
// keep/drop and the drop reason with datatrove 0.10.1's (testdata/gen_datatrove.py).
func TestFiltersAgreeWithDatatrove(t *testing.T) {
	docs := loadCorpus(t)
	want := map[string]map[string]string{}
	readGzipJSONL(t, "datatrove_filters.jsonl.gz", func(line []byte) {
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatalf("datatrove_filters.jsonl.gz: %v", err)
		}
		want[row["id"]] = row
	})
	gq, gr, c4, fw := NewGopherQualityFilter(), NewGopherRepetitionFilter(), NewC4QualityFilter(), NewFineWebQualityFilter()
	filters := []struct {
		name string
		run  func(text string) (reason, c4hash string)
	}{
		{"gopher_quality", func(s string) (string, string) { return gq.Check(s), "" }},
		{"gopher_repetition", func(s string) (string, string) { return gr.Check(s), "" }},
		{"c4_quality", func(s string) (string, string) {
			out, r := c4.Apply(s)
			return r, fmt.Sprintf("%016x", xxhash.Sum64String(out))
		}},
		{"fineweb_quality", func(s string) (string, string) { return fw.Check(s), "" }},
	}
	for _, f := range filters {
		agree, reasonAgree, total, textAgree, kept := 0, 0, 0, 0, 0
		shown := 0
		for _, d := range docs {
			w := want[d.ID][f.name]
			if w == "" || strings.HasPrefix(w, "error:") {
				continue
			}
			total++
			got, h := f.run(d.Text)
			if got == "" {
				got = "keep"
			}
			if (got == "keep") == (w == "keep") {
				agree++
				if got == w {
					reasonAgree++
				}
				if w == "keep" && f.name == "c4_quality" {
					kept++
					if h == want[d.ID]["c4_text_xxh64"] {
						textAgree++
					}
				}
			} else if testing.Verbose() && shown < 10 {
				shown++
				t.Logf("%s %s: golem %s datatrove %s", f.name, d.ID, got, w)
			}
		}
		rate := float64(agree) / float64(total)
		t.Logf("%-18s keep/drop agreement %d/%d = %.2f%%, same reason %.2f%%", f.name, agree, total,
			100*rate, 100*float64(reasonAgree)/float64(total))
		if f.name == "c4_quality" {
			t.Logf("%-18s edited text identical on %d/%d kept documents", f.name, textAgree, kept)
		}
		if rate < 0.99 {
			t.Errorf("%s agrees with datatrove on %.2f%% of documents, want ≥ 99%%", f.name, 100*rate)
		}
	}
}

// TestSentenceDedupMatchesDatatrove runs SentenceDedup sequentially over documents that
// share planted and copied sentence spans and compares each output with datatrove's
// three-stage SentenceDedup (signature, find, filter).
func TestSentenceDedupMatchesDatatrove(t *testing.T) {
	type row struct {
		ID   string  `json:"id"`
		Text string  `json:"text"`
		Out  *string `json:"out"`
	}
	var rows []row
	readGzipJSONL(t, "sentence_dedup.jsonl.gz", func(line []byte) {
		var r row
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	})
	s := NewSentenceDedup()
	same, changed, dropped := 0, 0, 0
	for _, r := range rows {
		d := &data.Doc{ID: r.ID, Text: r.Text}
		drop, err := s.Process(d)
		if err != nil {
			t.Fatal(err)
		}
		var got *string
		if drop == "" {
			got = &d.Text
		}
		if r.Out == nil {
			dropped++
		} else if *r.Out != r.Text {
			changed++
		}
		if (got == nil) == (r.Out == nil) && (got == nil || *got == *r.Out) {
			same++
		} else if testing.Verbose() {
			w := "<dropped>"
			if r.Out != nil {
				w = *r.Out
			}
			g := "<dropped>"
			if got != nil {
				g = *got
			}
			t.Logf("%s:\n golem %q\n  want %q", r.ID, g, w)
		}
	}
	rate := float64(same) / float64(len(rows))
	t.Logf("SentenceDedup: %d/%d documents identical to datatrove's (%.1f%%; datatrove edited %d, dropped %d)",
		same, len(rows), 100*rate, changed, dropped)
	if rate < 0.99 {
		t.Errorf("SentenceDedup agrees on %.1f%%, want ≥ 99%%", 100*rate)
	}
}
