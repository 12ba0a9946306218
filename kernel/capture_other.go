//go:build !unix

package kernel

import (
	"errors"
	"os"
)

func captureFDs(*streams, [2]*os.File) (*os.File, func(), error) {
	return nil, nil, errors.New("capturing file descriptors 1 and 2 is supported on Unix only")
}

func writeFD(int, []byte) error { return errors.New("not supported") }

// InheritedStderrPipe is supported on Unix only.
func InheritedStderrPipe(int) ([2]*os.File, error) {
	return [2]*os.File{}, errors.New("an inherited stderr pipe is supported on Unix only")
}
