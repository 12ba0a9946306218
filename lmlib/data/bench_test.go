package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/klauspost/compress/gzip"
)

// benchDir is where the benchmark corpus lives: $GOLEM_BENCH_DIR (kept between
// runs, shared with the datatrove side of `make bench-data`) or a temp dir.
func benchDir(b *testing.B) string {
	if d := os.Getenv("GOLEM_BENCH_DIR"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return b.TempDir()
}

// benchParagraphs are the real paragraphs the corpus is made of: Opticks, Tom
// Sawyer and the Brown corpus (tags stripped).
func benchParagraphs(b *testing.B) []string {
	var out []string
	for _, f := range []func() (string, error){assets.Opticks, assets.TomSawyer} {
		for _, d := range mustReadAll(b, needAsset(b, f), ReadOptions{TextSplit: SplitParagraph}) {
			out = append(out, d.Text)
		}
	}
	brown := needAsset(b, assets.BrownCorpus)
	for _, d := range mustReadAll(b, filepath.Join(brown, "c[a-r][0-9][0-9]"), ReadOptions{TextSplit: SplitParagraph}) {
		f := strings.Fields(d.Text)
		for i, w := range f {
			if j := strings.LastIndexByte(w, '/'); j > 0 {
				f[i] = w[:j]
			}
		}
		out = append(out, strings.Join(f, " "))
	}
	return out
}

// benchJSONL writes bench.jsonl.zst (~200 MB of JSONL: documents of 1-8
// paragraphs with FineWeb-like metadata) unless it exists; it returns the path and
// the uncompressed size.
func benchJSONL(b *testing.B) (string, int64) {
	path := filepath.Join(benchDir(b), "bench.jsonl.zst")
	if st, err := os.Stat(path + ".size"); err == nil && st.Size() > 0 {
		var n int64
		s, _ := os.ReadFile(path + ".size")
		fmt.Sscan(string(s), &n)
		return path, n
	}
	paras := benchParagraphs(b)
	w, err := NewFileWriter(path, OutJSONLZstd)
	if err != nil {
		b.Fatal(err)
	}
	for i, k := 0, 0; w.Bytes() < 200<<20; i++ {
		n := 1 + i%8
		var sb strings.Builder
		for j := 0; j < n; j++ {
			if j > 0 {
				sb.WriteString("\n\n")
			}
			sb.WriteString(paras[k%len(paras)])
			k++
		}
		d := &Doc{ID: fmt.Sprintf("<urn:uuid:%08x-0000-4000-8000-%012d>", i, i), Text: sb.String(), Meta: map[string]any{
			"url": fmt.Sprintf("https://example.org/%d/page.html", i), "date": "2024-04-12T08:15:30Z",
			"dump": "CC-MAIN-2024-18", "language": "en", "language_score": 0.93, "token_count": len(sb.String()) / 4}}
		if err := w.Write(d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(path+".size", []byte(fmt.Sprint(w.Bytes())), 0o644)
	return path, w.Bytes()
}

// benchWARC writes bench.warc.gz (~200 MB of WARC: request/response pairs with
// HTML pages, one gzip member per record as Common Crawl) unless it exists.
func benchWARC(b *testing.B) (string, int64) {
	path := filepath.Join(benchDir(b), "bench.warc.gz")
	if s, err := os.ReadFile(path + ".size"); err == nil {
		var n int64
		fmt.Sscan(string(s), &n)
		return path, n
	}
	paras := benchParagraphs(b)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var total int64
	zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	member := func(r warcRec) {
		zw.Reset(bw)
		raw := r.bytes()
		total += int64(len(raw))
		zw.Write(raw)
		zw.Close()
	}
	for i, k := 0, 0; total < 200<<20; i++ {
		uri := fmt.Sprintf("https://example.org/%d/page.html", i)
		member(warcRec{typ: "request", uri: uri, id: uuid(2 * i), date: "2024-04-12T08:15:30Z",
			extra: []string{"Content-Type: application/http; msgtype=request"},
			block: []byte("GET /" + fmt.Sprint(i) + "/page.html HTTP/1.1\r\nHost: example.org\r\nUser-Agent: CCBot/2.0\r\n\r\n")})
		var page strings.Builder
		page.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Page</title></head><body>\n<nav><a href=\"/\">Home</a></nav>\n")
		for j := 0; j < 1+i%8; j++ {
			page.WriteString("<p>" + paras[k%len(paras)] + "</p>\n")
			k++
		}
		page.WriteString("</body></html>\n")
		member(warcRec{typ: "response", uri: uri, id: uuid(2*i + 1), date: "2024-04-12T08:15:30Z",
			extra: []string{"Content-Type: application/http; msgtype=response", "WARC-Identified-Payload-Type: text/html"},
			block: httpResponse([]string{"Content-Type: text/html; charset=utf-8", "Server: nginx"}, []byte(page.String()))})
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	os.WriteFile(path+".size", []byte(fmt.Sprint(total)), 0o644)
	return path, total
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchRead reads path b.N times; besides MB/s (wall) it reports cpuMB/s, MB per
// CPU-second of the whole process (all goroutines), steadier on a busy machine.
func benchRead(b *testing.B, path string, size int64) {
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	defer func() { b.ReportMetric(float64(size)*float64(b.N)/(cpuSeconds()-cpu0)/1e6, "cpuMB/s") }()
	for i := 0; i < b.N; i++ {
		r, err := OpenFile(path, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := ForEach(r, func(d *Doc) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "docs")
	}
}

// BenchmarkReadJSONLZstd reads a ~200 MB JSONL.zst corpus (MB/s of uncompressed JSONL).
func BenchmarkReadJSONLZstd(b *testing.B) {
	path, size := benchJSONL(b)
	benchRead(b, path, size)
}

// BenchmarkReadWARCGzip reads a ~200 MB per-record-gzip WARC (MB/s of uncompressed WARC).
func BenchmarkReadWARCGzip(b *testing.B) {
	path, size := benchWARC(b)
	benchRead(b, path, size)
}

// benchShards splits bench.jsonl.zst into 4 shards (bench-shards/part-0000N.jsonl.zst).
func benchShards(b *testing.B) (string, int64) {
	src, size := benchJSONL(b)
	dir := filepath.Join(benchDir(b), "bench-shards")
	if _, err := os.Stat(filepath.Join(dir, "part-00003.jsonl.zst")); err == nil {
		return dir, size
	}
	docs := int64(0)
	if err := ForEach(mustOpen(b, src, ReadOptions{}), func(*Doc) error { docs++; return nil }); err != nil {
		b.Fatal(err)
	}
	w, err := NewShardedWriter(dir, "part", WriteOptions{MaxDocs: (docs + 3) / 4})
	if err != nil {
		b.Fatal(err)
	}
	if err := ForEach(mustOpen(b, src, ReadOptions{}), w.Write); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, size
}

// BenchmarkPipelineJSONLZstd runs a Pipeline without steps over 4 JSONL.zst
// shards (~200 MB uncompressed) to 4 JSONL.zst outputs on all cores: the cost
// of reading, scheduling, reordering and writing (MB/s of uncompressed input).
func BenchmarkPipelineJSONLZstd(b *testing.B) {
	in, size := benchShards(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := b.TempDir()
		st, err := (&Pipeline{Inputs: []string{in}, Output: out, Quiet: true}).Run(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Written), "docs")
	}
}
