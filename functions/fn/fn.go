// Package fn is what a function running on the golem function host may call to talk
// to the host. It is available to deployed Go source (import
// "github.com/golem-lm/golem/functions/fn") and to built-in handlers alike.
//
//	func Handle(ctx context.Context, in Input) (Output, error) {
//		for i, x := range in.Items {
//			fn.Progress(ctx, float64(i)/float64(len(in.Items)), "item "+x)
//			...
//		}
//	}
//
// Outside the host (a notebook cell, a unit test) the calls do nothing.
package fn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
)

// Reporter receives progress reports of one running call.
type Reporter interface {
	Progress(fraction float64, note string)
}

type reporterKey struct{}

// WithReporter returns a context whose calls to Progress go to r.
func WithReporter(ctx context.Context, r Reporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, r)
}

// Progress reports that the call is fraction (0..1) done, with a short note. For a
// job it updates GET /jobs/{id} and keeps the job's lease alive.
func Progress(ctx context.Context, fraction float64, note string) {
	if ctx == nil {
		return
	}
	r, _ := ctx.Value(reporterKey{}).(Reporter)
	if r == nil {
		return
	}
	if fraction < 0 || fraction != fraction {
		fraction = 0
	}
	if fraction > 1 {
		fraction = 1
	}
	r.Progress(fraction, note)
}

var secretName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidSecretName reports whether name may name a secret: 1-64 letters, digits,
// '_', '.' and '-', starting with a letter or digit.
func ValidSecretName(name string) bool { return secretName.MatchString(name) }

// Secret returns the value of the function's secret name, which an admin set with
// PUT /functions/{function}/secrets/{name}. Only the function's own worker has it
// (as a file in GOLEM_SECRETS_DIR, in the style of OpenFaaS's secrets); the host
// masks the value in the function's logs, results and errors.
func Secret(name string) (string, error) {
	if !ValidSecretName(name) {
		return "", fmt.Errorf("secret name %q: use 1-64 letters, digits, '_', '.' and '-'", name)
	}
	dir := os.Getenv("GOLEM_SECRETS_DIR")
	if dir == "" {
		return "", errors.New("no secrets here: secrets exist only in functions running on golem serve")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("this function has no secret %q (an admin sets it: PUT /functions/{name}/secrets/%s)", name, name)
	}
	if err != nil {
		return "", fmt.Errorf("read secret %q: %w", name, err)
	}
	return string(b), nil
}

// Symbols exports this package to the yaegi interpreter (interp.Use(fn.Symbols)).
var Symbols = map[string]map[string]reflect.Value{
	"github.com/golem-lm/golem/functions/fn/fn": {
		"Progress": reflect.ValueOf(Progress),
		"Secret":   reflect.ValueOf(Secret),
	},
}
