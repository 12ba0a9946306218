package functions

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/golem-lm/golem/functions/api"
)

// Scopes a key may have. A key's scopes are the least it needs:
//
//	admin          everything: deploy and remove functions (running code on the
//	               host's workers), set secrets, every job, metrics per function
//	invoke         call any function and submit its jobs; read and cancel those jobs
//	invoke:NAME    the same for function NAME only (repeat for several)
//	jobs:read      read any job, its logs, and the function list
//	metrics        /metrics with per-function series
const (
	ScopeAdmin    = "admin"
	ScopeInvoke   = "invoke"
	ScopeJobsRead = "jobs:read"
	ScopeMetrics  = "metrics"
)

// Key is an accepted API key: the SHA-256 of the secret, never the secret itself.
type Key struct {
	Name   string
	Hash   [32]byte
	Scopes []string
}

// AdminKey makes the Key of a plain secret with the admin scope (the keys of
// --api-key and GOLEM_API_KEYS).
func AdminKey(name, secret string) Key {
	return Key{Name: name, Hash: sha256.Sum256([]byte(secret)), Scopes: []string{ScopeAdmin}}
}

// checkScopes rejects scopes golem does not know.
func checkScopes(scopes []string) error {
	if len(scopes) == 0 {
		return fmt.Errorf("no scope (want admin, invoke, invoke:NAME, jobs:read or metrics)")
	}
	for _, s := range scopes {
		switch {
		case s == ScopeAdmin, s == ScopeInvoke, s == ScopeJobsRead, s == ScopeMetrics:
		case strings.HasPrefix(s, ScopeInvoke+":") && validName.MatchString(strings.TrimPrefix(s, ScopeInvoke+":")):
		default:
			return fmt.Errorf("unknown scope %q (want admin, invoke, invoke:NAME, jobs:read or metrics)", s)
		}
	}
	return nil
}

// ReadKeyFile reads a key file: one key per line,
//
//	sha256:<64 hex digits> <scope>[,<scope>...] [name]
//
// with blank lines and lines starting with # ignored. `golem keys new` prints
// such a line with a fresh key.
func ReadKeyFile(path string) ([]Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	var keys []Key
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("key file %s line %d: want \"sha256:<hex> <scopes> [name]\", got %d fields", path, n, len(fields))
		}
		hexHash, ok := strings.CutPrefix(fields[0], "sha256:")
		b, err := hex.DecodeString(hexHash)
		if !ok || err != nil || len(b) != 32 {
			return nil, fmt.Errorf("key file %s line %d: %q is not sha256:<64 hex digits> (golem keys new prints a line)", path, n, fields[0])
		}
		k := Key{Scopes: strings.Split(fields[1], ",")}
		copy(k.Hash[:], b)
		if err := checkScopes(k.Scopes); err != nil {
			return nil, fmt.Errorf("key file %s line %d: %v", path, n, err)
		}
		k.Name = fmt.Sprintf("%s:%d", path, n)
		if len(fields) == 3 {
			k.Name = fields[2]
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("key file %s has no keys", path)
	}
	return keys, nil
}

