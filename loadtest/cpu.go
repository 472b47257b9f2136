package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// msPerTick is the length of a clock tick of /proc (USER_HZ is 100 on
// every Linux architecture Go runs on).
const msPerTick = 10.0

// cpuSample is a reading of the machine's busy CPU time and of the time
// spent by this program and its servers, in clock ticks (USER_HZ). The difference between two samples tells how much CPU other
// processes took during a point: a busy machine makes the figures noisy.
type cpuSample struct {
	busy, total, ours uint64
	ok                bool
}

func sampleCPU(pids ...int) cpuSample {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	self, ok := procTicks("self")
	s.ours, s.ok = self, ok
	for _, pid := range pids {
		t, ok := procTicks(strconv.Itoa(pid))
		s.ours += t
		s.ok = s.ok && ok
	}
	return s
}

// procTicks is a process's utime+stime from /proc/<pid>/stat.
func procTicks(pid string) (uint64, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%s/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may hold spaces: skip past it.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return ut + st, true
}

// otherCPU is the share of the machine's CPU capacity (0..100 %) that
// processes other than this program and its servers used between a and b.
func otherCPU(a, b cpuSample) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	other := float64(b.busy-a.busy) - float64(b.ours-a.ours)
	return max(0, 100*other/float64(b.total-a.total))
}

// loadAverage is the 1, 5 and 15 minute load averages of /proc/loadavg,
// or nil.
func loadAverage() []float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return nil
	}
	var la []float64
	for _, s := range f[:3] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		la = append(la, v)
	}
	return la
}

// machine describes this machine: CPU model, CPUs, memory, kernel.
func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					mem = fmt.Sprintf(", %.0f GiB memory", kb/(1<<20))
				}
			}
		}
	}
	kernel := ""
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(raw))
	}
	return fmt.Sprintf("%s, %d CPUs%s%s, %s", model, runtime.NumCPU(), mem, kernel, runtime.Version())
}
