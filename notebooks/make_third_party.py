"""Write notebooks/third_party.ipynb: third-party Go modules in cells (issue 17).

`%get` pins gonum, gonum/plot and google/uuid in notebooks/go.mod and restarts the
kernel into a golem binary with their packages compiled in (cached under
notebooks/.golem/kernel); then a linear system with gonum/mat, statistics with
gonum/stat, a plot shown as PNG and SVG, a name-based UUID.

Run: .venv/bin/python notebooks/make_third_party.py   (tests/test_notebooks.py executes it with papermill)
"""
from nbgen import check, code, md, write

cells = [
    md("# Third-party Go modules in cells\n\n"
       "`%get` fetches packages from the Go module proxy and pins their modules in the `go.mod` next to "
       "this notebook, so a rerun (papermill in CI) gets the same versions. yaegi cannot interpret gonum "
       "from source, so golem compiles the packages into a new kernel binary (cached in `.golem/kernel`) "
       "and the kernel restarts into it after the cell: keep `%get` in the first cell, before any state "
       "you want to keep. A package without a version gets the version `go.mod` has, else the latest."),
    code("%get gonum.org/v1/gonum/mat@v0.17.0 gonum.org/v1/gonum/stat gonum.org/v1/plot@v0.17.0 "
         "gonum.org/v1/plot/plotter gonum.org/v1/plot/vg github.com/google/uuid@v1.6.0"),
    md("## Linear algebra with gonum/mat\nSolve $Ax = b$ and check the residual."),
    code('import "gonum.org/v1/gonum/mat"\n\n'
         'A := mat.NewDense(3, 3, []float64{4, 1, 0, 1, 3, 1, 0, 1, 2})\n'
         'b := mat.NewVecDense(3, []float64{1, 2, 3})\n'
         'var x mat.VecDense\n'
         'if err := x.SolveVec(A, b); err != nil {\n\tpanic(err)\n}\n'
         'fmt.Printf("x = %.4f\\n", mat.Formatted(&x, mat.Prefix("    ")))\n'
         'var r mat.VecDense\n'
         'r.MulVec(A, &x)\n'
         'r.SubVec(&r, b)\n'
         'fmt.Printf("residual %.1e\\n", mat.Norm(&r, 2))'),
    md("## Statistics with gonum/stat"),
    code('import "gonum.org/v1/gonum/stat"\n\n'
         'heights := []float64{1.62, 1.75, 1.80, 1.68, 1.91, 1.55}\n'
         'weights := []float64{55, 72, 80, 63, 95, 50}\n'
         'mean, std := stat.MeanStdDev(heights, nil)\n'
         'fmt.Printf("mean height %.3f m, std %.3f m\\n", mean, std)\n'
         'fmt.Printf("correlation with weight %.3f\\n", stat.Correlation(heights, weights, nil))'),
    md("## A plot with gonum/plot\n`WriterTo` renders it; `display.PNG` and `display.SVG` show it here."),
    code('import (\n\t"bytes"\n\t"math"\n\n'
         '\t"gonum.org/v1/plot"\n\t"gonum.org/v1/plot/plotter"\n\t"gonum.org/v1/plot/vg"\n)\n\n'
         'p := plot.New()\n'
         'p.Title.Text = "damped oscillation"\n'
         'p.X.Label.Text = "t"\n'
         'pts := make(plotter.XYs, 200)\n'
         'for i := range pts {\n'
         '\tt := float64(i) / 20\n'
         '\tpts[i].X, pts[i].Y = t, math.Exp(-t/3)*math.Cos(2*t)\n'
         '}\n'
         'line, err := plotter.NewLine(pts)\n'
         'if err != nil {\n\tpanic(err)\n}\n'
         'p.Add(line, plotter.NewGrid())\n'
         'render := func(format string) []byte {\n'
         '\tw, err := p.WriterTo(5*vg.Inch, 3*vg.Inch, format)\n'
         '\tif err != nil {\n\t\tpanic(err)\n\t}\n'
         '\tvar buf bytes.Buffer\n'
         '\tw.WriteTo(&buf)\n'
         '\treturn buf.Bytes()\n'
         '}\n'
         'display.PNG(render("png"))\n'
         'display.SVG(string(render("svg")))'),
    md("## One more module: google/uuid"),
    code('import "github.com/google/uuid"\n\n'
         'id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/golem-lm/golem"))\n'
         'fmt.Println(id, "version", id.Version())'),
]

write("third_party", cells)
