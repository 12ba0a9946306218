package shard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestHeaderErrors(t *testing.T) {
	good := Header{Version: Version16, NumTokens: 3, VocabSize: 10, NumDocs: 1}.Bytes()
	with := func(i int, v int32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string // "" = ok
	}{
		{"ok", good, ""},
		{"truncated", good[:100], "truncated header"},
		{"magic", with(0, 20240521), "wrong magic"},
		{"version", with(1, 3), "unsupported version 3"},
		{"negative count", with(2, -1), "negative token count"},
		{"vocab too big for uint16", with(3, 70000), "does not fit uint16"},
		{"reserved", with(77, 1), "reserved header int 77"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.b)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadShardErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	good := append(Header{Version: Version16, NumTokens: 4, VocabSize: 5}.Bytes(), 1, 0, 2, 0, 3, 0, 4, 0)
	badTok := append(Header{Version: Version16, NumTokens: 2, VocabSize: 5}.Bytes(), 1, 0, 9, 0)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.bin", good[:len(good)-3], "token count mismatch (truncated)"},
		{"trailing.bin", append(bytes.Clone(good), 0, 0), "token count mismatch (trailing bytes)"},
		{"short.bin", good[:10], "truncated header"},
		{"magic.bin", append([]byte("GIF89a"), good[6:]...), "wrong magic"},
		{"badtoken.bin", badTok, "token id 9 at position 1 is not below the vocabulary size 5"},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, err := ReadShard(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want %q and the path", tc.name, err, tc.want)
		}
	}
	if _, err := ReadShard(filepath.Join(dir, "missing.bin")); err == nil || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing file: %v", err)
	}
}

// bigVocab is an encoder with a vocabulary that needs uint32 tokens.
type bigVocab struct{}

func (bigVocab) EncodeOrdinary(s string) []int {
	out := []int{}
	for _, f := range strings.Fields(s) {
		var n int
		fmt.Sscan(f, &n)
		out = append(out, n)
	}
	return out
}
func (bigVocab) EOT() int       { return 100000 }
func (bigVocab) VocabSize() int { return 100001 }

