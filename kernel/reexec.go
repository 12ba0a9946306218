package kernel

import (
	"fmt"
	"os"
	"time"
)

// Reexecer is an Interpreter that may ask, after a cell, to be replaced by
// another kernel binary: a %get that built a golem binary with third-party
// packages compiled in (package cell/gomod).
type Reexecer interface {
	// ReexecBinary returns the binary to restart into, once; "" for none.
	ReexecBinary() string
}

// ReexecStatus is the exit status by which a supervised kernel asks Supervise to
// start the binary named in ReexecPath(statePath) instead of itself.
const ReexecStatus = 75

// ReexecPrefix starts the RestartEnv reason of a kernel started that way.
const ReexecPrefix = "reexec: "

// ReexecPath is the file, next to the state file, naming the binary to restart into.
func ReexecPath(statePath string) string { return statePath + ".exec" }

// reexecIfAsked ends the kernel, after the reply and idle status of the request
// just served, when its interpreter asked to be replaced by another binary.
func (k *kernel) reexecIfAsked() {
	in, err := k.interpreter()
	if err != nil || in == nil {
		return
	}
	r, ok := in.(Reexecer)
	if !ok {
		return
	}
	bin := r.ReexecBinary()
	if bin == "" {
		return
	}
	if k.cfg.StatePath == "" {
		k.log.Printf("a cell asked to restart into %s, but this kernel runs without its supervisor (--no-supervisor): start that binary by hand", bin)
		return
	}
	if err := os.WriteFile(ReexecPath(k.cfg.StatePath), []byte(bin), 0o600); err != nil {
		k.log.Printf("restart into %s: %v", bin, err)
		return
	}
	k.log.Printf("restarting into %s", bin)
	time.Sleep(20 * time.Millisecond) // let the reply and idle status leave, as shutdown does
	os.Exit(ReexecStatus)
}

// reexecNotice is the stderr notice of the first cell after a restart into another binary.
func reexecNotice(bin string) string {
	return fmt.Sprintf("golem: the kernel restarted into %s (asked by %%get): the variables, imports, functions and types of earlier cells are gone; "+
		"history and the execution count are kept.\n", bin)
}
