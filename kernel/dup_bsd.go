//go:build unix && !linux

package kernel

import "syscall"

func dup2(oldfd, newfd int) error { return syscall.Dup2(oldfd, newfd) }

// growPipe cannot change the size of a pipe on this system.
func growPipe(uintptr) int { return 0 }
