//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

func startPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) > 0 {
		return errors.New("pinning to CPUs needs Linux: run with --pin ''")
	}
	return cmd.Start()
}

func pinSelf(cpus []int) error {
	if len(cpus) > 0 {
		return errors.New("pinning to CPUs needs Linux: run with --pin ''")
	}
	return nil
}

func allowedCPUs(int) string { return "?" }
