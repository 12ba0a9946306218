//go:build unix

package kernel

import (
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
)

// captureFDs replaces descriptors 1 and 2 with pipes read by s (errPipe, when
// set, is the pipe for descriptor 2). It returns a file on the original standard
// error (for the kernel's own log and crash reports) and a function that puts the
// original descriptors back.
func captureFDs(s *streams, errPipe [2]*os.File) (*os.File, func(), error) {
	var restores []func()
	restore := func() {
		for i := len(restores) - 1; i >= 0; i-- {
			restores[i]()
		}
	}
	var origErr *os.File
	for _, t := range []struct {
		fd  int
		dst *forwarder
		set **fdCapture
	}{{1, s.out, &s.capOut}, {2, s.err, &s.capErr}} {
		saved, err := syscall.Dup(t.fd)
		if err != nil {
			restore()
			return nil, nil, fmt.Errorf("capture fd %d: dup: %w", t.fd, err)
		}
		syscall.CloseOnExec(saved)
		r, w, err := os.Pipe()
		if t.fd == 2 && errPipe[0] != nil && errPipe[1] != nil {
			if err == nil {
				r.Close()
				w.Close()
			}
			r, w, err = errPipe[0], errPipe[1], nil
		}
		if err != nil {
			syscall.Close(saved)
			restore()
			return nil, nil, fmt.Errorf("capture fd %d: %w", t.fd, err)
		}
		growPipe(w.Fd())
		if err := dup2(int(w.Fd()), t.fd); err != nil {
			syscall.Close(saved)
			r.Close()
			w.Close()
			restore()
			return nil, nil, fmt.Errorf("capture fd %d: dup2: %w", t.fd, err)
		}
		w.Close() // the descriptor t.fd is now the pipe's only write end
		c := &fdCapture{fd: t.fd, r: r, dst: t.dst, synced: make(chan struct{}, 1)}
		*t.set = c
		fd := t.fd
		if fd == 2 {
			// saved stays open for the kernel's log, owned by origErr.
			origErr = os.NewFile(uintptr(saved), "stderr")
			c.fatal = origErr
			restores = append(restores, func() { dup2(saved, fd) })
		} else {
			restores = append(restores, func() {
				dup2(saved, fd) // the pipe's last write end closes: the reader sees EOF
				syscall.Close(saved)
			})
		}
		go c.read()
	}
	// A fatal error of the Go runtime must reach the real stderr, not the dead pipe.
	_ = debug.SetCrashOutput(origErr, debug.CrashOptions{}) // best effort
	return origErr, restore, nil
}

func writeFD(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// InheritedStderrPipe opens the pipe that Supervise passes to the kernel for
// descriptor 2 (see Config.StderrPipe): its read end is descriptor fd, its write
// end fd+1. The read end is made non-blocking, so that the kernel reads it through
// Go's poller as it reads a pipe of its own.
func InheritedStderrPipe(fd int) ([2]*os.File, error) {
	if fd < 3 {
		return [2]*os.File{}, fmt.Errorf("stderr pipe descriptor %d: want 3 or more", fd)
	}
	for _, d := range []int{fd, fd + 1} {
		var st syscall.Stat_t
		if err := syscall.Fstat(d, &st); err != nil {
			return [2]*os.File{}, fmt.Errorf("stderr pipe descriptor %d: %w", d, err)
		}
		syscall.CloseOnExec(d)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return [2]*os.File{}, fmt.Errorf("stderr pipe descriptor %d: %w", fd, err)
	}
	return [2]*os.File{os.NewFile(uintptr(fd), "stderr-capture"), os.NewFile(uintptr(fd+1), "stderr-capture")}, nil
}
