package session

// shimSources are interpreted Go packages compiled into every interpreter.
var shimSources = []struct{ name, code string }{}

// shimPrelude declares the helpers rewritten cells call.
const shimPrelude = ``

// shimMembers lists the functions a shim adds to package path (for completion).
func (s *Session) shimMembers(path string) []string { return nil }
