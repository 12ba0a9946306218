package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"golang.org/x/text/encoding/charmap"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.* (then run testdata/datatrove_vectors.py)")

// warcRec is one record for the test builder, which writes WARC by hand
// (independently of the reader) with one gzip member per record, as Common Crawl.
type warcRec struct {
	typ, uri, id, date string
	extra              []string // more "Name: value" header lines
	block              []byte
}

func (r warcRec) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("WARC/1.0\r\n")
	fmt.Fprintf(&b, "WARC-Type: %s\r\n", r.typ)
	if r.uri != "" {
		fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", r.uri)
	}
	fmt.Fprintf(&b, "WARC-Date: %s\r\n", r.date)
	fmt.Fprintf(&b, "WARC-Record-ID: %s\r\n", r.id)
	for _, e := range r.extra {
		b.WriteString(e + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.block))
	b.Write(r.block)
	b.WriteString("\r\n\r\n")
	return b.Bytes()
}

func buildWARC(t testing.TB, recs []warcRec, perRecordGzip bool) []byte {
	var out bytes.Buffer
	for _, r := range recs {
		if perRecordGzip {
			out.Write(gz(t, r.bytes()))
		} else {
			out.Write(r.bytes())
		}
	}
	return out.Bytes()
}

func httpResponse(headers []string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func uuid(i int) string { return fmt.Sprintf("<urn:uuid:00000000-0000-4000-8000-%012d>", i) }

// sampleWARC is a small crawl: warcinfo, request/response pairs (a real HTML page,
// a chunked response, a Latin-1 page, a page without payload type), an image and a
// metadata record.
func sampleWARC(t testing.TB) (recs []warcRec, wantIDs []string) {
	htmlPath := needAsset(t, assets.HTMLText)
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	date := "2024-04-12T08:15:30Z"
	small := []byte("<!DOCTYPE html>\n<html><head><title>Small</title></head><body><p>A small page about optics.</p></body></html>\n")
	latin1 := []byte("<!DOCTYPE html>\n<html><head><meta charset=\"iso-8859-1\"><title>Caf\xe9</title></head><body><p>Un caf\xe9 cr\xe8me \xe0 la gare, s'il vous pla\xeet. R\xe9sum\xe9 na\xefve \xe9t\xe9.</p></body></html>\n")
	chunkBody := "<!DOCTYPE html>\n<html><body><p>Chunked transfer encoding, two chunks.</p></body></html>\n"
	chunked := fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 20, chunkBody[:20], len(chunkBody)-20, chunkBody[20:])
	recs = []warcRec{
		{typ: "warcinfo", id: uuid(1), date: date, extra: []string{"Content-Type: application/warc-fields"},
			block: []byte("software: golem test builder\r\nformat: WARC File Format 1.0\r\n")},
		{typ: "request", uri: "https://example.org/page", id: uuid(2), date: date,
			extra: []string{"Content-Type: application/http; msgtype=request"},
			block: []byte("GET /page HTTP/1.1\r\nHost: example.org\r\n\r\n")},
		{typ: "response", uri: "https://example.org/page", id: uuid(3), date: date,
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: text/html"},
			block: httpResponse([]string{"Content-Type: text/html", fmt.Sprintf("Content-Length: %d", len(page))}, page)},
		{typ: "response", uri: "https://example.org/small", id: uuid(4), date: "2024-04-12T08:15:31Z",
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: text/html"},
			block: httpResponse([]string{"Content-Type: text/html"}, small)},
		{typ: "response", uri: "https://example.org/chunked", id: uuid(5), date: date,
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: text/html"},
			block: httpResponse([]string{"Content-Type: text/html; charset=UTF-8", "Transfer-Encoding: chunked"}, []byte(chunked))},
		{typ: "response", uri: "https://example.fr/cafe", id: uuid(6), date: date,
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: text/html"},
			block: httpResponse([]string{"Content-Type: text/html; charset=ISO-8859-1"}, latin1)},
		{typ: "response", uri: "https://example.org/logo.png", id: uuid(7), date: date,
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: image/png"},
			block: httpResponse([]string{"Content-Type: image/png"}, []byte("\x89PNG\r\n\x1a\nnot really"))},
		{typ: "metadata", uri: "https://example.org/page", id: uuid(8), date: date,
			extra: []string{"Content-Type: application/warc-fields"}, block: []byte("fetchTimeMs: 120\r\n")},
		{typ: "response", uri: "https://example.org/old", id: uuid(9), date: date,
			extra: []string{"Content-Type: application/http; msgtype=response"},
			block: httpResponse([]string{"Content-Type: text/html"}, small)},
	}
	return recs, []string{uuid(3), uuid(4), uuid(5), uuid(6), uuid(9)}
}

