package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/nats-io/nats.go/jetstream"
)

// Per-function secrets, in the style of OpenFaaS: an admin sets them, only the
// function's own workers receive them (as files in their private secrets
// directory, read with fn.Secret), and the host masks their values in the
// function's results, errors, progress notes and logs. They live in the KV bucket
// golem_secrets ("function.secret" -> value), so every host sharing the NATS has
// them; anyone who can read the NATS store can read them too.

const (
	maxSecretBytes   = 64 << 10
	maxSecretsPerFn  = 32
	minMaskedSecretN = 4 // shorter values are not masked (they would mangle output)
)

// readSecrets returns the secrets of a function.
func (h *Host) readSecrets(ctx context.Context, function string) (map[string]string, error) {
	lister, err := h.secrets.ListKeysFiltered(ctx, function+".>")
	if err != nil {
		return nil, fmt.Errorf("list secrets of %s: %w", function, err)
	}
	out := map[string]string{}
	for k := range lister.Keys() {
		e, err := h.secrets.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read secret %s: %w", k, err)
		}
		out[strings.TrimPrefix(k, function+".")] = string(e.Value())
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// secretTarget checks the path of a secrets request: the function must exist
// (deployed, not built in) and the secret name must be valid.
func (h *Host) secretTarget(r *http.Request, needSecret bool) (string, string, error) {
	name, secret := r.PathValue("name"), r.PathValue("secret")
	if builtin(name) != nil {
		return "", "", &CallError{Kind: api.KindInput, Field: "name", Msg: fmt.Sprintf("%q is a built-in: built-ins run in the host and have no secrets", name)}
	}
	if _, _, err := h.lookup(r.Context(), name); err != nil {
		return "", "", err
	}
	if needSecret && !fn.ValidSecretName(secret) {
		return "", "", &CallError{Kind: api.KindInput, Field: "secret", Msg: fmt.Sprintf("secret name %q: use 1-64 letters, digits, '_', '.' and '-', starting with a letter or digit", secret)}
	}
	return name, secret, nil
}

// putSecret sets a secret of a function: the body is the value.
func (h *Host) putSecret(w http.ResponseWriter, r *http.Request) {
	name, secret, err := h.secretTarget(r, true)
	if err != nil {
		fail(w, err)
		return
	}
	value, ok := h.readBody(w, r)
	if !ok {
		return
	}
	switch {
	case len(value) == 0:
		fail(w, &CallError{Kind: api.KindInput, Field: "body", Msg: "secret value is empty (DELETE removes a secret)"})
		return
	case len(value) > maxSecretBytes:
		fail(w, &CallError{Kind: api.KindInput, Field: "body", Msg: fmt.Sprintf("secret value is %d bytes; the limit is %d", len(value), maxSecretBytes)})
		return
	}
	have, err := h.readSecrets(r.Context(), name)
	if err != nil {
		fail(w, err)
		return
	}
	_, replaced := have[secret]
	if !replaced && len(have) >= maxSecretsPerFn {
		fail(w, &CallError{Kind: api.KindInput, Field: "secret", Msg: fmt.Sprintf("function %s already has %d secrets, the most one may have", name, maxSecretsPerFn)})
		return
	}
	if _, err := h.secrets.Put(r.Context(), name+"."+secret, value); err != nil {
		fail(w, fmt.Errorf("store secret %s of %s: %w", secret, name, err))
		return
	}
	h.forget(name) // new workers get the new value; the old ones serve no more calls
	code := http.StatusCreated
	if replaced {
		code = http.StatusOK
	}
	writeJSON(w, code, map[string]any{"function": name, "secret": secret, "bytes": len(value)})
}

func (h *Host) deleteSecret(w http.ResponseWriter, r *http.Request) {
	name, secret, err := h.secretTarget(r, true)
	if err != nil {
		fail(w, err)
		return
	}
	if _, err := h.secrets.Get(r.Context(), name+"."+secret); errors.Is(err, jetstream.ErrKeyNotFound) {
		fail(w, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("function %s has no secret %q", name, secret)})
		return
	}
	if err := h.secrets.Purge(r.Context(), name+"."+secret); err != nil {
		fail(w, fmt.Errorf("delete secret %s of %s: %w", secret, name, err))
		return
	}
	h.forget(name)
	w.WriteHeader(http.StatusNoContent)
}

// listSecrets lists the names (never the values) of a function's secrets.
func (h *Host) listSecrets(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.secretTarget(r, false)
	if err != nil {
		fail(w, err)
		return
	}
	have, err := h.readSecrets(r.Context(), name)
	if err != nil {
		fail(w, err)
		return
	}
	names := sortedKeys(have)
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"function": name, "secrets": names})
}

// masker replaces a function's secret values in what leaves the host.
type masker struct {
	plain   *strings.Replacer // in text
	encoded [][2][]byte       // in JSON: the value as it appears inside a JSON string
}

func newMasker(secrets map[string]string) *masker {
	var pairs []string
	var enc [][2][]byte
	// Longer values first, so a secret that contains another is masked whole.
	names := sortedKeys(secrets)
	sort.SliceStable(names, func(i, j int) bool { return len(secrets[names[i]]) > len(secrets[names[j]]) })
	for _, n := range names {
		v := secrets[n]
		if len(v) < minMaskedSecretN {
			continue
		}
		repl := "[secret " + n + "]"
		pairs = append(pairs, v, repl)
		b, _ := json.Marshal(v)
		enc = append(enc, [2][]byte{b[1 : len(b)-1], []byte(repl)})
	}
	if len(pairs) == 0 {
		return nil
	}
	return &masker{plain: strings.NewReplacer(pairs...), encoded: enc}
}

func (m *masker) text(s string) string {
	if m == nil {
		return s
	}
	return m.plain.Replace(s)
}

// json masks the values inside JSON output; the replacement has no characters
// that need escaping, so the JSON stays valid.
func (m *masker) json(b json.RawMessage) json.RawMessage {
	if m == nil {
		return b
	}
	for _, e := range m.encoded {
		b = bytes.ReplaceAll(b, e[0], e[1])
	}
	return b
}