func TestWriterRoundTrip(t *testing.T) {
	texts := []string{"hello world", "the quick brown fox", "", "jumps over the lazy dog", "a", "bb", "ccc"}
	enc := NewCharVocab(strings.Join(texts, ""))
	tests := []struct {
		name        string
		shardTokens int
		val         float64
	}{
		{"one shard", 0, 0},
		{"small shards", 8, 0},
		{"split", 10, 0.4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := WriteTexts(dir, enc, texts, WriterOptions{ShardTokens: tc.shardTokens, ValFraction: tc.val, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			// Reassemble the documents of each split from the shards and their indexes.
			got := map[string][]string{}
			for split, paths := range map[string][]string{"train": st.TrainShards, "val": st.ValShards} {
				var all []int32
				for _, p := range paths {
					s, err := ReadShard(p)
					if err != nil {
						t.Fatal(err)
					}
					if s.Len() > tc.shardTokens && tc.shardTokens > 0 {
						t.Fatalf("%s has %d tokens, limit %d", p, s.Len(), tc.shardTokens)
					}
					offs, err := s.Docs()
					if err != nil {
						t.Fatal(err)
					}
					for _, o := range offs {
						if int(s.At(int(o))) != enc.EOT() {
							t.Fatalf("%s: index offset %d is not an EOT", p, o)
						}
					}
					all = append(all, s.Tokens()...)
				}
				if n := int64(len(all)); (split == "train" && n != st.TrainTokens) || (split == "val" && n != st.ValTokens) {
					t.Fatalf("%s: %d tokens, stats %+v", split, n, st)
				}
				parts := strings.Split(enc.Decode(all), "\n")
				got[split] = parts[1:] // text before the first EOT is empty
			}
			var want = map[string][]string{}
			for i, s := range texts {
				split := "train"
				if IsValidation(fmt.Sprint(i), 7, tc.val) {
					split = "val"
				}
				want[split] = append(want[split], s)
			}
			for _, split := range []string{"train", "val"} {
				if len(want[split]) == 0 && len(got[split]) == 0 {
					continue
				}
				if !reflect.DeepEqual(got[split], want[split]) {
					t.Errorf("%s: got %q, want %q", split, got[split], want[split])
				}
			}
			if tc.val > 0 && (st.ValDocs == 0 || st.TrainDocs == 0) {
				t.Errorf("split put every document on one side: %+v", st)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestWriterUint32AndErrors(t *testing.T) {
	dir := t.TempDir()
	st, err := WriteTexts(dir, bigVocab{}, []string{"70000 3 99999", "65536"}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadShard(st.TrainShards[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.Version != Version32 || !reflect.DeepEqual(s.Tokens(), []int32{100000, 70000, 3, 99999, 100000, 65536}) {
		t.Fatalf("header %+v tokens %v", s.Header, s.Tokens())
	}
	_, err = WriteTexts(dir, bigVocab{}, []string{"1 2", "100001"}, WriterOptions{})
	if err == nil || !strings.Contains(err.Error(), `document "1": token id 100001`) {
		t.Fatalf("token id ≥ vocab: %v", err)
	}
}

// TestLLMCReader checks that llm.c's reading logic (header int32[256], uint16
// tokens) reads golem's shards: the Python reader in testdata must agree with Go.
func TestLLMCReader(t *testing.T) {
	py := "../../.venv/bin/python"
	if _, err := os.Stat(py); err != nil {
		py = "python3"
	}
	if _, err := exec.LookPath(py); err != nil && py == "python3" {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	text := "It is the first Book of Opticks.\nLight is propagated in straight lines."
	for _, enc := range []Encoder{NewCharVocab(text), bigVocab{}} {
		docs := strings.Split(text, "\n")
		if _, ok := enc.(bigVocab); ok {
			docs = []string{"70000 1 2 3", "65535 65536 4"}
		}
		st, err := WriteTexts(dir, enc, docs, WriterOptions{Prefix: fmt.Sprintf("v%d", enc.VocabSize())})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadShard(st.TrainShards[0])
		if err != nil {
			t.Fatal(err)
		}
		toks := s.Tokens()
		var sum int64
		var first []string
		for i, tk := range toks {
			sum += int64(tk)
			if i < 10 {
				first = append(first, fmt.Sprint(tk))
			}
		}
		want := fmt.Sprintf("%d %s %d", len(toks), strings.Join(first, " "), sum)
		out, err := exec.Command(py, "testdata/llmc_read.py", st.TrainShards[0]).CombinedOutput()
		if err != nil {
			t.Fatalf("llmc_read.py: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("python read %q, Go read %q", got, want)
		}
	}
}

func seq(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i % 1000)
	}
	return s
}

// windowsOf returns the window start of each row of a batch (x[row*T] / T for seq data).
func collect(t *testing.T, l *Loader, n int) [][]int32 {
	var out [][]int32
	for i := 0; i < n; i++ {
		x, y, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		for j := range x {
			if j%l.T() < l.T()-1 && y[j] != x[j+1] {
				t.Fatalf("targets are not inputs shifted by one")
			}
		}
		out = append(out, append(append([]int32{}, x...), y[len(y)-1]))
	}
	return out
}

func TestLoaderCoversWindowsAndShuffles(t *testing.T) {
	const B, T = 3, 5
	toks := make([]int32, 1+B*T*20)
	for i := range toks {
		toks[i] = int32(i)
	}
	for _, shuffle := range []bool{false, true} {
		l, err := NewSliceLoader(toks, LoaderOptions{B: B, T: T, Shuffle: shuffle, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if l.BatchesPerEpoch() != 20 {
			t.Fatalf("batches per epoch %d", l.BatchesPerEpoch())
		}
		var starts []int
		epoch0 := collect(t, l, 20)
		for _, b := range epoch0 {
			for r := 0; r < B; r++ {
				starts = append(starts, int(b[r*T]))
			}
		}
		sorted := append([]int{}, starts...)
		sort.Ints(sorted)
		for i, s := range sorted {
			if s != i*T {
				t.Fatalf("shuffle=%v: window starts %v do not cover the windows once", shuffle, sorted)
			}
		}
		if shuffle == sort.IntsAreSorted(starts) {
			t.Errorf("shuffle=%v but starts sorted=%v", shuffle, sort.IntsAreSorted(starts))
		}
		epoch1 := collect(t, l, 20)
		if l.Epoch() != 1 || shuffle == reflect.DeepEqual(epoch0, epoch1) {
			t.Errorf("shuffle=%v: epoch 1 order equal to epoch 0: %v", shuffle, reflect.DeepEqual(epoch0, epoch1))
		}
	}
}

func TestLoaderRanksPartition(t *testing.T) {
	toks := seq(4001)
	var all [][]int32
	var single [][]int32
	l1, _ := NewSliceLoader(toks, LoaderOptions{B: 4, T: 10, Shuffle: true, Seed: 9})
	single = collect(t, l1, 10)
	for r := 0; r < 2; r++ {
		l, err := NewSliceLoader(toks, LoaderOptions{B: 2, T: 10, Shuffle: true, Seed: 9, Rank: r, WorldSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, collect(t, l, 10)...)
	}
	// rank 0 and 1 batches together are the single-rank B=4 batches (rows 0-1 and 2-3).
	for i := 0; i < 10; i++ {
		got := append(append([]int32{}, all[i][:20]...), all[10+i][:20]...)
		if !reflect.DeepEqual(got, single[i][:40]) {
			t.Fatalf("batch %d: ranks do not partition the global batch", i)
		}
	}
	if _, err := NewSliceLoader(toks, LoaderOptions{B: 2, T: 10, Rank: 2, WorldSize: 2}); err == nil {
		t.Error("rank 2 of 2 accepted")
	}
}

func TestLoaderStateRestore(t *testing.T) {
	dir := t.TempDir()
	enc := NewCharVocab("abcdefghijklmnopqrstuvwxyz ")
	var texts []string
	for i := 0; i < 60; i++ {
		texts = append(texts, strings.Repeat(string(rune('a'+i%26)), 20+i))
	}
	st, err := WriteTexts(dir, enc, texts, WriterOptions{ShardTokens: 400})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.TrainShards) < 3 {
		t.Fatalf("want several shards, got %d", len(st.TrainShards))
	}
	opts := LoaderOptions{B: 2, T: 16, Shuffle: true, Seed: 5, VocabSize: enc.VocabSize()}
	l, err := NewLoaderGlob(filepath.Join(dir, "shard_train_*.bin"), opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 3*l.BatchesPerEpoch() + 2
	straight := collect(t, l, n)
	l.Reset()
	for k := 0; k < n; k += 7 {
		l.Reset()
		collect(t, l, k)
		b, _ := json.Marshal(l.State())
		var s LoaderState
		json.Unmarshal(b, &s)
		l2, err := NewLoaderGlob(filepath.Join(dir, "shard_train_*.bin"), opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := l2.Restore(s); err != nil {
			t.Fatal(err)
		}
		if got := collect(t, l2, n-k); !reflect.DeepEqual(got, straight[k:]) {
			t.Fatalf("resumed at %d: batches differ", k)
		}
	}
	other, _ := NewLoaderGlob(filepath.Join(dir, "shard_train_*.bin"), LoaderOptions{B: 2, T: 16, Shuffle: true, Seed: 6})
	if err := other.Restore(l.State()); err == nil || !strings.Contains(err.Error(), "Seed=5") {
		t.Errorf("restore with another seed: %v", err)
	}
}

func TestLoaderErrors(t *testing.T) {
	dir := t.TempDir()
	st, err := WriteTexts(dir, NewCharVocab("abc"), []string{strings.Repeat("abc", 100)}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(st.TrainShards, LoaderOptions{B: 2, T: 8, VocabSize: 3}); err == nil || !strings.Contains(err.Error(), "vocabulary size 4 is larger") {
		t.Errorf("vocab: %v", err)
	}
	if _, err := NewLoader(st.TrainShards, LoaderOptions{B: 100, T: 8}); err == nil || !strings.Contains(err.Error(), "no full batch") {
		t.Errorf("too little data: %v", err)
	}
	if _, err := NewSliceLoader([]int32{1, 2, 7, 1, 2, 3}, LoaderOptions{B: 1, T: 2, VocabSize: 5}); err == nil || !strings.Contains(err.Error(), "token id 7 at position 2") {
		t.Errorf("slice vocab: %v", err)
	}
	// A shard truncated after the loader opened it is reported by Next.
	l, err := NewLoader(st.TrainShards, LoaderOptions{B: 2, T: 8})
	if err != nil {
		t.Fatal(err)
	}
	os.Truncate(st.TrainShards[0], 2000)
	if _, _, err := l.Next(); err == nil || !strings.Contains(err.Error(), st.TrainShards[0]) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := NewLoaderGlob(filepath.Join(dir, "nope_*.bin"), LoaderOptions{B: 1, T: 1}); err == nil {
		t.Error("empty glob accepted")
	}
}

func FuzzHeader(f *testing.F) {
	f.Add(Header{Version: Version16, NumTokens: 10, VocabSize: 50257, NumDocs: 2}.Bytes())
	f.Add(Header{Version: Version32, NumTokens: 1 << 30, VocabSize: 200019}.Bytes())
	f.Add([]byte("not a shard"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if !bytes.Equal(h.Bytes(), b[:HeaderBytes]) {
			t.Fatalf("header %+v does not re-encode to its bytes", h)
		}
		if h2, err := ParseHeader(h.Bytes()); err != nil || h2 != h {
			t.Fatalf("round trip: %+v %v", h2, err)
		}
	})
}

// A position saved by one rank of two (B=2) restores into one rank of B=4 and
// into a rank of the other size: the next global batch is the same windows.
func TestLoaderRestoreAcrossRanks(t *testing.T) {
	toks := seq(4001)
	r0, _ := NewSliceLoader(toks, LoaderOptions{B: 2, T: 10, Shuffle: true, Seed: 9, Rank: 0, WorldSize: 2})
	r1, _ := NewSliceLoader(toks, LoaderOptions{B: 2, T: 10, Shuffle: true, Seed: 9, Rank: 1, WorldSize: 2})
	collect(t, r0, 13)
	collect(t, r1, 13)
	st := r0.State()
	one, _ := NewSliceLoader(toks, LoaderOptions{B: 4, T: 10, Shuffle: true, Seed: 9})
	if err := one.Restore(st); err != nil {
		t.Fatal(err)
	}
	x0, _, _ := r0.Next()
	a := append([]int32(nil), x0...)
	x1, _, _ := r1.Next()
	a = append(a, x1...)
	x, _, _ := one.Next()
	if !reflect.DeepEqual(a, x) {
		t.Fatal("1 rank × B=4 restored from rank 0 of 2 × B=2 reads other windows")
	}
	// 4 ranks of B=1 restore it too; another global batch is refused.
	q, _ := NewSliceLoader(toks, LoaderOptions{B: 1, T: 10, Shuffle: true, Seed: 9, Rank: 3, WorldSize: 4})
	if err := q.Restore(st); err != nil {
		t.Fatal(err)
	}
	bad, _ := NewSliceLoader(toks, LoaderOptions{B: 3, T: 10, Shuffle: true, Seed: 9})
	if err := bad.Restore(st); err == nil || !strings.Contains(err.Error(), "B=2 × WorldSize=2 = 4 windows per global batch, this loader has B=3 × WorldSize=1 = 3") {
		t.Fatalf("another global batch: %v", err)
	}
}
