package cell

// Mixed cells.
//
// One yaegi v0.16.1 Eval cannot mix declarations and statements: a cell
// `type P struct{A int}; p := P{3}` fails ("expected declaration"), and imports
// must come first. A notebook cell mixes them freely. splitCell cuts the cell at
// top-level tokens (not a parse, so that a cell with a syntax error still gets the
// parser's error at the right line) into imports, declarations and statements;
// parseCell (session.go) parses each kind from a copy of the cell with the other
// chunks blanked out, so that positions stay the cell's. The imports run first,
// then the declarations as one file (functions may refer to each other and to
// types in any order), then the statements in order (run.go).

import (
	"go/scanner"
	"go/token"
)

// chunkKind classifies a top-level piece of a cell.
type chunkKind int

const (
	chunkStmt   chunkKind = iota // statements, run in order in the global scope
	chunkImport                  // import declarations
	chunkDecl                    // type, func, var and const declarations (package level)
)

// chunk is a byte range [start, end) of a cell holding one kind of top-level code.
type chunk struct {
	kind       chunkKind
	start, end int
}

// splitCell cuts cell source into top-level imports, declarations and statements,
// so that a cell may mix them in any order (one yaegi Eval cannot). It works on
// tokens, not a parse, so it also succeeds on code that does not parse yet; the
// parser reports errors later with the cell's own line numbers.
// isProgram reports a cell that starts with a package clause.
func splitCell(src []byte) (chunks []chunk, isProgram bool) {
	type tok struct {
		pos int
		tok token.Token
		lit string
	}
	var toks []tok
	fset := token.NewFileSet()
	f := fset.AddFile("cell", -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, func(token.Position, string) {}, 0)
	for {
		p, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{f.Offset(p), t, lit})
	}
	if len(toks) > 0 && toks[0].tok == token.PACKAGE {
		return nil, true
	}
	end := func(i int) int { // byte offset just past token i
		t := toks[i]
		if t.tok == token.SEMICOLON && t.lit == "\n" {
			return t.pos
		}
		n := len(t.lit)
		if n == 0 {
			n = len(t.tok.String())
		}
		return t.pos + n
	}
	add := func(k chunkKind, from, to int) {
		if from >= to {
			return
		}
		if n := len(chunks); n > 0 && chunks[n-1].kind == k && k == chunkStmt {
			chunks[n-1].end = to
			return
		}
		chunks = append(chunks, chunk{k, from, to})
	}
	// skipStmt returns the index of the token that ends the top-level statement or
	// declaration starting at i (its semicolon at depth 0, or the last token).
	skipStmt := func(i int) int {
		depth := 0
		for ; i < len(toks); i++ {
			switch toks[i].tok {
			case token.LPAREN, token.LBRACE, token.LBRACK:
				depth++
			case token.RPAREN, token.RBRACE, token.RBRACK:
				depth--
			case token.SEMICOLON:
				if depth <= 0 {
					return i
				}
			}
		}
		return len(toks) - 1
	}
	for i := 0; i < len(toks); {
		t := toks[i]
		kind := chunkStmt
		switch t.tok {
		case token.IMPORT:
			kind = chunkImport
		case token.TYPE, token.VAR, token.CONST:
			kind = chunkDecl
		case token.FUNC:
			if isFuncDecl(len(toks), i, func(j int) token.Token { return toks[j].tok }) {
				kind = chunkDecl
			}
		}
		j := skipStmt(i)
		add(kind, t.pos, end(j))
		i = j + 1
	}
	return chunks, false
}

// isFuncDecl tells a function or method declaration (`func f(`, `func (r T) M(`)
// from a statement that starts with a function literal (`func() { … }()`).
func isFuncDecl(n, i int, at func(int) token.Token) bool {
	if i+1 >= n {
		return false
	}
	switch at(i + 1) {
	case token.IDENT:
		return true
	case token.LPAREN:
		depth := 0
		for j := i + 1; j < n; j++ {
			switch at(j) {
			case token.LPAREN:
				depth++
			case token.RPAREN:
				depth--
				if depth == 0 {
					return j+2 < n && at(j+1) == token.IDENT && (at(j+2) == token.LPAREN || at(j+2) == token.LBRACK)
				}
			}
		}
	}
	return false
}

// blankOut returns a copy of src where every byte outside the kept chunks is
// replaced by a space (newlines stay), so positions in the copy are positions in src.
func blankOut(src []byte, chunks []chunk, keep func(chunkKind) bool) []byte {
	out := make([]byte, len(src))
	for i, b := range src {
		if b == '\n' {
			out[i] = '\n'
		} else {
			out[i] = ' '
		}
	}
	for _, c := range chunks {
		if keep(c.kind) {
			copy(out[c.start:c.end], src[c.start:c.end])
		}
	}
	return out
}
