// Package version holds golem's version string, set at link time by the Makefile
// (-ldflags "-X github.com/golem-lm/golem/internal/version.Version=...").
package version

import "runtime/debug"

// Version is overridden at link time; "dev" means a plain `go build`.
var Version = "dev"

// String returns the version, with the VCS revision when the build recorded one.
func String() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return Version + " (" + s.Value[:12] + ")"
			}
		}
	}
	return Version
}
