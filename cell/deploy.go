package cell

// %%deploy NAME [--timeout D] [--memory MB] [--entry F]: the cell's declarations
// run in the session, so the function can be tried in the next cell, and the same
// source goes to the function host (golem serve) at $GOLEM_URL with the key
// $GOLEM_API_KEY, through its HTTP API (functions/client).

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"html"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

var (
	// functionName is the host's rule for function names.
	functionName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// leadingClause is a cell's package clause (after comments); packageLine is
	// the line holding it in the deployed source.
	leadingClause = regexp.MustCompile(`^\s*(//[^\n]*\n\s*)*package\s+\w+`)
	packageLine   = regexp.MustCompile(`(?m)^package\s+\w+[^\n]*\n`)
)

// deployArgs are the parsed arguments of %%deploy.
type deployArgs struct {
	name   string
	entry  string
	limits api.Limits
}

func parseDeployArgs(m *magic) (deployArgs, error) {
	a := deployArgs{entry: "Handle"}
	args := strings.Fields(m.args)
	usage := "usage: %%deploy NAME [--timeout DURATION] [--memory MiB] [--entry FUNC]"
	for i := 0; i < len(args); i++ {
		arg := args[i]
		flag, val, hasVal := strings.Cut(arg, "=")
		if !strings.HasPrefix(flag, "-") {
			if a.name != "" {
				return a, magicErr(m, "%%%%deploy takes one function name, got %q and %q (%s)", a.name, arg, usage)
			}
			if !functionName.MatchString(arg) {
				return a, magicErr(m, "%%%%deploy: function name %q: use 1 to 63 lower-case letters, digits, - or _, starting with a letter or digit", arg)
			}
			a.name = arg
			continue
		}
		flag = "--" + strings.TrimLeft(flag, "-")
		if !hasVal {
			if i+1 >= len(args) {
				return a, magicErr(m, "%%%%deploy: %s needs a value (%s)", flag, usage)
			}
			i++
			val = args[i]
		}
		switch flag {
		case "--timeout":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return a, magicErr(m, "%%%%deploy: --timeout %q: want a positive duration such as 30s or 2m", val)
			}
			a.limits.TimeoutMS = d.Milliseconds()
		case "--memory":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				return a, magicErr(m, "%%%%deploy: --memory %q: want a positive whole number of MiB such as 512", val)
			}
			a.limits.MemoryMB = n
		case "--entry":
			if !token.IsIdentifier(val) {
				return a, magicErr(m, "%%%%deploy: --entry %q: want the name of a Go function", val)
			}
			a.entry = val
		default:
			return a, magicErr(m, "%%%%deploy: unknown flag %s (%s)", flag, usage)
		}
	}
	if a.name == "" {
		return a, magicErr(m, "%%%%deploy needs the function's name (%s)", usage)
	}
	return a, nil
}

// deploy runs a %%deploy cell.
func (s *Session) deploy(ctx context.Context, run *cellRun, m *magic) (display.Bundle, error) {
	a, err := parseDeployArgs(m)
	if err != nil {
		return nil, err
	}
	body := m.body
	src := []byte(body)
	chunks, hasPackage := splitCell(src)
	if hasPackage { // a whole file: the session runs it without its package clause
		clause := leadingClause.FindIndex(src)
		if clause == nil {
			return nil, magicErr(m, "%%%%deploy %s: the package clause must come first", a.name)
		}
		blank := []byte(body)
		for i := clause[0]; i < clause[1]; i++ {
			if blank[i] != '\n' {
				blank[i] = ' '
			}
		}
		src = blank
		chunks, _ = splitCell(src)
	}
	imports, decls, stmts, err := parseCell(s.in.FileSet(), src, chunks, m.line+1)
	if err != nil {
		return nil, err
	}
	if stmts != nil && len(stmts.List) > 0 {
		pos := s.in.FileSet().Position(stmts.List[0].Pos())
		return nil, magicErr(m, "%%%%deploy %s: cell:%d:%d: a statement; a %%%%deploy cell holds only imports and declarations "+
			"(the function host runs the function, not the cell): try the function in the next cell", a.name, pos.Line, pos.Column)
	}
	if !declaresFunc(decls, a.entry) {
		return nil, magicErr(m, "%%%%deploy %s: the cell declares no func %s, the function the host calls (--entry names another)", a.name, a.entry)
	}
	// The host sees only this cell: names of earlier cells must not be used.
	imported := map[string]bool{}
	if imports != nil {
		for _, id := range topNames(imports, nil, nil) {
			imported[id.Name] = true
		}
	}
	var need []string // imports the cell relies on without writing them
	seen := map[string]bool{}
	for _, u := range freeIdents(imports, decls, nil) {
		if seen[u.name] || imported[u.name] || types.Universe.Lookup(u.name) != nil {
			continue
		}
		seen[u.name] = true
		if u.qualifier {
			if p, ok := s.st.imports[u.name]; ok && !strings.HasPrefix(u.name, "_golem") {
				need = append(need, p)
				continue
			}
			if p, ok := stdPackageByName()[u.name]; ok {
				need = append(need, p)
				continue
			}
		}
		pos := s.in.FileSet().Position(u.pos)
		return nil, magicErr(m, "%%%%deploy %s: cell:%d:%d: %s is not declared in this cell; the function host sees only this cell: "+
			"declare %s here too", a.name, pos.Line, pos.Column, u.name, u.name)
	}
	if _, err := s.runGo(ctx, run, string(src), m.line+1, false); err != nil {
		return nil, err
	}
	source := deploySource(a.name, body, hasPackage, src, chunks, need)
	c := client.FromEnv()
	f, err := c.DeployRequest(a.name, api.DeployRequest{Source: source, Entry: entryField(a.entry), Limits: a.limits})
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			return nil, magicErr(m, "%%%%deploy %s: the function host at %s refused it: %s", a.name, c.URL, ce.Error())
		}
		return nil, magicErr(m, "%%%%deploy %s: cannot reach the function host at %s (GOLEM_URL): %v; start one with `golem serve` or set GOLEM_URL and GOLEM_API_KEY", a.name, c.URL, err)
	}
	return deployedBundle(c, f), nil
}

