package proc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ: /proc times are in 1/100 s.
const clockTicks = 100

// CPU is the CPU time (user and system) used by the process group: the
// program and every process it started (nginx's workers, socat's
// per-connection children; children that exited are in their parent's
// cutime and cstime).
func (p *Proc) CPU() (time.Duration, error) {
	pgid := p.Pid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		group, t, err := readStat(pid)
		if err != nil || group != pgid {
			continue // gone meanwhile, or another group
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// PidCPU is the CPU time used by process pid and its exited children: for
// a program this package did not start (a container's server).
func PidCPU(pid int) (time.Duration, error) {
	_, ticks, err := readStat(pid)
	return time.Duration(ticks) * time.Second / clockTicks, err
}

func readStat(pid int) (pgrp int, ticks int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(data))
}

// parseStat reads a process's group and its utime+stime+cutime+cstime
// from /proc/<pid>/stat. The command name, in parentheses, may hold spaces
// and parentheses: fields are counted after the last ')'.
func parseStat(stat string) (pgrp int, ticks int64, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	// state ppid pgrp session tty tpgid flags minflt cminflt majflt
	// cmajflt utime(11) stime cutime cstime ...
	f := strings.Fields(stat[i+1:])
	if len(f) < 15 {
		return 0, 0, errors.New("short /proc stat")
	}
	if pgrp, err = strconv.Atoi(f[2]); err != nil {
		return 0, 0, fmt.Errorf("stat: %w", err)
	}
	for _, k := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("stat: %w", err)
		}
		ticks += v
	}
	return pgrp, ticks, nil
}

// RSS is the process's resident memory in bytes.
func (p *Proc) RSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p.Pid()))
	if err != nil {
		return 0, err
	}
	return parseStatmRSS(string(data), os.Getpagesize())
}

// parseStatmRSS reads the resident field (the second, in pages) of
// /proc/<pid>/statm.
func parseStatmRSS(statm string, pageSize int) (int64, error) {
	f := strings.Fields(statm)
	if len(f) < 2 {
		return 0, errors.New("short /proc statm")
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm: %w", err)
	}
	return pages * int64(pageSize), nil
}

// OpenFDs counts the process's open file descriptors.
func (p *Proc) OpenFDs() (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	return len(entries), err
}

// Sched is the CPU time the process's threads ran and the time they spent
// runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat), summed.
// Much waiting means the host is busier than the process.
func (p *Proc) Sched() (ran, waited time.Duration, err error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.Pid()))
	if err != nil {
		return 0, 0, err
	}
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", p.Pid(), t.Name()))
		if err != nil {
			continue // the thread ended meanwhile
		}
		r, w, err := parseSchedstat(string(data))
		if err != nil {
			return 0, 0, err
		}
		ran += r
		waited += w
	}
	return ran, waited, nil
}

// parseSchedstat reads "run_ns wait_ns timeslices".
func parseSchedstat(s string) (ran, waited time.Duration, err error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, errors.New("short schedstat")
	}
	r, err1 := strconv.ParseInt(f[0], 10, 64)
	w, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	return time.Duration(r), time.Duration(w), nil
}
