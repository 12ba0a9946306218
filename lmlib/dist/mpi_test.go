//go:build mpi

package dist

import (
	"math"
	"testing"
	"unsafe"
)

// TestUnderMPI runs in every rank of `mpirun -np N dist.test` (TestMPIRanks
// starts it): the collectives give every rank the same, exact results.
func TestUnderMPI(t *testing.T) {
	if _, _, ok := UnderMPI(); !ok {
		t.Skip("not under mpirun (TestMPIRanks runs this test in 3 ranks)")
	}
	c, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, n := c.Rank(), c.Size()
	if n < 2 {
		t.Fatalf("%d ranks", n)
	}
	// Sums of small integers are exact in float32.
	buf := []float32{float32(r), 1, float32(r * r)}
	if err := c.AllreduceSum(buf); err != nil {
		t.Fatal(err)
	}
	var s, s2 float32
	for k := 0; k < n; k++ {
		s, s2 = s+float32(k), s2+float32(k*k)
	}
	if buf[0] != s || buf[1] != float32(n) || buf[2] != s2 {
		t.Fatalf("rank %d: AllreduceSum = %v, want [%v %v %v]", r, buf, s, n, s2)
	}
	d := []float64{0.5 * float64(r)}
	if err := c.AllreduceSum64(d); err != nil || d[0] != 0.5*float64(s) {
		t.Fatalf("rank %d: AllreduceSum64 = %v %v", r, d, err)
	}
	msg := []byte("not yet")
	if r == 1 {
		msg = []byte("rank 1!")
	}
	if err := c.Broadcast(msg, 1); err != nil || string(msg) != "rank 1!" {
		t.Fatalf("rank %d: Broadcast = %q %v", r, msg, err)
	}
	if err := c.Broadcast(msg, n); err == nil {
		t.Fatalf("broadcast from rank %d of %d accepted", n, n)
	}
	// GradSync with buckets of 7 floats over 100: the mean, exactly, everywhere,
	// and the same bits on every rank (rank 0's result broadcast and compared).
	g := make([]float32, 100)
	for i := range g {
		g[i] = float32(i) * float32(r+1) / 8
	}
	sync := NewGradSync(c, 28)
	if b := sync.Buckets(len(g)); len(b) != 15 || b[14] != [2]int{98, 100} {
		t.Fatalf("buckets %v", b)
	}
	if err := sync.Mean(g); err != nil {
		t.Fatal(err)
	}
	for i, v := range g {
		want := float64(i) / 8 * float64(n+1) / 2
		if math.Abs(float64(v)-want) > 1e-5*math.Max(1, want) {
			t.Fatalf("rank %d: mean[%d] = %v, want %v", r, i, v, want)
		}
	}
	mine := append([]float32(nil), g...)
	if err := c.Broadcast(unsafe.Slice((*byte)(unsafe.Pointer(&g[0])), 4*len(g)), 0); err != nil {
		t.Fatal(err)
	}
	for i := range g {
		if g[i] != mine[i] {
			t.Fatalf("rank %d: mean[%d] = %v, rank 0 has %v", r, i, mine[i], g[i])
		}
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
}
