package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuSample is a reading of the machine's busy CPU time and of the time
// spent by this program and the server, in clock ticks (USER_HZ, 100 on
// Linux). The difference between two samples tells how much CPU other
// processes took during a point: a busy machine makes the figures noisy.
type cpuSample struct {
	busy, total, ours uint64
	ok                bool
}

func sampleCPU(serverPID int) cpuSample {
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
	self, ok1 := procTicks("self")
	srv, ok2 := procTicks(strconv.Itoa(serverPID))
	s.ours, s.ok = self+srv, ok1 && ok2
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
// processes other than this program and the server used between a and b.
func otherCPU(a, b cpuSample) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	other := float64(b.busy-a.busy) - float64(b.ours-a.ours)
	return max(0, 100*other/float64(b.total-a.total))
}

// loadAverage is the first field of /proc/loadavg, or -1.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