// sampleWET holds conversion records with the first paragraphs of Opticks.
func sampleWET(t testing.TB) []warcRec {
	path := needAsset(t, assets.Opticks)
	paras, err := ReadAll(mustOpen(t, path, ReadOptions{TextSplit: SplitParagraph}))
	if err != nil {
		t.Fatal(err)
	}
	recs := []warcRec{{typ: "warcinfo", id: uuid(100), date: "2024-04-12T08:00:00Z",
		extra: []string{"Content-Type: application/warc-fields"}, block: []byte("software: golem test builder\r\n")}}
	for i := 0; i < 30; i++ {
		recs = append(recs, warcRec{typ: "conversion", uri: fmt.Sprintf("https://example.org/opticks/%d", i),
			id: uuid(101 + i), date: "2024-04-12T08:00:00Z",
			extra: []string{"WARC-Refers-To: " + uuid(1000+i), "WARC-Block-Digest: sha1:AAAA", "Content-Type: text/plain"},
			block: []byte(paras[i].Text)})
	}
	return recs
}

func TestWARCReader(t *testing.T) {
	recs, wantIDs := sampleWARC(t)
	for _, tc := range []struct {
		name string
		gzip bool
	}{{"sample.warc", false}, {"sample.warc.gz", true}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name)
			writeFile(t, path, buildWARC(t, recs, tc.gzip))
			r := mustOpen(t, path, ReadOptions{})
			docs, err := ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range docs {
				ids = append(ids, d.ID)
			}
			if strings.Join(ids, " ") != strings.Join(wantIDs, " ") {
				t.Fatalf("ids %v, want %v", ids, wantIDs)
			}
			st := ReadStatsOf(r).Counts()
			if st.Ignored != 4 || st.Docs != 5 || st.Skipped != 0 {
				t.Fatalf("stats %+v", st)
			}
			// html.txt is a real French page in windows-1252 that declares no charset.
			raw, _ := os.ReadFile(needAsset(t, assets.HTMLText))
			page, err := charmap.Windows1252.NewDecoder().Bytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			if docs[0].Text != string(page) || !strings.Contains(docs[0].Text, "offres du crédit agricole") || docs[0].Meta[MetaURL] != "https://example.org/page" ||
				docs[0].Meta[MetaDate] != "2024-04-12T08:15:30Z" || docs[0].Meta[MetaSource] != tc.name {
				t.Fatalf("page doc: meta %v, text %d bytes (want %d)", docs[0].Meta, len(docs[0].Text), len(page))
			}
			if !strings.Contains(docs[2].Text, "Chunked transfer encoding, two chunks.") || strings.Contains(docs[2].Text, "\r\n0\r\n") {
				t.Fatalf("chunked: %q", docs[2].Text)
			}
			if !strings.Contains(docs[3].Text, "Un café crème à la gare, s'il vous plaît. Résumé naïve été.") {
				t.Fatalf("latin-1: %q", docs[3].Text)
			}
		})
	}
}

func TestWETReader(t *testing.T) {
	recs := sampleWET(t)
	path := filepath.Join(t.TempDir(), "CC-MAIN-x.warc.wet.gz")
	writeFile(t, path, buildWARC(t, recs, true))
	docs, err := ReadAll(mustOpen(t, path, ReadOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 30 {
		t.Fatalf("%d docs", len(docs))
	}
	for i, d := range docs {
		if d.ID != recs[i+1].id || d.Text != string(recs[i+1].block) || d.Meta[MetaURL] != recs[i+1].uri {
			t.Fatalf("doc %d: %s %v", i, d.ID, d.Meta)
		}
	}
}

func TestWARCBadInput(t *testing.T) {
	recs, _ := sampleWARC(t)
	good := recs[3] // small page
	mk := func(edit func(b []byte) []byte) []byte {
		r := good
		r.id = uuid(50)
		var out bytes.Buffer
		out.Write(recs[3].bytes())
		out.Write(edit(r.bytes()))
		r.id = uuid(51)
		out.Write(r.bytes())
		return out.Bytes()
	}
	tests := []struct {
		name, want string
		data       []byte
		docs       int // with SkipBad
	}{
		{"bad version line", "expected a WARC version line", mk(func(b []byte) []byte { return bytes.Replace(b, []byte("WARC/1.0"), []byte("WARX/1.0"), 1) }), 2},
		{"bad header line", "bad header line", mk(func(b []byte) []byte {
			return bytes.Replace(b, []byte("WARC-Type: response"), []byte("WARC-Type response"), 1)
		}), 2},
		{"missing length", "no Content-Length", mk(func(b []byte) []byte {
			return bytes.Replace(b, []byte("Content-Length: "), []byte("Content-Size: "), 1)
		}), 2},
		{"bad length", `bad Content-Length "-7"`, mk(func(b []byte) []byte {
			i := bytes.Index(b, []byte("Content-Length: "))
			j := bytes.Index(b[i:], []byte("\r\n"))
			return append(append(append([]byte{}, b[:i]...), "Content-Length: -7"...), b[i+j:]...)
		}), 2},
		{"truncated block", "truncated", append(recs[3].bytes(), good.bytes()[:200]...), 1},
		{"no http header end", "HTTP response without the blank line", func() []byte {
			r := good
			r.block = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n<p>no blank line")
			r2 := good
			r2.id = uuid(51)
			return append(append(recs[3].bytes(), r.bytes()...), r2.bytes()...)
		}(), 2},
	}
	// Check the offset named in the error: the broken record starts after the first one.
	firstLen := len(recs[3].bytes())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.warc")
			writeFile(t, path, tc.data)
			docs, err := ReadAll(mustOpen(t, path, ReadOptions{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want %q naming %s (read %d docs)", err, tc.want, path, len(docs))
			}
			if tc.name != "truncated block" && !strings.Contains(err.Error(), "offset") {
				t.Fatalf("error %v names no offset", err)
			}
			_ = firstLen
			r := mustOpen(t, path, ReadOptions{SkipBad: true})
			docs, err = ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			st := ReadStatsOf(r).Counts()
			if len(docs) != tc.docs || st.Skipped != 1 {
				t.Fatalf("SkipBad: %d docs (want %d), stats %+v", len(docs), tc.docs, st)
			}
		})
	}
	// Per-record gzip: a truncated last member is a truncated-stream error.
	all := buildWARC(t, recs, true)
	path := filepath.Join(t.TempDir(), "cut.warc.gz")
	writeFile(t, path, all[:len(all)-30])
	if _, err := ReadAll(mustOpen(t, path, ReadOptions{})); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated gzip member: %v", err)
	}
}

