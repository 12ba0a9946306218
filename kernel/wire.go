package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"time"
)

// ProtocolVersion is the Jupyter messaging protocol version golem speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the message frames.
var delimiter = []byte("<IDS|MSG>")

// Header is a Jupyter message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Username string `json:"username"`
	Session  string `json:"session"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message. Parent is kept as the raw JSON of the parent
// header so that replies echo it byte for byte.
type Message struct {
	Identities [][]byte
	Header     Header
	Parent     json.RawMessage
	Metadata   json.RawMessage
	Content    json.RawMessage
	Buffers    [][]byte

	rawHeader json.RawMessage // the header exactly as received (used as a reply's parent)
	signature []byte          // the verified signature, lower case (nil when unsigned)
}

// ErrBadSignature is returned by Decode for a message whose HMAC does not verify.
var ErrBadSignature = errors.New("bad message signature")

// Signer signs and verifies messages with HMAC-SHA256; a nil key disables signing.
type Signer struct {
	key  []byte
	pool sync.Pool
}

// NewSigner returns a signer for key (empty: unsigned messages).
func NewSigner(key []byte) *Signer {
	s := &Signer{key: key}
	s.pool.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

// Sign returns the hex HMAC-SHA256 over the four message parts, or "" without a key.
func (s *Signer) Sign(parts ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	sum := h.Sum(nil)
	s.pool.Put(h)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify reports whether sig is the signature of parts, in constant time.
// Without a key every message verifies, as in jupyter_client.
func (s *Signer) Verify(sig []byte, parts ...[]byte) bool {
	if len(s.key) == 0 {
		return true
	}
	return hmac.Equal(bytes.ToLower(sig), s.Sign(parts...))
}

// canonical is the form of a verified signature that replay detection compares
// (Verify accepts hex digits in either case).
func (s *Signer) canonical(sig []byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	return bytes.ToLower(sig)
}

// Decode parses the frames of a received message and verifies its signature.
func (s *Signer) Decode(frames [][]byte) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return nil, fmt.Errorf("malformed message: no %s delimiter in %d frames", delimiter, len(frames))
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("malformed message: %d frames after the delimiter, want at least 5", len(rest))
	}
	if !s.Verify(rest[0], rest[1], rest[2], rest[3], rest[4]) {
		return nil, ErrBadSignature
	}
	m := &Message{
		Identities: frames[:i],
		rawHeader:  rest[1],
		signature:  s.canonical(rest[0]),
		Parent:     rest[2],
		Metadata:   rest[3],
		Content:    rest[4],
		Buffers:    rest[5:],
	}
	if err := json.Unmarshal(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("malformed message header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("malformed message header: no msg_type")
	}
	if !json.Valid(m.Content) {
		return nil, fmt.Errorf("malformed %s content: not JSON", m.Header.MsgType)
	}
	return m, nil
}

// Encode serialises m (identities, delimiter, signature, header, parent, metadata,
// content, buffers) into frames.
func (s *Signer) Encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	parent := orEmptyObject(m.Parent)
	metadata := orEmptyObject(m.Metadata)
	content := orEmptyObject(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, s.Sign(header, parent, metadata, content), header, parent, metadata, content)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

func orEmptyObject(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}

// NewHeader returns a fresh header of msgType for session.
func NewHeader(msgType, session string) Header {
	return Header{
		MsgID:    newID(),
		Username: username,
		Session:  session,
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

var username = func() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "golem"
}()

// newID returns a random UUID-4 string.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// replayGuard remembers the signatures of the messages received, so that a signed
// message sent again (captured on the network and replayed) is refused, as
// jupyter_client's Session refuses a duplicate signature. It keeps at most limit
// signatures; beyond that it forgets a tenth of them, chosen at random (Go's map
// order), as jupyter_client culls its digest_history.
type replayGuard struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	limit int
}

// digestHistorySize is jupyter_client's Session.digest_history_size.
const digestHistorySize = 1 << 16

func newReplayGuard(limit int) *replayGuard {
	return &replayGuard{seen: make(map[string]struct{}, 1024), limit: limit}
}

// fresh records sig and reports whether it was not seen before. An unsigned
// message (no key) is always fresh.
func (g *replayGuard) fresh(sig []byte) bool {
	if len(sig) == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.seen[string(sig)]; dup {
		return false
	}
	// Cull before recording sig, so the signature just received is never the one
	// forgotten (a replay sent right after it would otherwise run).
	if len(g.seen) >= g.limit {
		n := max(len(g.seen)/10, len(g.seen)-g.limit+1)
		for k := range g.seen {
			if n == 0 {
				break
			}
			delete(g.seen, k)
			n--
		}
	}
	g.seen[string(sig)] = struct{}{}
	return true
}
