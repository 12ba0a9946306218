package tokenizer

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
)

// vectors is testdata/tiktoken_vectors.json.gz, written by testdata/gen_tiktoken.py.
type vectors struct {
	Tiktoken string `json:"tiktoken"`
	Sources  []struct {
		Kind, Path, Codec, Sha256 string
	} `json:"sources"`
	Chunks []struct {
		Src  int               `json:"src"`
		Off  int               `json:"off"`
		Len  int               `json:"len"`
		Mode string            `json:"mode"`
		N    map[string]int    `json:"n"`
		H    map[string]string `json:"h"`
		IDs  map[string][]int  `json:"ids"`
	} `json:"chunks"`
}

func loadVectors(t *testing.T) *vectors {
	t.Helper()
	f, err := os.Open("testdata/tiktoken_vectors.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.NewDecoder(zr).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// sourcePath finds a vector source the way gen_tiktoken.py did.
func sourcePath(kind, rel string) (string, error) {
	switch kind {
	case "opticks":
		return assets.Opticks()
	case "tomsawyer":
		return assets.TomSawyer()
	case "html":
		return assets.HTMLText()
	case "gosrc":
		d, err := assets.GoSource()
		return filepath.Join(d, rel), err
	case "brown":
		d, err := assets.BrownCorpus()
		return filepath.Join(d, rel), err
	}
	return filepath.Join("testdata", rel), nil
}

func idsDigest(ids []int) string {
	h := sha256.New()
	var b [4]byte
	for _, id := range ids {
		binary.LittleEndian.PutUint32(b[:], uint32(id))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// TestTiktokenParity checks golem's ids against tiktoken's for every chunk of ~4 MB of
// prose, code, Unicode-heavy text, whitespace runs and special tokens.
func TestTiktokenParity(t *testing.T) {
	v := loadVectors(t)
	texts := make([][]byte, len(v.Sources))
	for i, s := range v.Sources {
		p, err := sourcePath(s.Kind, s.Path)
		if err == nil {
			texts[i], err = os.ReadFile(p)
		}
		if err != nil {
			t.Fatalf("source %s %s: %v (run `make assets`)", s.Kind, s.Path, err)
		}
		if sum := sha256.Sum256(texts[i]); hex.EncodeToString(sum[:]) != s.Sha256 {
			t.Errorf("source %s %s differs from the one the vectors were made from; regenerate with gen_tiktoken.py", s.Kind, s.Path)
			texts[i] = nil
		}
	}
	for _, name := range []string{"gpt2", "p50k_base", "cl100k_base", "o200k_base"} {
		tok, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		bad, bytes := 0, 0
		for ci, c := range v.Chunks {
			raw := texts[c.Src]
			if raw == nil {
				continue
			}
			chunk := raw[c.Off : c.Off+c.Len]
			text := string(chunk)
			if v.Sources[c.Src].Codec == "latin-1" {
				text = latin1(chunk)
			}
			bytes += len(text)
			var ids []int
			if c.Mode == "all" {
				ids, err = tok.EncodeAllowed(text, AllSpecial)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				ids = tok.EncodeOrdinary(text)
			}
			if len(ids) != c.N[name] || idsDigest(ids) != c.H[name] {
				bad++
				if bad <= 5 {
					src := v.Sources[c.Src]
					t.Errorf("%s: chunk %d (%s %s bytes %d+%d): %d ids, tiktoken %d", name, ci, src.Kind, src.Path, c.Off, c.Len, len(ids), c.N[name])
					if want := c.IDs[name]; want != nil {
						reportDiff(t, tok, ids, want)
					}
				}
				continue
			}
			back, err := tok.Decode(ids)
			if err != nil || back != text {
				t.Errorf("%s: chunk %d: decode(encode(x)) != x (%v)", name, ci, err)
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d chunks differ from tiktoken %s", name, bad, len(v.Chunks), v.Tiktoken)
		} else {
			t.Logf("%s: %d chunks, %.2f MB identical to tiktoken %s", name, len(v.Chunks), float64(bytes)/1e6, v.Tiktoken)
		}
	}
}

func reportDiff(t *testing.T, tok *Tokenizer, got, want []int) {
	t.Helper()
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-3)
	show := func(ids []int) []string {
		var out []string
		for _, id := range ids[lo:min(len(ids), i+5)] {
			b, _ := tok.TokenBytes(id)
			out = append(out, string(b))
		}
		return out
	}
	t.Errorf("  first difference at id %d: golem %q, tiktoken %q", i, show(got), show(want))
}
