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
	"reflect"
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

// Symbols exports this package to the yaegi interpreter (interp.Use(fn.Symbols)).
var Symbols = map[string]map[string]reflect.Value{
	"github.com/golem-lm/golem/functions/fn/fn": {
		"Progress": reflect.ValueOf(Progress),
	},
}