func entryField(entry string) string {
	if entry == "Handle" {
		return ""
	}
	return entry
}

// declaresFunc reports whether f declares a function (not a method) named name.
func declaresFunc(f *ast.File, name string) bool {
	if f == nil {
		return false
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
			return true
		}
	}
	return false
}

// deploySource is the Go file deployed for a %%deploy cell: the cell as written
// (with a package clause named after the function unless it has one), imports
// first, plus the imports the cell relied on the session for.
func deploySource(name, body string, hasPackage bool, src []byte, chunks []chunk, need []string) string {
	sort.Strings(need)
	var extra string
	if len(need) > 0 {
		extra = "import (\n"
		for _, p := range need {
			extra += "\t" + strconv.Quote(p) + "\n"
		}
		extra += ")\n\n"
	}
	if hasPackage {
		if extra == "" {
			return body
		}
		clause := packageLine.FindStringIndex(body)
		if clause == nil {
			return body
		}
		return body[:clause[1]] + "\n" + extra + body[clause[1]:]
	}
	pkg := strings.NewReplacer("-", "_").Replace(name)
	if !token.IsIdentifier(pkg) {
		pkg = "fn_" + pkg
	}
	out := "package " + pkg + "\n\n" + extra
	// Imports must come first in a Go file: the cell as written when they do,
	// else its imports and then its declarations.
	ordered := true
	sawDecl := false
	for _, c := range chunks {
		sawDecl = sawDecl || c.kind == chunkDecl
		if c.kind == chunkImport && sawDecl {
			ordered = false
		}
	}
	if ordered {
		return out + strings.TrimLeft(string(src), "\n")
	}
	for _, k := range []chunkKind{chunkImport, chunkDecl} {
		for _, c := range chunks {
			if c.kind == k {
				out += string(src[c.start:c.end]) + "\n\n"
			}
		}
	}
	return out
}

// deployedBundle shows a deployed function: its endpoint, signature and the
// curl lines that call it and submit a job.
func deployedBundle(c *client.Client, f *api.Function) display.Bundle {
	endpoint := c.URL + "/functions/" + url.PathEscape(f.Name)
	jobs := c.URL + "/jobs/" + url.PathEscape(f.Name)
	auth := ""
	if os.Getenv("GOLEM_API_KEY") != "" {
		auth = `-H "Authorization: Bearer $GOLEM_API_KEY" `
	}
	call := fmt.Sprintf("curl -sS %s-d @input.json %s", auth, endpoint)
	job := fmt.Sprintf("curl -sS %s-d @input.json %s", auth, jobs)
	limits := []string{}
	if f.Limits.TimeoutMS > 0 {
		limits = append(limits, "timeout "+(time.Duration(f.Limits.TimeoutMS)*time.Millisecond).String())
	}
	if f.Limits.MemoryMB > 0 {
		limits = append(limits, fmt.Sprintf("memory %d MiB", f.Limits.MemoryMB))
	}
	lim := strings.Join(limits, ", ")
	if lim == "" {
		lim = "the host's defaults"
	}
	text := fmt.Sprintf("deployed %s: %s\n  %s\n  limits: %s\n  call:  %s\n  job:   %s",
		f.Name, endpoint, f.Signature, lim, call, job)
	row := func(k, v string) string {
		return "<tr><th style=\"text-align:left\">" + k + "</th><td style=\"text-align:left\"><code>" + html.EscapeString(v) + "</code></td></tr>"
	}
	h := "<div><b>deployed " + html.EscapeString(f.Name) + "</b><table>" +
		row("endpoint", endpoint) + row("signature", f.Signature) + row("limits", lim) +
		row("call", call) + row("job", job) + "</table></div>"
	return display.Bundle{"text/plain": text, "text/html": h}
}
