// Package shard stores tokenized text on disk in llm.c's shard format and reads it
// back as shuffled B×T training batches.
//
// A shard file is a 1024-byte header of 256 little-endian int32 values followed by
// the tokens:
//
//	header[0]  magic 20240520 (llm.c)
//	header[1]  version: 1 = uint16 tokens (vocabularies up to 65,536 ids),
//	           2 = uint32 tokens (larger vocabularies; a golem extension)
//	header[2]  number of tokens that follow
//	header[3]  vocabulary size, 0 if unknown (golem extension; llm.c ignores it)
//	header[4]  number of documents, 0 if unknown (golem extension)
//	header[5:] zero
//
// Every document is preceded by the end-of-text token, as llm.c's data scripts do.
// Beside each NAME.bin shard the Writer puts NAME.idx: one little-endian uint64 per
// document, the token position of the EOT that starts it, ascending.
//
// Writer turns documents into train and validation shards (split by a seeded hash
// of the document id, shards written atomically); Loader yields input and target
// batches from shards or from a plain token slice, shuffles shard and window order
// per epoch with a seed, splits batches across ranks and saves and restores its
// exact position for bit-identical resume.
package shard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Format constants.
const (
	Magic       = 20240520 // header[0]
	Version16   = 1        // uint16 tokens
	Version32   = 2        // uint32 tokens
	HeaderInts  = 256
	HeaderBytes = HeaderInts * 4
	// MaxShardTokens is the largest token count a header can hold (int32).
	MaxShardTokens = 1<<31 - 1
)

// Header is the decoded shard header.
type Header struct {
	Version   int   // Version16 or Version32
	NumTokens int64 // tokens in the file
	VocabSize int   // 0 when unknown
	NumDocs   int   // 0 when unknown
}

// TokenBytes is the width of one token in bytes (2 or 4).
func (h Header) TokenBytes() int {
	if h.Version == Version32 {
		return 4
	}
	return 2
}

// VersionFor returns the shard version needed for a vocabulary of size vocab.
func VersionFor(vocab int) int {
	if vocab > 1<<16 {
		return Version32
	}
	return Version16
}

// Bytes encodes the header as 1024 bytes.
func (h Header) Bytes() []byte {
	b := make([]byte, HeaderBytes)
	put := func(i int, v int64) { binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(v))) }
	put(0, Magic)
	put(1, int64(h.Version))
	put(2, h.NumTokens)
	put(3, int64(h.VocabSize))
	put(4, int64(h.NumDocs))
	return b
}

// ParseHeader decodes and checks a shard header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderBytes {
		return Header{}, fmt.Errorf("truncated header: %d bytes, want %d", len(b), HeaderBytes)
	}
	get := func(i int) int32 { return int32(binary.LittleEndian.Uint32(b[4*i:])) }
	if m := get(0); m != Magic {
		return Header{}, fmt.Errorf("wrong magic %d, want %d (not a token shard)", m, Magic)
	}
	h := Header{Version: int(get(1)), NumTokens: int64(get(2)), VocabSize: int(get(3)), NumDocs: int(get(4))}
	if h.Version != Version16 && h.Version != Version32 {
		return Header{}, fmt.Errorf("unsupported version %d (want %d for uint16 or %d for uint32 tokens)", h.Version, Version16, Version32)
	}
	if h.NumTokens < 0 {
		return Header{}, fmt.Errorf("negative token count %d", h.NumTokens)
	}
	if h.VocabSize < 0 {
		return Header{}, fmt.Errorf("negative vocabulary size %d", h.VocabSize)
	}
	if h.Version == Version16 && h.VocabSize > 1<<16 {
		return Header{}, fmt.Errorf("vocabulary size %d does not fit uint16 tokens of version %d", h.VocabSize, h.Version)
	}
	if h.NumDocs < 0 {
		return Header{}, fmt.Errorf("negative document count %d", h.NumDocs)
	}
	for i := 5; i < HeaderInts; i++ {
		if get(i) != 0 {
			return Header{}, fmt.Errorf("reserved header int %d is %d, want 0", i, get(i))
		}
	}
	return h, nil
}

// ReadHeader reads and checks the header of the shard at path, and checks that the
// file size matches the token count.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("open shard %s: %w", path, err)
	}
	defer f.Close()
	return readHeader(f, path)
}