// NewKey makes a random key with scopes and returns the secret (give it to the
// user once) and its key-file line (store that on the host).
func NewKey(scopes []string, name string) (secret, line string, err error) {
	if err := checkScopes(scopes); err != nil {
		return "", "", err
	}
	if strings.ContainsAny(name, " \t\n#") {
		return "", "", fmt.Errorf("key name %q: no spaces or #", name)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	secret = "golem_" + hex.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	line = "sha256:" + hex.EncodeToString(sum[:]) + " " + strings.Join(scopes, ",")
	if name != "" {
		line += " " + name
	}
	return secret, line, nil
}

// principal is what the key of a request may do.
type principal struct {
	name      string
	admin     bool
	invokeAll bool
	invoke    map[string]bool
	jobsRead  bool
	metrics   bool
}

func newPrincipal(k Key) *principal {
	p := &principal{name: k.Name, invoke: map[string]bool{}}
	for _, s := range k.Scopes {
		switch {
		case s == ScopeAdmin:
			p.admin = true
		case s == ScopeInvoke:
			p.invokeAll = true
		case s == ScopeJobsRead:
			p.jobsRead = true
		case s == ScopeMetrics:
			p.metrics = true
		case strings.HasPrefix(s, ScopeInvoke+":"):
			p.invoke[strings.TrimPrefix(s, ScopeInvoke+":")] = true
		}
	}
	return p
}

// anyone is the principal of a host without authentication.
var anyone = &principal{name: "anyone (--insecure-no-auth)", admin: true}

func (p *principal) canInvoke(fn string) bool { return p.admin || p.invokeAll || p.invoke[fn] }
func (p *principal) canReadJob(fn string) bool {
	return p.admin || p.jobsRead || p.canInvoke(fn)
}
func (p *principal) canSeeAll() bool  { return p.admin || p.jobsRead || p.invokeAll }
func (p *principal) canMetrics() bool { return p.admin || p.metrics }
func (p *principal) scopeList() string {
	var s []string
	if p.admin {
		s = append(s, ScopeAdmin)
	}
	if p.invokeAll {
		s = append(s, ScopeInvoke)
	}
	for n := range p.invoke {
		s = append(s, ScopeInvoke+":"+n)
	}
	if p.jobsRead {
		s = append(s, ScopeJobsRead)
	}
	if p.metrics {
		s = append(s, ScopeMetrics)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// forbidden is the 403 answer of a valid key without the needed scope.
func forbidden(p *principal, what, need string) error {
	return &CallError{Kind: api.KindForbidden, Msg: fmt.Sprintf("key %q (scopes %s) may not %s: that needs the %s scope", p.name, p.scopeList(), what, need)}
}

type principalKey struct{}

func principalOf(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	if p == nil {
		return &principal{name: "none", invoke: map[string]bool{}}
	}
	return p
}

// bearer returns the token of an Authorization header with the Bearer scheme
// (the scheme is case-insensitive, RFC 9110 section 11.1).
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// identify finds the key of a request, comparing in constant time against every
// key. nil means no valid key.
func (h *Host) identify(r *http.Request) *principal {
	if h.cfg.NoAuth {
		return anyone
	}
	tok, ok := bearer(r)
	if !ok {
		return nil
	}
	got := sha256.Sum256([]byte(tok))
	var match *principal
	for i, k := range h.keys {
		if subtle.ConstantTimeCompare(got[:], k.Hash[:]) == 1 {
			match = h.principals[i]
		}
	}
	return match
}

// requireKey wraps a handler so that it runs only with a valid key, which it puts
// in the request's context (principalOf). Without one it answers 401.
func (h *Host) requireKey(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := h.identify(r)
		if p == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="golem"`)
			const msg = "missing or wrong API key: send Authorization: Bearer <key>"
			if openAIRoute(r.URL.Path) {
				writeOpenAIError(w, http.StatusUnauthorized, msg, "")
			} else {
				writeError(w, http.StatusUnauthorized, api.Error{Error: msg, Kind: api.KindAuth})
			}
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// optionalKey is requireKey for public routes: a valid key is put in the context,
// a missing or wrong one is ignored.
func (h *Host) optionalKey(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := h.identify(r); p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		next(w, r)
	}
}

// requireAdmin wraps a handler that only admin keys may use.
func requireAdmin(what string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := principalOf(r.Context()); !p.admin {
			fail(w, forbidden(p, what, ScopeAdmin))
			return
		}
		next(w, r)
	}
}

// requireInvoke wraps a handler of /…/{name} that needs invoke rights on name.
func requireInvoke(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if p := principalOf(r.Context()); !p.canInvoke(name) {
			fail(w, forbidden(p, "call function "+name, ScopeInvoke+":"+name))
			return
		}
		next(w, r)
	}
}
