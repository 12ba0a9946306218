package clean

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/golem-lm/golem/lmlib/data"
)

// BenchmarkFineWebChain runs the FineWeb chain over a JSONL file named by
// GOLEM_CLEAN_BENCH (HTML pages, e.g. from lmlib/clean/bench/bench.py --keep DIR:
// DIR/input/html/shard00.jsonl), or over the parity corpus.
func BenchmarkFineWebChain(b *testing.B) {
	var docs []data.Doc
	html := false
	if p := os.Getenv("GOLEM_CLEAN_BENCH"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			var d data.Doc
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				b.Fatal(err)
			}
			docs = append(docs, d)
		}
		f.Close()
		html = true
	} else {
		for _, d := range loadCorpus(b) {
			docs = append(docs, data.Doc{ID: d.ID, Text: d.Text})
		}
	}
	n := 0
	for _, d := range docs {
		n += len(d.Text)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		steps, err := FineWebSteps(FineWebOptions{HTML: html})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range docs {
			d := d
			for _, s := range steps {
				if drop, err := s.Process(&d); err != nil || drop != "" {
					break
				}
			}
		}
	}
}

// BenchmarkSteps measures each step alone over the parity corpus (one goroutine).
func BenchmarkSteps(b *testing.B) {
	var docs []data.Doc
	n := 0
	for _, d := range loadCorpus(b) {
		docs = append(docs, data.Doc{ID: d.ID, Text: d.Text})
		n += len(d.Text)
	}
	mh, _ := NewMinHashDeduper(DefaultMinHashConfig())
	steps := []data.Step{NewLanguageFilter(), NewGopherRepetitionFilter(), NewGopherQualityFilter(),
		NewC4QualityFilter(), NewFineWebQualityFilter(), mh, NewPIIFormatter(), NewNormalizer(), NewSentenceDedup()}
	for _, s := range steps {
		b.Run(s.Name(), func(b *testing.B) {
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				for _, d := range docs {
					d := d
					s.Process(&d)
				}
			}
		})
	}
	b.Run("words", func(b *testing.B) {
		b.SetBytes(int64(n))
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				Words(d.Text)
			}
		}
	})
}
