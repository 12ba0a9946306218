package functions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/functions/api"
)

// ConfinedPath resolves rel, a slash-separated path from a request, inside root
// (the host's files directory), and refuses every way out of it: an absolute
// path, a ".." element, a NUL byte, or a symbolic link anywhere along the path
// that leads outside root (the longest existing prefix is resolved; what does not
// exist yet is created inside it). field names the request field in the error,
// which is an input error (400) saying what is wrong. Glob characters pass
// through: check the files a pattern expands to with Within.
//
// Built-ins run in the host process with the host's rights, unsandboxed, so this
// check is what keeps a request with an invoke key to the operator's directory.
// It does not defend against someone who can write into root racing the check
// (swapping a directory for a link after it): keep root writable only by the host.
func ConfinedPath(root, rel, field string) (string, error) {
	bad := func(why string) error {
		return &CallError{Kind: api.KindInput, Field: field, Msg: fmt.Sprintf("input field %q: path %q %s", field, rel, why)}
	}
	if root == "" {
		return "", &CallError{Kind: api.KindInput, Field: field, Msg: "this host has no files directory: start golem serve with --files DIR to work on files"}
	}
	switch {
	case rel == "":
		return "", bad("is empty")
	case strings.ContainsRune(rel, 0):
		return "", bad("contains a NUL byte")
	case filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, `\`):
		return "", bad("is absolute; give it relative to the host's files directory")
	}
	for _, el := range strings.Split(filepath.ToSlash(rel), "/") {
		if el == ".." {
			return "", bad(`has a ".." element`)
		}
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := Within(root, p); err != nil {
		return "", bad(err.Error())
	}
	return p, nil
}

// Within checks that path, with every symbolic link along it resolved (as far as
// it exists), lies inside root (itself already resolved).
func Within(root, path string) error {
	// Resolve the longest prefix that exists.
	rest := ""
	cur := path
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			cur = filepath.Join(real, rest)
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot be resolved: %v", err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return errors.New("cannot be resolved")
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
	r, err := filepath.Rel(root, cur)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return errors.New("leads outside the host's files directory")
	}
	return nil
}
