package gpt

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBLASChoice checks, each in a fresh process (OpenBLAS picks its kernels once, when it
// loads), how GOLEM_BLAS_CORE chooses the kernel set and that a pinned OPENBLAS_CORETYPE
// only counts with GOLEM_BLAS_CORE=env.
func TestBLASChoice(t *testing.T) {
	if os.Getenv("GOLEM_BLAS_CHILD") == "1" {
		desc, err := BLAS()
		fmt.Printf("desc=%s\nerr=%v\n", desc, err)
		if err == nil {
			// The kernels multiply correctly whichever set was chosen.
			a := []float32{1, 2, 3, 4, 5, 6}
			b := []float32{1, 0, 0, 1, 1, 1}
			c := make([]float32, 4)
			sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
			fmt.Printf("product=%v\n", c)
		}
		return
	}
	run := func(env ...string) (desc, errText, product string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestBLASChoice$")
		cmd.Env = append(os.Environ(), "GOLEM_BLAS_CHILD=1")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %v: %v\n%s", env, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "desc="); ok {
				desc = v
			} else if v, ok := strings.CutPrefix(line, "err="); ok {
				errText = v
			} else if v, ok := strings.CutPrefix(line, "product="); ok {
				product = v
			}
		}
		return
	}
	const want = "[4 5 10 11]"

	auto, errText, product := run("GOLEM_BLAS_CORE=", "OPENBLAS_CORETYPE=Haswell")
	if errText != "<nil>" || product != want || !strings.Contains(auto, "OpenBLAS's detection of this CPU") {
		t.Fatalf("auto: %q %q %q", auto, errText, product)
	}
	t.Logf("auto: %s", auto)

	pinned, errText, product := run("GOLEM_BLAS_CORE=env", "OPENBLAS_CORETYPE=Haswell")
	if errText != "<nil>" || product != want || !strings.Contains(pinned, "Haswell kernels") {
		t.Fatalf("env: %q %q %q", pinned, errText, product)
	}

	chosen, errText, product := run("GOLEM_BLAS_CORE=haswell")
	if errText != "<nil>" || product != want || !strings.Contains(chosen, "Haswell kernels (GOLEM_BLAS_CORE=haswell)") {
		t.Fatalf("chosen: %q %q %q", chosen, errText, product)
	}

	_, errText, _ = run("GOLEM_BLAS_CORE=NoSuchCore")
	if !strings.Contains(errText, `GOLEM_BLAS_CORE="NoSuchCore"`) || !strings.Contains(errText, "does not provide that kernel set") {
		t.Fatalf("bogus core: %q", errText)
	}
}
