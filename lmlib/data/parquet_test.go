package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/parquet-go/parquet-go"
)

// crawlRow is a foreign schema (not ParquetWriter's): other column names, an
// integer id, extra scalar columns, written with small row groups.
type crawlRow struct {
	URL     string  `parquet:"url"`
	Content string  `parquet:"content"`
	DocID   int64   `parquet:"doc_id"`
	Score   float64 `parquet:"score"`
	Lang    *string `parquet:"lang,optional"`
}

func TestParquetReaderForeignSchema(t *testing.T) {
	paras := mustReadAll(t, needAsset(t, assets.Opticks), ReadOptions{TextSplit: SplitParagraph})
	path := filepath.Join(t.TempDir(), "crawl.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[crawlRow](f, parquet.MaxRowsPerRowGroup(100), parquet.Compression(&parquet.Snappy))
	en := "en"
	rows := make([]crawlRow, len(paras))
	for i, d := range paras {
		rows[i] = crawlRow{URL: fmt.Sprintf("https://example.org/%d", i), Content: d.Text, DocID: int64(1000 + i), Score: float64(i) / 2}
		if i%2 == 0 {
			rows[i].Lang = &en
		}
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r, err := NewParquetReader(path, ReadOptions{TextField: "content", IDField: "doc_id"})
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRows() != int64(len(paras)) || len(r.pf.RowGroups()) < 5 {
		t.Fatalf("rows %d groups %d", r.NumRows(), len(r.pf.RowGroups()))
	}
	docs, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != len(paras) {
		t.Fatalf("%d docs, want %d", len(docs), len(paras))
	}
	for i, d := range docs {
		if d.Text != paras[i].Text || d.ID != fmt.Sprint(1000+i) || d.Meta["url"] != rows[i].URL ||
			d.Meta["score"] != float64(i)/2 || (i%2 == 0) != (d.Meta["lang"] == "en") {
			t.Fatalf("row %d: %s %v", i, d.ID, d.Meta)
		}
	}

	// Wrong column names are clear errors.
	if _, err := NewParquetReader(path, ReadOptions{}); err == nil || !strings.Contains(err.Error(), `no column "text"`) ||
		!strings.Contains(err.Error(), "content") {
		t.Fatalf("missing text column: %v", err)
	}
	if _, err := NewParquetReader(path, ReadOptions{TextField: "score"}); err == nil || !strings.Contains(err.Error(), "not strings") {
		t.Fatalf("numeric text column: %v", err)
	}
	// Not Parquet, truncated Parquet.
	b, _ := os.ReadFile(path)
	for name, data := range map[string][]byte{"junk.parquet": []byte("PAR1 not really"), "cut.parquet": b[:len(b)/2]} {
		p := filepath.Join(t.TempDir(), name)
		writeFile(t, p, data)
		if _, err := NewParquetReader(p, ReadOptions{TextField: "content"}); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestParquetFromPyarrow reads testdata/pyarrow.parquet, written by pyarrow
// (testdata/datatrove_vectors.py) from the first Opticks paragraphs.
func TestParquetFromPyarrow(t *testing.T) {
	paras := mustReadAll(t, needAsset(t, assets.Opticks), ReadOptions{TextSplit: SplitParagraph})
	docs := mustReadAll(t, filepath.Join("testdata", "pyarrow.parquet"), ReadOptions{})
	if len(docs) != 120 {
		t.Fatalf("%d docs", len(docs))
	}
	for i, d := range docs {
		if d.Text != paras[i].Text || d.ID != paras[i].ID || fmt.Sprint(d.Meta["n"]) != fmt.Sprint(i) {
			t.Fatalf("doc %d: %s %v", i, d.ID, d.Meta)
		}
	}
}
