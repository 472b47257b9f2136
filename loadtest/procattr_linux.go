package main

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill the server if this program dies
// without running its deferred stop (a crash or SIGKILL).
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
