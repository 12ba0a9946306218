package data

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/klauspost/compress/zstd"
)

func needAsset(t testing.TB, f func() (string, error)) string {
	t.Helper()
	p, err := f()
	if err != nil {
		t.Skipf("asset missing: %v", err)
	}
	return p
}

func TestTextReaderOpticks(t *testing.T) {
	path := needAsset(t, assets.Opticks)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Whole file: one document equal to the file.
	docs, err := ReadAll(mustOpen(t, path, ReadOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Text != string(raw) || docs[0].ID != "Isaac.Newton-Opticks.txt" {
		t.Fatalf("whole file: %d docs, id %q", len(docs), docs[0].ID)
	}
	// Paragraphs and lines: compare with an independent split of the file.
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	var wantParas, wantLines []string
	var cur []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			if cur != nil {
				wantParas = append(wantParas, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, l)
		wantLines = append(wantLines, l)
	}
	if cur != nil {
		wantParas = append(wantParas, strings.Join(cur, "\n"))
	}
	for _, tc := range []struct {
		split string
		want  []string
	}{{SplitParagraph, wantParas}, {SplitLine, wantLines}} {
		docs, err := ReadAll(mustOpen(t, path, ReadOptions{TextSplit: tc.split}))
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != len(tc.want) {
			t.Fatalf("%s: %d docs, want %d", tc.split, len(docs), len(tc.want))
		}
		seen := map[string]bool{}
		for i, d := range docs {
			if d.Text != tc.want[i] {
				t.Fatalf("%s %d: %q, want %q", tc.split, i, d.Text, tc.want[i])
			}
			// The id's offset points at the document's first line in the file.
			var off int
			fmt.Sscanf(d.ID[strings.LastIndexByte(d.ID, '/')+1:], "%d", &off)
			first := strings.SplitN(d.Text, "\n", 2)[0]
			if !bytes.HasPrefix(raw[off:], []byte(first)) {
				t.Fatalf("%s %d: id %s does not point at the text", tc.split, i, d.ID)
			}
			if seen[d.ID] {
				t.Fatalf("duplicate id %s", d.ID)
			}
			seen[d.ID] = true
		}
	}
	if len(wantParas) < 500 {
		t.Fatalf("Opticks has only %d paragraphs?", len(wantParas))
	}
}

func mustOpen(t testing.TB, spec string, opts ReadOptions) Reader {
	t.Helper()
	r, err := Open(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDirectoryAndGlob(t *testing.T) {
	brown := needAsset(t, assets.BrownCorpus)
	dir := t.TempDir()
	// A tree: a/ca01..ca05 (plain), a/b/ca06..ca09.gz (stdlib gzip), c/ca10.zst (our writer), skip .hidden.
	want := map[string]string{}
	for i := 1; i <= 10; i++ {
		name := fmt.Sprintf("ca%02d", i)
		b, err := os.ReadFile(filepath.Join(brown, name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i <= 5:
			writeFile(t, filepath.Join(dir, "a", name+".txt"), b)
			want["a/"+name+".txt"] = string(b)
		case i <= 9:
			writeFile(t, filepath.Join(dir, "a", "b", name+".txt.gz"), gz(t, b))
			want["a/b/"+name+".txt.gz"] = string(b)
		default:
			writeFile(t, filepath.Join(dir, "c", name+".txt.zst"), zst(t, b))
			want["c/"+name+".txt.zst"] = string(b)
		}
	}
	writeFile(t, filepath.Join(dir, ".hidden", "x.txt"), []byte("no"))
	writeFile(t, filepath.Join(dir, "a", "part.txt.tmp-123"), []byte("no"))

	check := func(spec string, wantN int) {
		t.Helper()
		docs, err := ReadAll(mustOpen(t, spec, ReadOptions{}))
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if len(docs) != wantN {
			var ids []string
			for _, d := range docs {
				ids = append(ids, d.ID)
			}
			t.Fatalf("%s: %d docs %v, want %d", spec, len(docs), ids, wantN)
		}
		for _, d := range docs {
			// Ids are relative to the directory or the glob's literal prefix.
			var w string
			var ok bool
			for k, v := range want {
				if k == d.ID || strings.HasSuffix(k, "/"+d.ID) {
					w, ok = v, true
				}
			}
			if !ok || w != d.Text {
				t.Fatalf("%s: doc %s: unexpected (known %v)", spec, d.ID, ok)
			}
		}
		if !sort.SliceIsSorted(docs, func(i, j int) bool { return docs[i].ID < docs[j].ID }) {
			t.Fatalf("%s: not in lexical order", spec)
		}
	}
	check(dir, 10)
	check(filepath.Join(dir, "**", "*.txt*"), 10)
	check(filepath.Join(dir, "a", "*.txt"), 5)
	check(filepath.Join(dir, "**", "b", "*.gz"), 4)
	check(filepath.Join(dir, "*", "ca1?.txt.zst"), 1)

	if _, err := Open(filepath.Join(dir, "**", "*.nothing"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "matches no files") {
		t.Fatalf("empty glob: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing path: %v", err)
	}
}

func TestBrownCorpusParagraphs(t *testing.T) {
	brown := needAsset(t, assets.BrownCorpus)
	r := mustOpen(t, filepath.Join(brown, "c[a-b][0-9][0-9]"), ReadOptions{TextSplit: SplitParagraph})
	n, words := 0, 0
	err := ForEach(r, func(d *Doc) error {
		n++
		words += len(strings.Fields(d.Text))
		if !strings.Contains(d.Text, "/") {
			return fmt.Errorf("doc %s is not tagged text: %.80q", d.ID, d.Text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := ReadStatsOf(r).Counts()
	if st.Files != 71 || st.Docs != int64(n) || n < 2000 || words < 150000 {
		t.Fatalf("brown ca+cb: files %d docs %d (%d) words %d", st.Files, st.Docs, n, words)
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gz compresses with the standard library (independent of the reader's gzip).
func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := stdgzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestJSONLRoundTrip(t *testing.T) {
	path := needAsset(t, assets.TomSawyer)
	src, err := ReadAll(mustOpen(t, path, ReadOptions{TextSplit: SplitParagraph}))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range src {
		d.SetMeta("n", i)
		d.SetMeta("tags", []string{"twain", "<&>"})
	}
	for _, format := range []string{OutJSONL, OutJSONLGzip, OutJSONLZstd, OutParquet} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewShardedWriter(dir, "tom", WriteOptions{Format: format, MaxDocs: 700})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range src {
				if err := w.Write(d); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			wantShards := (len(src) + 699) / 700
			if len(w.Files()) != wantShards || w.Docs() != int64(len(src)) {
				t.Fatalf("%d shards %d docs, want %d shards %d docs", len(w.Files()), w.Docs(), wantShards, len(src))
			}
			if filepath.Base(w.Files()[0]) != "tom-00000."+format {
				t.Fatalf("shard name %s", w.Files()[0])
			}
			got, err := ReadAll(mustOpen(t, dir, ReadOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(src) {
				t.Fatalf("read %d docs, wrote %d", len(got), len(src))
			}
			for i := range src {
				g, s := got[i], src[i]
				if g.ID != s.ID || g.Text != s.Text || fmt.Sprint(g.Meta["n"]) != fmt.Sprint(i) ||
					fmt.Sprint(g.Meta["tags"]) != "[twain <&>]" || g.Meta[MetaSource] != s.Meta[MetaSource] {
					t.Fatalf("doc %d: got %s %v, want %s %v", i, g.ID, g.Meta, s.ID, s.Meta)
				}
			}
		})
	}
}

func TestJSONLFields(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.jsonl")
	writeFile(t, path, []byte(`{"content":"a","doc_id":7,"lang":"en","metadata":{"url":"http://x"}}`+"\n\n"+
		`{"content":"b","big":12345678901234567890}`+"\n"+`{"content":"c","doc_id":""}`+"\n"))
	docs, err := ReadAll(mustOpen(t, path, ReadOptions{TextField: "content", IDField: "doc_id"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[2].ID != "x.jsonl/3" || docs[0].ID != "7" || docs[0].Text != "a" || docs[0].Meta["lang"] != "en" ||
		docs[0].Meta["url"] != "http://x" || docs[1].ID != "x.jsonl/2" || fmt.Sprint(docs[1].Meta["big"]) != "12345678901234567890" {
		t.Fatalf("got %+v %+v", docs[0], docs[1])
	}
}

func TestBadInput(t *testing.T) {
	good := []byte(`{"id":"a","text":"one"}` + "\n" + `{"id":"b","text":"two"}` + "\n" + `{"id":"c","text":"three"}` + "\n")
	tests := []struct {
		name    string
		file    string
		data    func(t *testing.T) []byte
		opts    ReadOptions
		wantErr string // substring of the error (file name is always checked)
		reason  string // skip reason with SkipBad
		skipped int64
		docs    int // documents read with SkipBad
	}{
		{"malformed json", "m.jsonl", func(*testing.T) []byte {
			return bytes.Replace(good, []byte(`{"id":"b"`), []byte(`{"id":"b",,`), 1)
		}, ReadOptions{}, "line 2 (offset 24): json", "json", 1, 2},
		{"invalid utf8", "u.jsonl", func(*testing.T) []byte {
			return bytes.Replace(good, []byte("two"), []byte("tw\xffo"), 1)
		}, ReadOptions{}, "line 2 (offset 24): utf8", "utf8", 1, 2},
		{"missing text field", "f.jsonl", func(*testing.T) []byte {
			return bytes.Replace(good, []byte(`"text":"three"`), []byte(`"body":"three"`), 1)
		}, ReadOptions{}, `line 3 (offset 48): field: no text field "text"`, "field", 1, 2},
		{"text not a string", "n.jsonl", func(*testing.T) []byte {
			return bytes.Replace(good, []byte(`"one"`), []byte(`1`), 1)
		}, ReadOptions{}, "line 1 (offset 0): field", "field", 1, 2},
		{"not an object", "o.jsonl", func(*testing.T) []byte { return append([]byte("[1,2]\n"), good...) },
			ReadOptions{}, "line 1 (offset 0): json", "json", 1, 3},
		{"line too long", "l.jsonl", func(*testing.T) []byte { return good },
			ReadOptions{MaxDocBytes: 23}, "line 3 (offset 48): too-large", "too-large", 1, 2},
		{"truncated gzip", "t.jsonl.gz", func(t *testing.T) []byte {
			z := gz(t, bytes.Repeat(good, 50))
			return z[:len(z)/2]
		}, ReadOptions{}, "truncated", "truncated", 1, -1},
		{"truncated zstd", "t.jsonl.zst", func(t *testing.T) []byte {
			z := zst(t, bytes.Repeat(good, 500))
			return z[:len(z)-20]
		}, ReadOptions{}, "truncated", "truncated", 1, -1},
		{"gzip checksum", "c.jsonl.gz", func(t *testing.T) []byte {
			z := gz(t, good)
			z[len(z)-6] ^= 0xff // CRC-32 in the trailer
			return z
		}, ReadOptions{}, "checksum", "read", 1, 3},
		{"text invalid utf8", "x.txt", func(*testing.T) []byte { return []byte("para one\n\npara \xc3\x28 two\n") },
			ReadOptions{TextSplit: SplitParagraph}, "offset 15: utf8", "utf8", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			writeFile(t, path, tc.data(t))
			_, err := ReadAll(mustOpen(t, path, tc.opts))
			var re *RecordError
			if err == nil || !errors.As(err, &re) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, path, tc.wantErr)
			}
			opts := tc.opts
			opts.SkipBad = true
			r := mustOpen(t, path, opts)
			docs, err := ReadAll(r)
			if err != nil {
				t.Fatalf("SkipBad: %v", err)
			}
			st := ReadStatsOf(r).Counts()
			if st.Skipped != tc.skipped || st.Reasons[tc.reason] != tc.skipped || len(st.FirstErrors) == 0 {
				t.Fatalf("SkipBad stats %+v, want %d skipped for %s", st, tc.skipped, tc.reason)
			}
			if tc.docs >= 0 && len(docs) != tc.docs {
				t.Fatalf("SkipBad read %d docs, want %d", len(docs), tc.docs)
			}
			for _, d := range docs {
				if !utf8.ValidString(d.Text) {
					t.Fatalf("doc %s invalid UTF-8", d.ID)
				}
			}
		})
	}
}

func TestForEachStopsOnError(t *testing.T) {
	docs := []*Doc{{ID: "1"}, {ID: "2"}, {ID: "3"}}
	stop := errors.New("stop")
	n := 0
	err := ForEach(SliceReader(docs), func(d *Doc) error {
		n++
		if d.ID == "2" {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("err %v n %d", err, n)
	}
	if _, err := SliceReader(nil).Next(); err != io.EOF {
		t.Fatal(err)
	}
}

// TestGoSourceGlob reads Go source files through a ** glob and compares them with
// the files on disk.
func TestGoSourceGlob(t *testing.T) {
	src := needAsset(t, assets.GoSource)
	root := filepath.Join(src, "strings")
	r := mustOpen(t, filepath.Join(root, "**", "*_test.go"), ReadOptions{})
	want, _ := filepath.Glob(filepath.Join(root, "*_test.go"))
	n := 0
	err := ForEach(r, func(d *Doc) error {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(d.ID)))
		if err != nil || string(b) != d.Text || !strings.Contains(d.Text, "package strings") {
			return fmt.Errorf("doc %s differs from its file (%v)", d.ID, err)
		}
		n++
		return nil
	})
	if err != nil || n != len(want) || n < 10 {
		t.Fatalf("read %d files, glob %d: %v", n, len(want), err)
	}
}

// TestWriterFailureLeavesNothing: a failed or aborted writer removes its
// temporary file and never creates the final one.
func TestWriterFailureLeavesNothing(t *testing.T) {
	for _, format := range []string{OutJSONL, OutJSONLZstd, OutParquet} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out."+format)
		w, err := NewFileWriter(path, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&Doc{ID: "ok", Text: "fine"}); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "out."+format+".tmp-") {
			t.Fatalf("%s: while writing, dir holds %v", format, ents)
		}
		// A value JSON cannot encode fails the write (for Parquet: at the metadata).
		err = w.Write(&Doc{ID: "bad", Text: "x", Meta: map[string]any{"c": make(chan int)}})
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"bad"`) {
			t.Fatalf("%s: bad write: %v", format, err)
		}
		if err := w.Close(); err == nil {
			t.Fatalf("%s: Close after a failed write succeeded", format)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: failed writer left %v", format, ents)
		}
		// Abort discards too.
		w, _ = NewFileWriter(path, "")
		w.Write(&Doc{ID: "ok", Text: "fine"})
		w.Abort()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: aborted writer left %v", format, ents)
		}
	}
}

// TestCloseMidStream closes readers of every compression after one document (the
// read-ahead goroutines must stop; run with -race).
func TestCloseMidStream(t *testing.T) {
	dir := t.TempDir()
	paras := mustReadAll(t, needAsset(t, assets.TomSawyer), ReadOptions{TextSplit: SplitParagraph})
	for _, format := range []string{OutJSONL, OutJSONLGzip, OutJSONLZstd} {
		path := filepath.Join(dir, "t."+format)
		w, err := NewFileWriter(path, format)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range paras {
			w.Write(d)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			r := mustOpen(t, path, ReadOptions{})
			for k := 0; k < i*50; k++ {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatalf("%s: close: %v", format, err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("%s: Next after Close: %v", format, err)
			}
		}
	}
}