func readHeader(f *os.File, path string) (Header, error) {
	b := make([]byte, HeaderBytes)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Header{}, fmt.Errorf("read shard %s: %w", path, err)
	}
	h, err := ParseHeader(b[:n])
	if err != nil {
		return Header{}, fmt.Errorf("shard %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return Header{}, fmt.Errorf("stat shard %s: %w", path, err)
	}
	want := int64(HeaderBytes) + h.NumTokens*int64(h.TokenBytes())
	if st.Size() != want {
		what := "truncated"
		if st.Size() > want {
			what = "trailing bytes"
		}
		return Header{}, fmt.Errorf("shard %s: token count mismatch (%s): header says %d tokens (%d bytes), file has %d bytes",
			path, what, h.NumTokens, want, st.Size())
	}
	return h, nil
}

// Shard is a shard file read into memory.
type Shard struct {
	Path   string
	Header Header
	data   []byte // tokens, little-endian, Header.TokenBytes() each
}

// ReadShard reads a whole shard, checking its header, size and (when the header
// records one) that every token is below the vocabulary size.
func ReadShard(path string) (*Shard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", path, err)
	}
	defer f.Close()
	h, err := readHeader(f, path)
	if err != nil {
		return nil, err
	}
	data := make([]byte, h.NumTokens*int64(h.TokenBytes()))
	if _, err := f.ReadAt(data, HeaderBytes); err != nil {
		return nil, fmt.Errorf("read shard %s: %w", path, err)
	}
	s := &Shard{Path: path, Header: h, data: data}
	if h.VocabSize > 0 {
		if err := s.checkVocab(0, s.Len(), h.VocabSize); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Len is the number of tokens.
func (s *Shard) Len() int { return int(s.Header.NumTokens) }

// At returns token i.
func (s *Shard) At(i int) int32 {
	if s.Header.Version == Version32 {
		return int32(binary.LittleEndian.Uint32(s.data[4*i:]))
	}
	return int32(binary.LittleEndian.Uint16(s.data[2*i:]))
}

// Tokens returns a copy of all tokens.
func (s *Shard) Tokens() []int32 {
	out := make([]int32, s.Len())
	s.copyTo(out, 0)
	return out
}

func (s *Shard) copyTo(dst []int32, from int) {
	if s.Header.Version == Version32 {
		for i := range dst {
			dst[i] = int32(binary.LittleEndian.Uint32(s.data[4*(from+i):]))
		}
		return
	}
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint16(s.data[2*(from+i):]))
	}
}

func (s *Shard) checkVocab(from, to, vocab int) error {
	for i := from; i < to; i++ {
		if t := s.At(i); int(t) >= vocab || t < 0 {
			return fmt.Errorf("shard %s: token id %d at position %d is not below the vocabulary size %d", s.Path, t, i, vocab)
		}
	}
	return nil
}

// IndexPath returns the document index path beside a shard (NAME.bin → NAME.idx).
func IndexPath(shardPath string) string {
	if len(shardPath) > 4 && shardPath[len(shardPath)-4:] == ".bin" {
		return shardPath[:len(shardPath)-4] + ".idx"
	}
	return shardPath + ".idx"
}

// Docs reads the document index beside the shard: the token position of the EOT
// that starts each document.
func (s *Shard) Docs() ([]int64, error) {
	path := IndexPath(s.Path)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open shard index %s: %w", path, err)
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("shard index %s: size %d is not a multiple of 8", path, len(b))
	}
	offs := make([]int64, len(b)/8)
	for i := range offs {
		v := binary.LittleEndian.Uint64(b[8*i:])
		if v >= uint64(s.Header.NumTokens) {
			return nil, fmt.Errorf("shard index %s: offset %d of document %d is past the %d tokens of the shard", path, v, i, s.Header.NumTokens)
		}
		offs[i] = int64(v)
		if i > 0 && offs[i] <= offs[i-1] {
			return nil, fmt.Errorf("shard index %s: offsets not ascending at document %d (%d after %d)", path, i, offs[i], offs[i-1])
		}
	}
	if s.Header.NumDocs > 0 && len(offs) != s.Header.NumDocs {
		return nil, fmt.Errorf("shard index %s: %d documents, shard header says %d", path, len(offs), s.Header.NumDocs)
	}
	return offs, nil
}

// Document returns the tokens of document i (without its leading EOT), using the index.
func (s *Shard) Document(offsets []int64, i int) []int32 {
	start := int(offsets[i]) + 1
	end := s.Len()
	if i+1 < len(offsets) {
		end = int(offsets[i+1])
	}
	out := make([]int32, end-start)
	s.copyTo(out, start)
	return out
}
