//go:build unix && !linux

package kernel

import "syscall"

// childAttr puts the kernel in its own process group; it watches its parent
// itself (this system has no parent-death signal).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// residentBytes is not sampled on this system.
func residentBytes(int) uint64 { return 0 }
