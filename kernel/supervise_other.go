//go:build !unix

package kernel

import (
	"context"
	"errors"
	"io"
	"log"
)

// Environment variables of a supervised kernel (see the Unix Supervise).
const (
	StateEnv   = "GOLEM_KERNEL_STATE"
	RestartEnv = "GOLEM_KERNEL_RESTART"
	StderrEnv  = "GOLEM_KERNEL_STDERR"
)

// SuperviseConfig configures Supervise.
type SuperviseConfig struct {
	Command     []string
	Env         []string
	Connection  ConnectionInfo
	Stderr      io.Writer
	Log         *log.Logger
	MaxRestarts int
}

// CanSupervise reports whether Supervise works on this system.
const CanSupervise = false

// Supervise is supported on Unix only.
func Supervise(context.Context, SuperviseConfig) error {
	return errors.New("the kernel supervisor needs a Unix system")
}
