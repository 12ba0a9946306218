// Package models keeps the checkpoints a function host serves: a directory of
// checkpoint directories (golem serve --models), shared between hosts through a
// JetStream object store (one object per file, NAME/model.safetensors, ...), and
// loaded into memory once per host. The built-ins train and generate use it.
package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/train"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	// ErrNotFound: no model of that name on this host or in the shared store.
	ErrNotFound = errors.New("no such model")
	// ErrBadName: the name is not a model name.
	ErrBadName = errors.New("not a model name")
	// ErrExists: a model of that name exists already.
	ErrExists = errors.New("model exists already")
)

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// CheckName returns ErrBadName (wrapped, naming it) unless name may name a model:
// 1-63 lower-case letters, digits, - and _, so never a path.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%q: %w (a directory under --models: lower-case letters, digits, - and _)", name, ErrBadName)
	}
	return nil
}

// Model is a checkpoint in memory. Its activations are its own, so hold Mu while
// running it.
type Model struct {
	Mu  sync.Mutex
	GPT *eval.GPT
	Tok eval.Tokenizer
}

// Store is the models of one host.
type Store struct {
	dir  string
	objs jetstream.ObjectStore // shared with the other hosts; nil: local only

	mu     sync.Mutex
	loaded map[string]*Model
}

// NewStore keeps models in dir and shares them through objs (nil for none).
func NewStore(dir string, objs jetstream.ObjectStore) *Store {
	return &Store{dir: dir, objs: objs, loaded: map[string]*Model{}}
}

// Dir is the directory of checkpoint directories.
func (s *Store) Dir() string { return s.dir }

// Load returns the model called name, loading it once; a model another host
// trained is fetched from the shared store first.
func (s *Store) Load(name string) (*Model, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.loaded[name]; m != nil {
		return m, nil
	}
	dir := filepath.Join(s.dir, name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		found, err := s.fetch(name, dir)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%q: %w on this host", name, ErrNotFound)
		}
	}
	m, err := train.LoadModel(dir)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", name, err)
	}
	tok, err := eval.LoadTokenizer("", dir)
	if err != nil {
		return nil, fmt.Errorf("load the tokenizer of model %s: %w", name, err)
	}
	lm := &Model{GPT: eval.NewGPT(m), Tok: tok}
	s.loaded[name] = lm
	return lm, nil
}

// Exists reports whether a model called name is on this host or in the shared store.
func (s *Store) Exists(ctx context.Context, name string) (bool, error) {
	if _, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
		return true, nil
	}
	objs, err := s.objects(ctx, name)
	return len(objs) > 0, err
}

// List names the models on this host and in the shared store, sorted.
func (s *Store) List(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	ents, err := os.ReadDir(s.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list models in %s: %w", s.dir, err)
	}
	for _, e := range ents {
		if e.IsDir() && validName.MatchString(e.Name()) {
			if _, err := os.Stat(filepath.Join(s.dir, e.Name(), "model.safetensors")); err == nil {
				seen[e.Name()] = true
			}
		}
	}
	if s.objs != nil {
		infos, err := s.objs.List(ctx)
		if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
			return nil, fmt.Errorf("list models: %w", err)
		}
		for _, in := range infos {
			if name, _, ok := strings.Cut(in.Name, "/"); ok && !in.Deleted && validName.MatchString(name) {
				seen[name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Created is when the model's files were written on this host, in Unix seconds
// (0 when it is only in the shared store).
func (s *Store) Created(name string) int64 {
	if fi, err := os.Stat(filepath.Join(s.dir, name, "model.safetensors")); err == nil {
		return fi.ModTime().Unix()
	}
	return 0
}

// objects lists the objects of a model in the shared store (name/file).
func (s *Store) objects(ctx context.Context, name string) ([]string, error) {
	if s.objs == nil {
		return nil, nil
	}
	infos, err := s.objs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []string
	for _, in := range infos {
		if strings.HasPrefix(in.Name, name+"/") && !in.Deleted {
			out = append(out, in.Name)
		}
	}
	return out, nil
}

// Publish copies a checkpoint directory into the shared store.
func (s *Store) Publish(ctx context.Context, name, dir string) error {
	if s.objs == nil {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		_, err = s.objs.Put(ctx, jetstream.ObjectMeta{Name: name + "/" + e.Name()}, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("store model %s: %w", name, err)
		}
	}
	return nil
}

// fetch copies a model from the shared store into dir (atomically: a temporary
// directory renamed). It reports false when the store has no such model.
func (s *Store) fetch(name, dir string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	objs, err := s.objects(ctx, name)
	if err != nil || len(objs) == 0 {
		return false, err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(s.dir, ".fetch-"+name+"-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	for _, o := range objs {
		if err := s.objs.GetFile(ctx, o, filepath.Join(tmp, strings.TrimPrefix(o, name+"/"))); err != nil {
			return false, fmt.Errorf("fetch model %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return false, fmt.Errorf("fetch model %s: %w", name, err)
	}
	return true, nil
}
