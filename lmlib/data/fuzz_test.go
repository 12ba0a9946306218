package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzRead reads data as the file name, strictly and with SkipBad: no panic, every
// error names the file, every document is valid UTF-8 with an id.
func fuzzRead(t *testing.T, name string, data []byte, opts ReadOptions) {
	if d := os.Getenv("GOLEM_FUZZ_HANG_DIR"); d != "" {
		tm := time.AfterFunc(5*time.Second, func() {
			os.WriteFile(filepath.Join(d, name), data, 0o644)
			panic("fuzz input hangs")
		})
		defer tm.Stop()
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.MaxDocBytes = 1 << 20
	for _, skip := range []bool{false, true} {
		opts.SkipBad = skip
		opts.Stats = nil
		r, err := OpenFile(path, opts)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("open error does not name the file: %v", err)
			}
			continue
		}
		for i := 0; ; i++ {
			d, err := r.Next()
			if err != nil {
				var re *RecordError
				if err.Error() != "EOF" && (!errors.As(err, &re) || !strings.Contains(err.Error(), path)) {
					t.Fatalf("error is not a RecordError naming the file: %v", err)
				}
				if skip && err.Error() != "EOF" {
					t.Fatalf("SkipBad returned an error: %v", err)
				}
				break
			}
			if !utf8.ValidString(d.Text) || d.ID == "" {
				t.Fatalf("bad doc: id %q, valid %v", d.ID, utf8.ValidString(d.Text))
			}
			if i > 100000 {
				t.Fatal("no end")
			}
		}
		r.Close()
	}
}

func FuzzWARCReader(f *testing.F) {
	recs, _ := sampleWARC(f)
	// Small seeds only: the fuzzer minimises every new input, slow for large ones.
	var small []warcRec
	for _, r := range recs {
		if len(r.block) < 1024 {
			small = append(small, r)
			f.Add(r.bytes(), false)
		}
	}
	f.Add(buildWARC(f, small[2:5], true), true)
	f.Add([]byte("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <x>\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"), false)
	f.Add([]byte("WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <x>\r\nContent-Length: 30\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), false)
	f.Fuzz(func(t *testing.T, data []byte, gzip bool) {
		name := "f.warc"
		if gzip {
			name += ".gz"
		}
		fuzzRead(t, name, data, ReadOptions{})
	})
}

func FuzzJSONLReader(f *testing.F) {
	f.Add([]byte(`{"id":"a","text":"one"}`+"\n"+`{"text":"two","metadata":{"url":"u"}}`+"\n"), false)
	f.Add([]byte(`{"text":"x","id":1e400}`+"\n"+`{"text":"\ud800"}`+"\n["), false)
	f.Add([]byte("{\"text\":\"caf\xe9\"}\n\n\n{}"), false)
	f.Add(gz(f, []byte(`{"id":"a","text":"one"}`+"\n")), true)
	f.Fuzz(func(t *testing.T, data []byte, gzip bool) {
		name := "f.jsonl"
		if gzip {
			name += ".gz"
		}
		fuzzRead(t, name, data, ReadOptions{})
	})
}

func FuzzParquetReader(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.parquet")
	w, err := NewFileWriter(path, OutParquet)
	if err != nil {
		f.Fatal(err)
	}
	w.Write(&Doc{ID: "a", Text: "one", Meta: map[string]any{"url": "u"}})
	w.Write(&Doc{ID: "b", Text: "two"})
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(mustRead(f, path))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f.parquet", data, ReadOptions{})
	})
}

// FuzzJSONObject checks parseJSONObject against encoding/json (UseNumber): the
// same lines are accepted, with the same values.
func FuzzJSONObject(f *testing.F) {
	for _, s := range jsonObjectCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		checkJSONObject(t, s)
	})
}