// TestDatatroveAgreement reads the checked-in sample files and compares ids, urls
// and text hashes with what datatrove 0.10.1's WarcReader and JsonlReader read
// from the same files (testdata/datatrove_vectors.py writes the vectors).
func TestDatatroveAgreement(t *testing.T) {
	samples := map[string][]byte{}
	recs, _ := sampleWARC(t)
	samples["sample.warc.gz"] = buildWARC(t, recs, true)
	samples["sample.wet.gz"] = buildWARC(t, sampleWET(t), true)
	var jl bytes.Buffer
	for i, d := range mustReadAll(t, needAsset(t, assets.TomSawyer), ReadOptions{TextSplit: SplitParagraph})[:200] {
		if i%3 == 0 { // some lines without an id: datatrove and golem both make "source/N"
			fmt.Fprintf(&jl, "{\"text\":%s,\"chapter\":%d}\n", jsonString(d.Text), i/50)
		} else {
			fmt.Fprintf(&jl, "{\"id\":%s,\"text\":%s,\"chapter\":%d}\n", jsonString(d.ID), jsonString(d.Text), i/50)
		}
	}
	samples["sample.jsonl.gz"] = gz(t, jl.Bytes())
	// A Parquet file from golem's writer, read by datatrove's ParquetReader (pyarrow).
	pq := filepath.Join(t.TempDir(), "sample.parquet")
	pw, err := NewFileWriter(pq, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range mustReadAll(t, needAsset(t, assets.TomSawyer), ReadOptions{TextSplit: SplitParagraph})[:300] {
		d.SetMeta(MetaURL, fmt.Sprintf("https://example.org/tom/%d", i))
		if err := pw.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	samples["sample.parquet"] = mustRead(t, pq)
	for name, b := range samples {
		path := filepath.Join("testdata", name)
		if *update {
			writeFile(t, path, b)
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestDatatroveAgreement -update)", err)
		}
		if !bytes.Equal(old, b) {
			t.Fatalf("%s differs from what the test builds (assets changed? rerun with -update and the script)", path)
		}
	}
	if *update {
		t.Skip("samples rewritten; now run .venv/bin/python lmlib/data/testdata/datatrove_vectors.py")
	}
	vb, err := os.ReadFile(filepath.Join("testdata", "datatrove_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]struct{ ID, URL, SHA string }
	if err := json.Unmarshal(vb, &want); err != nil {
		t.Fatal(err)
	}
	for name, vec := range want {
		docs := mustReadAll(t, filepath.Join("testdata", name), ReadOptions{})
		if len(docs) != len(vec) {
			t.Errorf("%s: golem read %d docs, datatrove %d", name, len(docs), len(vec))
			continue
		}
		agree := 0
		for i, d := range docs {
			sum := sha256.Sum256([]byte(d.Text))
			if d.ID == vec[i].ID && d.MetaString(MetaURL) == vec[i].URL && hex.EncodeToString(sum[:]) == vec[i].SHA {
				agree++
			} else {
				t.Errorf("%s doc %d: golem (%s, %s, %x…) datatrove (%s, %s, %.8s…)", name, i, d.ID, d.MetaString(MetaURL), sum[:4], vec[i].ID, vec[i].URL, vec[i].SHA)
			}
		}
		t.Logf("%s: %d/%d documents agree with datatrove", name, agree, len(vec))
	}
}

func mustReadAll(t testing.TB, spec string, opts ReadOptions) []*Doc {
	t.Helper()
	docs, err := ReadAll(mustOpen(t, spec, opts))
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
