package cell_test

import (
	"context"
	"fmt"
	"os"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/cell"
)

// Cells share one interpreter: what one cell defines, the next uses.
func ExampleSession_Execute() {
	s, err := cell.New(cell.Options{Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.Execute(ctx, `import "fmt"
type Point struct{ X, Y int }
p := Point{3, 4}
fmt.Println("hello from a cell")`)
	b, err := s.Execute(ctx, "xs := []int{p.Y, p.X, 1}\nslices.Sort(xs)\nfor i := range 3 {\n\txs[i] *= 10\n}\nxs")
	fmt.Println(b["text/plain"], err)
	_, err = s.Execute(ctx, "var m map[string]int\nm[\"x\"] = 1")
	fmt.Println(err)
	// Output:
	// hello from a cell
	// [10 30 40] <nil>
	// Panic: assignment to entry in nil map
}

// Completion and inspection answer from the live interpreter.
func ExampleSession_Complete() {
	s, _ := cell.New(cell.Options{})
	defer s.Close()
	matches, start, end := s.Complete("fmt.Prin", 8)
	fmt.Println(matches, start, end)
	status, indent := s.IsComplete("for i := range 3 {")
	fmt.Printf("%s %q\n", status, indent)
	// Output:
	// [Print Printf Println] 4 8
	// incomplete "\t"
}

// The function host runs deployed source with the same dialect as cells.
func ExampleRewrite() {
	src, err := cell.Rewrite(`package main

func Total(n int) int {
	t := 0
	for i := range n {
		t += max(i, 2)
	}
	return t
}
`)
	if err != nil {
		panic(err)
	}
	in, err := cell.NewInterpreter(interp.Options{})
	if err != nil {
		panic(err)
	}
	if _, err := in.Eval(src); err != nil {
		panic(err)
	}
	v, err := in.Eval("Total(4)")
	fmt.Println(v, err)
	// Output: 9 <nil>
}
